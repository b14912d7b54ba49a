"""Customer models: pure maths on an RFM summary, scikit-learn style estimators.

One file per model, each citing its equations; log-space likelihoods; deterministic
maximum-likelihood fits with standard errors from the Hessian. More models (modified
BG/NBD, Gamma-Gamma) and the analyses that feed them come with issue #15.
"""

from .base import CustomerModel, compress
from .beta_geo import BetaGeo, checked_summary, guarded_hyp2f1
from .pareto_nbd import ParetoNBD

__all__ = ["BetaGeo", "CustomerModel", "ParetoNBD", "checked_summary", "compress", "guarded_hyp2f1"]
