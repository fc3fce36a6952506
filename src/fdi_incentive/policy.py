"""Policy files: their schema, strict loading, and choosing the version in force for a year.

A policy is data with citations (see ``policies/*.toml``). This module validates
and loads it; it never computes a payout.
"""


import decimal
import re
import sys
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from . import money, validation
from .errors import PolicyError, UnknownPolicy
from .i18n import N_, _, pick
from .kept import kept
from .money import EXACT, FX_RATE_DECIMALS, MAX_AMOUNT, QUANTA
from .validation import Expected, describe_validation_error, either

Category = Literal["manufacturing", "real_estate", "finance", "quasi_finance", "other"]
Kind = Literal["new", "capital_increase"]
ContributionType = Literal["equity", "reinvested_profit", "shareholder_loan"]
# how a kind and a contribution type may be spelt in input (after `industry.normalise_name`)
KIND_NAMES = {"new": "new", "capital_increase": "capital_increase", "新设": "new", "新项目": "new", "增资": "capital_increase"}
TYPE_NAMES = {
    "equity": "equity", "reinvested_profit": "reinvested_profit", "shareholder_loan": "shareholder_loan",
    "利润再投资": "reinvested_profit", "外方股东贷款": "shareholder_loan",  # (no "loan": a bank's is none of these)
    "货币出资": "equity", "股权出资": "equity",  # (cash paid in as registered capital, as ledgers name it)
}
Reading = Literal["converted", "nominal"]
# the names a reader sees for the values above (the values themselves stay in JSON and CSV); `_()` them to show them
CATEGORY_NAMES = {"manufacturing": N_("manufacturing"), "real_estate": N_("real-estate"), "finance": N_("finance"),
                  "quasi_finance": N_("quasi-finance"), "other": N_("other")}
RATE_TYPE_NAMES = {"floor": N_("floor"), "exact": N_("exact"), "ceiling": N_("ceiling")}


def category_name(category: str) -> str:
    """A category as a reader says it, in the current language."""
    return _(CATEGORY_NAMES[category]) if category in CATEGORY_NAMES else category.replace("_", "-")
# inside the period the source states, or a year we apply the rule to after it (an assumption)
PolicyStatus = Literal["in_force", "assumed_continuation"]
RoundingMode = Literal["half_up", "half_even", "down", "up"]
ROUNDING_NAMES = {"half_up": N_("half-up"), "half_even": N_("half-even"), "down": N_("down"), "up": N_("up")}
STACKING_NAMES = {"best": N_("best")}
KIND_SHORT_NAMES = {"new": N_("new"), "capital_increase": N_("capital increase")}


def _exact_decimal(value: Any) -> Any:
    """Accept numbers written as strings or integers; refuse binary floats, which are not exact."""
    if isinstance(value, float):
        raise ValueError(_('write the number as a string so it stays exact, e.g. "{value}" in quotes').format(value=repr(value)))
    if isinstance(value, bool):
        raise Expected(_('a number written as a string, e.g. "0.02"'))
    return value


ExactDecimal = Annotated[Decimal, BeforeValidator(_exact_decimal), Field(allow_inf_nan=False)]
PositiveDecimal = Annotated[ExactDecimal, Field(gt=0)]

# What a policy may hold: what the engines compute exactly, and bounds that keep a policy file
# (someone else's, say) from costing unbounded time or memory. Stated in the schema and the errors.
MAX_POLICY_BYTES = 256 * 1024
MAX_TIERS = 50
MAX_CAVEATS = 100
MAX_CODES = 2000  # excluded GB/T codes (the standard has about 1,400 classes)
MAX_TEXT = 4000  # characters of any text of a policy
# parts of one dotted TOML key or [table.header] (each part a table deeper; a parser spends time
# and memory growing with the square of the parts, so a long key is refused before it is parsed)
MAX_KEY_PARTS = 100

# a run of more than MAX_KEY_PARTS key parts joined by dots, starting at a part's start (a bare
# part, or a quoted one on one line); text inside a string is scanned too, harmlessly: a string
# holding such a run is not a policy's or a project's words
_LONG_KEY = re.compile(
    r"(?<![A-Za-z0-9_\-.])(?:(?:[A-Za-z0-9_\-]+|\"[^\"\n]*\"|'[^'\n]*')[ \t]*\.[ \t]*)"
    + "{" + str(MAX_KEY_PARTS) + ",}")


def toml_key_too_deep(text: str) -> bool:
    """Whether a TOML text has a dotted key or table header of more than MAX_KEY_PARTS parts
    (a scan in time linear in the text, made before parsing it)."""
    return _LONG_KEY.search(text) is not None


def _places(places: int, words: str):
    """A decimal with at most ``places`` decimals (what the engines compute with); ``words`` (marked
    with `N_`) say what it is."""
    def check(value: Decimal) -> Decimal:
        with decimal.localcontext(EXACT):
            if value != value.quantize(Decimal(1).scaleb(-places), decimal.ROUND_DOWN):
                raise Expected(_("{words} (at most {places} decimals)").format(words=_(words), places=places))
        return value
    return AfterValidator(check)


Amount = Annotated[PositiveDecimal, Field(lt=MAX_AMOUNT, description=f"above 0 and below {MAX_AMOUNT} (10^14), to the cent"),
                   _places(2, N_("an amount to the cent"))]
RateValue = Annotated[PositiveDecimal, Field(le=1, description=f"above 0, at most 1, with at most {FX_RATE_DECIMALS} decimals"),
                      _places(FX_RATE_DECIMALS, N_("a rate the engines multiply by exactly"))]


def _quantum(value: Decimal) -> Decimal:
    if value not in QUANTA:
        raise Expected(_("a power of ten every engine rounds to alike: {quanta}").format(quanta=_quanta_words()))
    return value


def _quanta_words() -> str:
    return either([format(q, "f") for q in QUANTA])


_QUANTA_EN = ", ".join(format(q, "f") for q in QUANTA[:-1]) + f" or {format(QUANTA[-1], 'f')}"  # (for the schema)


def _usd_cent(value: Decimal) -> Decimal:
    if value != Decimal("0.01"):
        raise Expected(_("0.01: amounts in other currencies are converted to USD to the cent"))
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, str_max_length=MAX_TEXT, defer_build=True)


class Said(_Strict):
    """What a part of a policy rests on, kept apart: the words of a source (``citation``, quoted
    as the source gives them), our reading of them (``reading``, with the reason), and an
    assumption where no text speaks (``assumption``). At least one is given."""

    citation: str = Field("", description="the words of a source, quoted as it gives them")
    reading: str | None = Field(None, description="our reading of the words, and why (ours, not the source's)")
    assumption: str | None = Field(None, description="what we assume where no text speaks")
    reading_zh: str | None = Field(None, description="the reading in Chinese, shown under --lang zh")
    assumption_zh: str | None = Field(None, description="the assumption in Chinese, shown under --lang zh")

    @model_validator(mode="after")
    def _says_something(self) -> "Said":
        if not (self.citation or self.reading or self.assumption):
            raise ValueError(_("give the words of a source (citation), our reading of them (reading) or an assumption"))
        return self

    def said(self) -> list[tuple[str, str]]:
        """(label, text) for each of the three that is given: "text", "our reading", "assumption"
        (labels untranslated: `_()` them to show them), texts in the current language."""
        parts = [(N_("text"), f"“{self.citation}”")] if self.citation else []
        if self.reading:
            parts.append((N_("our reading"), pick(self.reading, self.reading_zh)))
        if self.assumption:
            parts.append((N_("assumption"), pick(self.assumption, self.assumption_zh)))
        return parts

    @property
    def cited(self) -> str:
        """The three in one line, each labelled: what a result cites."""
        return _("; ").join(_("{label}: {text}").format(label=_(label), text=text) for label, text in self.said())


SourceRole = Literal["text", "restatement", "summary"]
SOURCE_ROLES = {"text": N_("the text itself"), "restatement": N_("a restatement quoting it"), "summary": N_("a summary")}
ROLE_NAMES = {"text": N_("text"), "restatement": N_("restatement"), "summary": N_("summary")}  # (a role as a reader names it)
RELIABILITY_NAMES = {"official": N_("official"), "official_restatement": N_("official restatement"),
                     "secondary": N_("secondary"), "unverified": N_("unverified")}


class Source(_Strict):
    """One source of the rule, its role and how far it can be trusted."""

    role: SourceRole = Field(description="text: the document itself; restatement: one that quotes it; summary: one that summarises it")
    title: str
    title_en: str | None = None
    issuer: str
    issuer_zh: str | None = Field(None, description="the issuer in Chinese, shown under --lang zh")
    issued: date | None = None
    document_number: str | None = None
    url: str = ""
    reliability: Literal["official", "official_restatement", "secondary", "unverified"]
    checked: date = Field(description="the day this policy file was read against a stored copy of this source")
    seen: str = Field(min_length=1, description="what of the source was seen: the whole clause, a header only ...")
    seen_zh: str | None = Field(None, description="what was seen, in Chinese, shown under --lang zh")
    quote: str | None = Field(None, min_length=1, description="the clause, verbatim, as this source gives it")
    gloss: str | None = Field(None, description="an English rendering of the quote (ours unless said otherwise)")

    @property
    def name(self) -> str:
        """The source as a reader names it, in the current language: title, document number, issuer, date."""
        title = _("{title} ({number})").format(title=self.title, number=self.document_number) if self.document_number else self.title
        name = _("{title}, {issuer}").format(title=title, issuer=pick(self.issuer, self.issuer_zh))
        return _("{name}, {date}").format(name=name, date=self.issued) if self.issued else name


class Effective(Said):
    """The years we apply the rule to (compare `SourcePeriod`: what the source states)."""

    from_: date = Field(alias="from")
    to: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "Effective":
        if self.to is not None and self.to < self.from_:
            raise ValueError(_("'to' ({to}) is before 'from' ({start}); write the end date after the start").format(
                to=self.to, start=self.from_))
        return self

    def covers(self, year: int) -> bool:
        return self.from_.year <= year and (self.to is None or year <= self.to.year)

    @property
    def span(self) -> str:
        """The years, as a reader says them: "2018-2022", "2023 onwards"."""
        return f"{self.from_.year}-{self.to.year}" if self.to else _("{year} onwards").format(year=self.from_.year)


class SourcePeriod(Effective):
    """The period the source itself states, apart from the years we apply the rule to (``[effective]``).

    A year inside ``[effective]`` but after this period is scored under an assumed continuation.
    """


class Base(Said):
    currency: Literal["USD"]
    period: Literal["calendar_year"]
    kinds: list[Kind] = Field(min_length=1)
    counts: list[Literal["equity", "reinvested_profit"]] = Field(min_length=1)
    excludes: list[Literal["shareholder_loan"]] = []


# How the law says each comparator: 超过 is "over" (strict), 以上 is "at least" (inclusive).
COMPARATOR_WORDS = {"gt": N_("over"), "ge": N_("at least")}  # (untranslated: `_()` them to show them)


class Threshold(_Strict):
    amount: Amount
    currency: Literal["USD"]
    comparator: Literal["gt", "ge"] = Field(description="gt for 超过 (over, strict); ge for 以上/及以上 (inclusive)")

    def passed_by(self, amount: Decimal) -> bool:
        return amount > self.amount if self.comparator == "gt" else amount >= self.amount

    @property
    def words(self) -> str:
        return COMPARATOR_WORDS[self.comparator]


class Tier(Said):
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    label: str
    label_zh: str | None = Field(None, description="the label in Chinese, shown under --lang zh")
    categories: list[Category] = Field(description="empty: every category not excluded")
    threshold: Threshold
    rate: RateValue
    rate_type: Literal["floor", "exact", "ceiling"]

    def applies_to(self, category: str) -> bool:
        return not self.categories or category in self.categories


class Exclusions(Said):
    categories: list[Category] = []
    codes: list[Annotated[str, Field(pattern=r"^[A-T]\d{0,4}$")]] = Field([], max_length=MAX_CODES,
                                                                          description=f"at most {MAX_CODES} codes")

    def exclude(self, category: str, code: str | None) -> bool:
        """Excluded by category, or by a GB/T code listed here (a code prefix matches its sub-codes)."""
        if category in self.categories:
            return True
        return code is not None and any(code.startswith(prefix) for prefix in self.codes)


class Stacking(Said):
    mode: Literal["best"]


class Cap(Said):
    amount: Annotated[PositiveDecimal, Field(lt=MAX_AMOUNT, description=f"above 0 and below {MAX_AMOUNT} (10^14), to the fen"),
                      _places(2, N_("an amount to the fen"))] | None = None
    currency: Literal["CNY"] = "CNY"
    scope: Literal["project_year"] = "project_year"


class Conversion(Said):
    default: Reading


class Rounding(Said):
    quantum: Annotated[ExactDecimal, AfterValidator(_quantum)] = Field(
        description=f"the payout is rounded to a multiple of it: {_QUANTA_EN} (yuan)")
    mode: RoundingMode
    usd_quantum: Annotated[ExactDecimal, AfterValidator(_usd_cent)] = Field(description="0.01: USD amounts are kept to the cent")


class Caveat(_Strict):
    id: str
    text: str
    text_zh: str | None = Field(None, description="the caveat in Chinese, shown under --lang zh")
    basis: Literal["source", "reading", "assumption", "unknown"] = Field(
        description="source: a source says it; reading: our reading; assumption: ours where no text speaks; unknown: no source settles it",
    )
    shown: Literal["always", "assumed_continuation"] = Field(
        "always", description="on every result of the policy, or only on years scored under an assumed continuation",
    )

    def shown_for(self, status: "PolicyStatus") -> bool:
        return self.shown == "always" or self.shown == status


class Policy(_Strict):
    """One version of one jurisdiction's reward rule, with its sources and caveats.

    Limits: a policy file holds at most 256 KiB, 50 tiers, 100 caveats and 2,000 excluded codes;
    a text at most 4,000 characters; amounts are below 10^14, rates have at most 8 decimals."""

    schema_version: Literal[2]
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    title_zh: str | None = Field(None, description="a Chinese name we gave the rule, not a title any source uses")
    jurisdiction: str
    jurisdiction_zh: str | None = Field(None, description="the jurisdiction in Chinese, shown under --lang zh")
    payout_currency: Literal["CNY"]
    effective: Effective
    source_period: SourcePeriod | None = Field(
        default=None, description="the period the source covers; absent: the whole of [effective]",
    )
    sources: list[Source] = Field(min_length=1, description="every source, each with its role; one at least quotes the clause")
    base: Base
    tiers: list[Tier] = Field(min_length=1, max_length=MAX_TIERS, description=f"at least 1, at most {MAX_TIERS} tiers")
    exclusions: Exclusions
    stacking: Stacking
    cap: Cap
    conversion: Conversion
    rounding: Rounding
    caveats: list[Caveat] = Field([], max_length=MAX_CAVEATS, description=f"at most {MAX_CAVEATS} caveats")

    @model_validator(mode="before")
    @classmethod
    def _old_layout(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and raw.get("schema_version") == 1:
            raise ValueError(_(
                "schema_version 1 is the old layout (one [source] table); write schema_version = 2 with "
                "[[sources]] tables, each with a role (text, restatement or summary), what was seen, and the "
                "clause as quote where that source quotes it (see the shipped policies: fdi policy show cn-cq-2023 --json)"
            ))
        return raw

    @model_validator(mode="after")
    def _quoted(self) -> "Policy":
        if not any(s.quote for s in self.sources):
            raise ValueError(_("no source quotes the clause: give the clause, verbatim, as quote in the source that gives it"))
        return self

    @property
    def clause_source(self) -> Source:
        """The source whose quote of the clause the file follows (the first that quotes it)."""
        return next(s for s in self.sources if s.quote)

    @model_validator(mode="after")
    def _unique_tiers(self) -> "Policy":
        ids = [t.id for t in self.tiers]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(_("tier ids must be unique; {ids} appears more than once").format(ids=_(", ").join(dupes)))
        return self

    @model_validator(mode="after")
    def _source_period_within_effective(self) -> "Policy":
        sp, eff = self.source_period, self.effective
        if sp is None:
            return self
        if sp.from_ != eff.from_:
            raise ValueError(_(
                "source_period.from ({source}) must equal effective.from ({effective}): "
                "a rule is applied from the start its source states, never before it"
            ).format(source=sp.from_, effective=eff.from_))
        if eff.to is not None and (sp.to is None or sp.to > eff.to):
            raise ValueError(_("source_period.to ({source}) must not be after effective.to ({effective})").format(
                source=sp.to or _("none"), effective=eff.to))
        return self

    def status_for(self, year: int) -> PolicyStatus:
        """"in_force" inside the period the source states; "assumed_continuation" for a later year
        we apply the rule to (inside ``[effective]``). A year outside ``[effective]`` is a PolicyError."""
        if not self.effective.covers(year):
            raise PolicyError(outside_dates_message(self, year))
        sp = self.source_period
        return "in_force" if sp is None or sp.covers(year) else "assumed_continuation"


class LoadedPolicy(BaseModel):
    """A validated policy together with where it came from (for audit trails)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    policy: Policy
    origin: str
    sha256: str


def parse_policy(text: str, origin: str) -> LoadedPolicy:
    """Validate the text of a policy file strictly; raise PolicyError naming every problem.
    A byte order mark before the text is passed over (the hash is of the text as given)."""
    import hashlib
    import tomllib

    if len(text) > MAX_POLICY_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_POLICY_BYTES:
        raise PolicyError(_("{origin}: a policy file holds at most {most} bytes").format(origin=origin, most=f"{MAX_POLICY_BYTES:,}"))
    if toml_key_too_deep(text):
        raise PolicyError(_("{origin}: not valid TOML: tables nested too deep "
                            "(a key of more than {most} dotted parts)").format(origin=origin, most=MAX_KEY_PARTS))
    try:
        raw = tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(_("{origin}: not valid TOML: {reason}").format(origin=origin, reason=exc)) from None
    except RecursionError:
        raise PolicyError(_("{origin}: not valid TOML: arrays or tables nested too deep").format(origin=origin)) from None
    try:
        policy = Policy.model_validate(raw)
    except ValidationError as exc:
        raise PolicyError(describe_validation_error(exc, origin, Policy)) from None
    return LoadedPolicy(policy=policy, origin=origin, sha256=hashlib.sha256(text.encode()).hexdigest())


def load_policy_file(path: str | Path) -> LoadedPolicy:
    """Load and validate a user's policy file."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = f.read(MAX_POLICY_BYTES + 1)
        if len(data) > MAX_POLICY_BYTES:
            raise PolicyError(_("{origin}: a policy file holds at most {most} bytes").format(origin=path, most=f"{MAX_POLICY_BYTES:,}"))
        text = data.decode("utf-8")
    except OSError as exc:
        raise PolicyError(_("{path}: cannot read policy file: {reason}").format(path=path, reason=exc.strerror)) from None
    except UnicodeDecodeError:
        raise PolicyError(_("{path}: a policy file must be UTF-8 text").format(path=path)) from None
    return parse_policy(text, str(path))


@cache
def bundled_policies() -> tuple[LoadedPolicy, ...]:
    """The policies shipped with the package, oldest first: validated once, and kept (`kept`) for
    the runs after, while neither the files nor the code that validates them change."""
    folder = Path(__file__).with_name("policies")
    if not folder.is_dir():  # (a package in a zip file, say)
        from importlib import resources

        folder = resources.files(__package__).joinpath("policies")
    entries = sorted((entry for entry in folder.iterdir() if entry.name.endswith(".toml")), key=lambda e: e.name)

    def parsed() -> tuple[LoadedPolicy, ...]:
        loaded = [parse_policy(entry.read_text(encoding="utf-8"), f"policies/{entry.name}") for entry in entries]
        return tuple(sorted(loaded, key=lambda lp: lp.policy.effective.from_))

    if not isinstance(folder, Path):  # (a package in a zip file: nothing is kept)
        return parsed()
    code = [Path(module.__file__) for module in (sys.modules[__name__], money, validation)]
    return kept(folder / "__pycache__" / f"bundled.{sys.implementation.cache_tag}.pickle", [*code, *entries], parsed)


def get_policy(ref: str | Path) -> LoadedPolicy:
    """A shipped policy by id, or a policy file by path."""
    for lp in bundled_policies():
        if lp.policy.id == str(ref):
            return lp
    path = Path(ref)
    if path.suffix == ".toml" or path.exists():
        return load_policy_file(path)
    known = _(", ").join(lp.policy.id for lp in bundled_policies())
    expected = _("a shipped policy ({known}) or a policy file").format(known=known)
    raise UnknownPolicy("policy", str(ref), expected, _("policy: {ref} is neither a shipped policy ({known}) nor a policy file").format(
        ref=repr(str(ref)), known=known))


def policy_for_year(year: int, candidates: tuple[LoadedPolicy, ...] | None = None) -> LoadedPolicy:
    """The policy version in force in ``year``."""
    candidates = bundled_policies() if candidates is None else candidates
    for lp in reversed(candidates):
        if lp.policy.effective.covers(year):
            return lp
    raise PolicyError(no_policy_message(year, candidates))


def covered_period(policy: "Policy") -> str:
    """The period a policy's source covers, as a reader is told it, with our reading of it where the
    source does not state it in so many words: "2023-2024, the period its source covers (our reading: ...)"."""
    sp = policy.source_period or policy.effective
    reading = pick(sp.reading, sp.reading_zh) if sp.reading else None
    return (_("{span}, the period its source covers (our reading: {reading})") if reading
            else _("{span}, the period its source covers")).format(span=sp.span, reading=reading)


def outside_dates_message(policy: "Policy", year: int | str) -> str:
    """Why a policy cannot score a year outside its dates, naming them."""
    eff = policy.effective
    return (_("year: {policy} applies to {span} ({start} to {end}), not to {year}; choose a year in its dates or another policy")
            if eff.to else
            _("year: {policy} applies to {span} ({start} to no end date), not to {year}; choose a year in its dates or "
              "another policy")).format(policy=policy.id, span=eff.span, start=eff.from_, end=eff.to, year=year)


def no_policy_message(year: int | str, candidates: tuple[LoadedPolicy, ...] | None = None) -> str:
    candidates = bundled_policies() if candidates is None else candidates
    spans = _("; ").join(_("{policy} covers {span}").format(policy=lp.policy.id, span=lp.policy.effective.span) for lp in candidates)
    return _("year: no policy is in force in {year} ({spans})").format(year=year, spans=spans)
