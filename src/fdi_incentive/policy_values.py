"""The values a policy file is made of: exact numbers with their bounds, the names a reader sees,
what a part of a policy rests on (`Said`: a source's words, our reading, an assumption) and the
sources themselves. `policy_parts` builds the parts of a rule from them, `policy` the whole."""

import decimal
import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from .i18n import N_, _, pick
from .money import EXACT, FX_RATE_DECIMALS, MAX_AMOUNT, QUANTA
from .validation import Expected, either

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
# in_force: inside the period the source states; assumed_continuation: a later year we apply the rule to
# (an assumption); not_yet / expired: before the rule starts or after the end a clause states (nothing is paid)
PolicyStatus = Literal["in_force", "assumed_continuation", "not_yet", "expired"]
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
Reliability = Literal["official", "official_restatement", "mirror", "secondary", "unverified"]
RELIABILITY_NAMES = {"official": N_("official"), "official_restatement": N_("official restatement"), "mirror": N_("mirror"),
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
    reliability: Reliability = Field(description="official: a government's own page; official_restatement: another "
                                     "government body quoting it; mirror: a government text copied onto a third-party "
                                     "site; secondary: news or a summary; unverified")
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
