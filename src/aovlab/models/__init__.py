"""Customer models: pure maths on an RFM summary, scikit-learn style estimators.

One file per model, each citing its equations; log-space likelihoods; deterministic
maximum-likelihood fits with standard errors from the Hessian. The analyses that
feed them from a workspace come with issue #15.
"""

from .base import CustomerModel, compress
from .beta_geo import BetaGeo, checked_summary, guarded_hyp2f1
from .gamma_gamma import GammaGamma
from .modified_beta_geo import ModifiedBetaGeo
from .pareto_nbd import ParetoNBD

__all__ = ["BetaGeo", "CustomerModel", "GammaGamma", "ModifiedBetaGeo", "ParetoNBD",
           "checked_summary", "compress", "guarded_hyp2f1"]
