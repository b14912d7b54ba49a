"""Customer models: pure maths on an RFM summary, scikit-learn style estimators.

One file per model, each citing its equations; log-space likelihoods; deterministic
maximum-likelihood fits with standard errors from the Hessian. ``aovlab.clv`` feeds them
from a workspace.
"""

from .base import CustomerModel, compress
from .beta_geo import BetaGeo, guarded_hyp2f1
from .gamma_gamma import GammaGamma
from .modified_beta_geo import ModifiedBetaGeo
from .pareto_nbd import ParetoNBD
from .repeat import RepeatPurchaseModel, checked_summary, nbd_log_likelihood

__all__ = ["BetaGeo", "CustomerModel", "GammaGamma", "ModifiedBetaGeo", "ParetoNBD",
           "RepeatPurchaseModel", "checked_summary", "compress", "guarded_hyp2f1",
           "nbd_log_likelihood"]
