"""fdi-incentive: exact, explained cash incentives for foreign investment (Chongqing first).

    >>> from fdi_incentive import assess, Project
    >>> result = assess(Project.for_year(2024, paid_in="15000000", sector="services"), fx="7.2")
    >>> str(result.total_incentive_cny)
    '2160000.00'
"""

from .engine import assess, evaluate_year
from .errors import FdiError, FxError, InputError, PolicyError
from .fx import EmbeddedECB, FixedRate, Quote, RateChain, RateTable
from .industry import Classification, classify
from .models import Arrival, Assessment, Project, YearResult
from .policy import LoadedPolicy, Policy, bundled_policies, get_policy, load_policy_file, policy_for_year

__version__ = "0.1.0"

__all__ = [
    "Arrival", "Assessment", "Classification", "EmbeddedECB", "FdiError", "FixedRate", "FxError", "InputError",
    "LoadedPolicy", "Policy", "PolicyError", "Project", "Quote", "RateChain", "RateTable", "YearResult",
    "assess", "bundled_policies", "classify", "evaluate_year", "get_policy", "load_policy_file", "policy_for_year",
    "__version__",
]
