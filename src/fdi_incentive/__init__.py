"""fdi-incentive: exact, explained cash incentives for foreign investment (Chongqing first).

    >>> from fdi_incentive import assess, Project
    >>> result = assess(Project.for_year(2024, paid_in="15000000", sector="services"), fx="7.2")
    >>> str(result.total_incentive_cny)
    '2160000.00'
"""

TYPE_CHECKING = False  # (not typing's: importing typing at start-up takes time a Ctrl-C may land in; type checkers read it alike)
if TYPE_CHECKING:  # what type checkers and editors see; at run time each name is imported when first used
    from .assessing import assess
    from .comparing import compare
    from .engine import evaluate_year
    from .errors import FdiError, FxError, InputError, PolicyError
    from .fx import EmbeddedECB, FixedRate, Quote, RateChain, RateTable
    from .language import set_language, using
    from .industry import Classification, classify
    from .models import Arrival, Assessment, Project, YearResult
    from .policy import LoadedPolicy, Policy, bundled_policies, get_policy, load_policy_file, policy_for_year

__version__ = "0.1.0"

__all__ = [
    "Arrival", "Assessment", "Classification", "EmbeddedECB", "FdiError", "FixedRate", "FxError", "InputError",
    "LoadedPolicy", "Policy", "PolicyError", "Project", "Quote", "RateChain", "RateTable", "YearResult",
    "assess", "bundled_policies", "classify", "compare", "evaluate_year", "get_policy", "load_policy_file", "policy_for_year",
    "set_language", "using", "__version__",
]

# public name -> the module that defines it. Imported on first use (PEP 562), so `fdi batch`,
# which needs neither the engine nor the models of `fdi calc`, does not build them (~0.1 s).
_HOMES = {
    "assess": "assessing", "compare": "comparing", "evaluate_year": "engine",
    "FdiError": "errors", "FxError": "errors", "InputError": "errors", "PolicyError": "errors",
    "EmbeddedECB": "fx", "FixedRate": "fx", "Quote": "fx", "RateChain": "fx", "RateTable": "fx",
    "Classification": "industry", "classify": "industry",
    "Arrival": "models", "Assessment": "models", "Project": "models", "YearResult": "models",
    "LoadedPolicy": "policy", "Policy": "policy", "bundled_policies": "policy", "get_policy": "policy",
    "load_policy_file": "policy", "policy_for_year": "policy",
    "set_language": "language", "using": "language",
}


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
