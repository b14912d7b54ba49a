"""A/B experiments: ``aovlab.experiments.compare_means(control, treatment, relative=...)``
tests a lift from sufficient statistics computed anywhere (:class:`aovlab.stats.Moments`:
n, Σx, Σx²), as GrowthBook's gbstats does — Welch intervals and p-values, the relative lift
by the delta method, edge cases as coded results; ``compare_means_sequential`` (an
always-valid interval for peeking: a normal-mixture confidence sequence); ``cuped`` (the
same on CUPED-adjusted metrics, from :class:`PairedMoments` with a pre-exposure covariate);
``holm`` (several variants' p-values adjusted), ``chance_to_beat`` (P(lift > 0));
``sample_ratio`` (the sample-ratio-mismatch χ² check), ``power`` and ``sample_size`` (a
two-arm test of a mean, from its variance per unit). The workspace analysis (assignments,
AOV at the randomisation unit, CUPED) builds on them.

>>> from aovlab.stats import Moments
>>> r = compare_means(Moments(3407, 1396.87, 52377.9767), Moments(3461, 2422.7, 134698.29))
>>> round(r.lift, 5), round(r.p, 5)
(0.70732, 0.06191)
"""

from .stats.compare import (
    Comparison,
    PairedMoments,
    chance_to_beat,
    compare_means,
    compare_means_sequential,
    cuped,
    holm,
)
from .stats.power import SampleRatio, power, sample_ratio, sample_size

__all__ = ["Comparison", "PairedMoments", "SampleRatio", "chance_to_beat", "compare_means",
           "compare_means_sequential", "cuped", "holm", "power", "sample_ratio",
           "sample_size"]
