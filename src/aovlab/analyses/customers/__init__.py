"""Customer analyses: the RFM summary, customer lifetime value (and, with them, cohorts,
segments and the hold-out check). One package, so that they share the summary; siblings
of the other analyses, which they never import."""

from .clv import MODELS, clv
from .cohorts import cohorts
from .holdout import holdout
from .segments import segments
from .summary import Summary, rfm, summarise

__all__ = ["MODELS", "Summary", "clv", "cohorts", "holdout", "rfm", "segments", "summarise"]
