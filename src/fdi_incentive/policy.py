"""Policy files: their schema, strict loading, and choosing the version in force for a year.

A policy is data with citations (see ``policies/*.toml``). This module validates
and loads it; it never computes a payout.
"""


import hashlib
import tomllib
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from .errors import PolicyError
from .text import quoted

Category = Literal["manufacturing", "real_estate", "finance", "quasi_finance", "other"]
Kind = Literal["new", "capital_increase"]
ContributionType = Literal["equity", "reinvested_profit", "shareholder_loan"]
# how a kind and a contribution type may be spelt in input (after `industry.normalise_name`)
KIND_NAMES = {"new": "new", "capital_increase": "capital_increase", "新设": "new", "新项目": "new", "增资": "capital_increase"}
TYPE_NAMES = {
    "equity": "equity", "reinvested_profit": "reinvested_profit", "shareholder_loan": "shareholder_loan",
    "loan": "shareholder_loan", "利润再投资": "reinvested_profit", "外方股东贷款": "shareholder_loan",
    "货币出资": "equity", "股权出资": "equity",  # (cash paid in as registered capital, as ledgers name it)
}
Reading = Literal["converted", "nominal"]
RoundingMode = Literal["half_up", "half_even", "down", "up"]


def _exact_decimal(value: Any) -> Any:
    """Accept numbers written as strings or integers; refuse binary floats, which are not exact."""
    if isinstance(value, float):
        raise ValueError(f'write the number as a string so it stays exact, e.g. "{value!r}" in quotes')
    if isinstance(value, bool):
        raise ValueError("expected a number written as a string, e.g. \"0.02\"")
    return value


ExactDecimal = Annotated[Decimal, BeforeValidator(_exact_decimal), Field(allow_inf_nan=False)]
PositiveDecimal = Annotated[ExactDecimal, Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Source(_Strict):
    """Where the rule comes from and how far it can be trusted."""

    title: str
    title_en: str | None = None
    issuer: str
    issued: date | None = None
    document_number: str | None = None
    url: str
    quoted_by: str | None = None
    reliability: Literal["official", "official_restatement", "secondary", "unverified"]
    checked: date
    clause: str = Field(min_length=1)


class Effective(_Strict):
    from_: date = Field(alias="from")
    to: date | None = None
    citation: str

    @model_validator(mode="after")
    def _ordered(self) -> "Effective":
        if self.to is not None and self.to < self.from_:
            raise ValueError(f"'to' ({self.to}) is before 'from' ({self.from_}); write the end date after the start")
        return self

    def covers(self, year: int) -> bool:
        return self.from_.year <= year and (self.to is None or year <= self.to.year)


class Base(_Strict):
    currency: Literal["USD"]
    period: Literal["calendar_year"]
    kinds: list[Kind] = Field(min_length=1)
    counts: list[Literal["equity", "reinvested_profit"]] = Field(min_length=1)
    excludes: list[Literal["shareholder_loan"]] = []
    citation: str


# How the law says each comparator: 超过 is "over" (strict), 以上 is "at least" (inclusive).
COMPARATOR_WORDS = {"gt": "over", "ge": "at least"}


class Threshold(_Strict):
    amount: PositiveDecimal
    currency: Literal["USD"]
    comparator: Literal["gt", "ge"] = Field(description="gt for 超过 (over, strict); ge for 以上/及以上 (inclusive)")

    def passed_by(self, amount: Decimal) -> bool:
        return amount > self.amount if self.comparator == "gt" else amount >= self.amount

    @property
    def words(self) -> str:
        return COMPARATOR_WORDS[self.comparator]


class Tier(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    label: str
    categories: list[Category] = Field(description="empty: every category not excluded")
    threshold: Threshold
    rate: PositiveDecimal = Field(le=1)
    rate_type: Literal["floor", "exact", "ceiling"]
    citation: str

    def applies_to(self, category: str) -> bool:
        return not self.categories or category in self.categories


class Exclusions(_Strict):
    categories: list[Category] = []
    codes: list[Annotated[str, Field(pattern=r"^[A-T]\d{0,4}$")]] = []
    citation: str

    def exclude(self, category: str, code: str | None) -> bool:
        """Excluded by category, or by a GB/T code listed here (a code prefix matches its sub-codes)."""
        if category in self.categories:
            return True
        return code is not None and any(code.startswith(prefix) for prefix in self.codes)


class Stacking(_Strict):
    mode: Literal["best"]
    citation: str


class Cap(_Strict):
    amount: PositiveDecimal | None = None
    currency: Literal["CNY"] = "CNY"
    scope: Literal["project_year"] = "project_year"
    citation: str


class Conversion(_Strict):
    default: Reading
    citation: str


class Rounding(_Strict):
    quantum: PositiveDecimal
    mode: RoundingMode
    usd_quantum: PositiveDecimal
    citation: str


class Caveat(_Strict):
    id: str
    text: str


class Policy(_Strict):
    """One version of one jurisdiction's reward rule, with its sources and caveats."""

    schema_version: Literal[1]
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    title_zh: str | None = None
    jurisdiction: str
    payout_currency: Literal["CNY"]
    effective: Effective
    source: Source
    base: Base
    tiers: list[Tier] = Field(min_length=1)
    exclusions: Exclusions
    stacking: Stacking
    cap: Cap
    conversion: Conversion
    rounding: Rounding
    caveats: list[Caveat] = []

    @model_validator(mode="after")
    def _unique_tiers(self) -> "Policy":
        ids = [t.id for t in self.tiers]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"tier ids must be unique; {', '.join(dupes)} appears more than once")
        return self


class LoadedPolicy(BaseModel):
    """A validated policy together with where it came from (for audit trails)."""

    model_config = ConfigDict(frozen=True)

    policy: Policy
    origin: str
    sha256: str


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    """The keys a model accepts at ``loc`` (the parent of an unknown key), for error messages."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return None
        current = field.annotation
        # unwrap list[X] and X | None
        for _ in range(3):
            args = getattr(current, "__args__", None)
            if not args:
                break
            current = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), args[0])
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return None


def describe_validation_error(exc: ValidationError, origin: str, model: type[BaseModel] = Policy) -> str:
    """One line per problem: where in the file, what is wrong, what to write instead."""
    lines = []
    for err in exc.errors():
        loc = err["loc"]
        where = ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")
        if err["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, loc[:-1])
            hint = f"; allowed keys here: {', '.join(allowed)}" if allowed else ""
            lines.append(f"{origin}: {where}: unknown key{hint}")
        elif err["type"] == "missing":
            lines.append(f"{origin}: {where}: required key is missing")
        else:
            msg = err["msg"].removeprefix("Value error, ")
            lines.append(f"{origin}: {where or '(top level)'}: {msg} (got {quoted(err.get('input'))})")
    return "\n".join(lines)


def parse_policy(text: str, origin: str) -> LoadedPolicy:
    """Validate the text of a policy file strictly; raise PolicyError naming every problem."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{origin}: not valid TOML: {exc}") from None
    try:
        policy = Policy.model_validate(raw)
    except ValidationError as exc:
        raise PolicyError(describe_validation_error(exc, origin)) from None
    return LoadedPolicy(policy=policy, origin=origin, sha256=hashlib.sha256(text.encode()).hexdigest())


def load_policy_file(path: str | Path) -> LoadedPolicy:
    """Load and validate a user's policy file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read policy file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise PolicyError(f"{path}: a policy file must be UTF-8 text") from None
    return parse_policy(text, str(path))


@cache
def bundled_policies() -> tuple[LoadedPolicy, ...]:
    """The policies shipped with the package, oldest first."""
    folder = resources.files(__package__).joinpath("policies")
    loaded = [
        parse_policy(entry.read_text(encoding="utf-8"), f"policies/{entry.name}")
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".toml")
    ]
    return tuple(sorted(loaded, key=lambda lp: lp.policy.effective.from_))


def get_policy(ref: str | Path) -> LoadedPolicy:
    """A shipped policy by id, or a policy file by path."""
    for lp in bundled_policies():
        if lp.policy.id == str(ref):
            return lp
    path = Path(ref)
    if path.suffix == ".toml" or path.exists():
        return load_policy_file(path)
    known = ", ".join(lp.policy.id for lp in bundled_policies())
    raise PolicyError(f"policy: {str(ref)!r} is neither a shipped policy ({known}) nor a policy file")


def policy_for_year(year: int, candidates: tuple[LoadedPolicy, ...] | None = None) -> LoadedPolicy:
    """The policy version in force in ``year``."""
    candidates = bundled_policies() if candidates is None else candidates
    for lp in reversed(candidates):
        if lp.policy.effective.covers(year):
            return lp
    raise PolicyError(no_policy_message(year, candidates))


def no_policy_message(year: int | str, candidates: tuple[LoadedPolicy, ...] | None = None) -> str:
    candidates = bundled_policies() if candidates is None else candidates
    spans = "; ".join(
        f"{lp.policy.id} covers {lp.policy.effective.from_.year}-{lp.policy.effective.to.year if lp.policy.effective.to else ''}"
        for lp in candidates
    )
    return f"year: no policy is in force in {year} ({spans})"
