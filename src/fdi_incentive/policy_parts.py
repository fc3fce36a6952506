"""The parts of a policy file's rule: its dates, base, tiers (with bands, parts, caps and the
places and flags they need), exclusions, cap, conversion, rounding, caveats, and where it
applies and how it combines with another policy. Each part says what it rests on (`Said`)."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from .i18n import N_, _
from .money import MAX_AMOUNT
from .policy_values import (MAX_CODES, _QUANTA_EN, Amount, Category, ExactDecimal, Kind, PolicyStatus, PositiveDecimal, RateValue, Reading,
                            RoundingMode, Said, _places, _quantum, _Strict, _usd_cent)

Flag = Literal["high_tech", "hnte", "priority"]
# what each flag stands for, as a reader is told (the texts name them; the project says whether it has them)
FLAG_NAMES = {"high_tech": N_("high-tech industry (高技术制造业 / 高技术服务业)"),
              "hnte": N_("a certified high- and new-technology or technology-advanced service enterprise"),
              "priority": N_("a priority project (Foshan: Fortune 500 or a \"2+2+4\" cluster project)")}
PlaceCode = Annotated[str, Field(pattern=r"^[1-9]\d{5}$", description="a GB/T 2260 six-digit code")]
GroupId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$")]
CnyAmount = Annotated[PositiveDecimal, Field(lt=MAX_AMOUNT, description=f"above 0 and below {MAX_AMOUNT} (10^14), to the fen"),
                      _places(2, N_("an amount to the fen"))]

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
    period: Literal["calendar_year", "october_september"] = Field(
        description="calendar_year, or october_september: reward year N runs from 1 October N to 30 September N+1")
    kinds: list[Kind] = Field(min_length=1)
    counts: list[Literal["equity", "reinvested_profit"]] = Field(min_length=1)
    excludes: list[Literal["shareholder_loan"]] = []
    measure: Literal["paid_in", "spent"] = Field(
        "paid_in", description="paid_in: the capital paid in; spent: the part of it spent (实际支出金额), where given")


# How the law says each comparator: 超过 is "over" (strict), 以上 is "at least" (inclusive).
COMPARATOR_WORDS = {"gt": N_("over"), "ge": N_("at least")}  # (untranslated: `_()` them to show them)


class Threshold(_Strict):
    amount: Annotated[ExactDecimal, Field(ge=0, lt=MAX_AMOUNT, description='below 10^14, to the cent; "0" with gt: no threshold'),
                      _places(2, N_("an amount to the cent"))]
    currency: Literal["USD"]
    comparator: Literal["gt", "ge"] = Field(description="gt for 超过 (over, strict); ge for 以上/及以上 (inclusive)")

    @model_validator(mode="after")
    def _zero(self) -> "Threshold":
        if self.amount == 0 and self.comparator != "gt":
            raise ValueError(_('a threshold of "0" is written with comparator "gt": any base over zero'))
        return self

    def passed_by(self, amount: Decimal) -> bool:
        return amount > self.amount if self.comparator == "gt" else amount >= self.amount

    @property
    def words(self) -> str:
        return COMPARATOR_WORDS[self.comparator]


RateType = Literal["floor", "exact", "ceiling"]


class TierCap(Said):
    """A tier's own cap, a project a year (a category's, or one band's)."""

    amount: CnyAmount
    currency: Literal["CNY"] = "CNY"


class PeriodCap(Said):
    """The most one enterprise gets under a tier over a period of years, summed in year order."""

    amount: CnyAmount
    currency: Literal["CNY"] = "CNY"
    from_: int = Field(alias="from", ge=1900, le=2200)
    to: int = Field(ge=1900, le=2200)

    @model_validator(mode="after")
    def _ordered(self) -> "PeriodCap":
        if self.to < self.from_:
            raise ValueError(_("'to' ({to}) is before 'from' ({start})").format(to=self.to, start=self.from_))
        return self

    def covers(self, year: int) -> bool:
        return self.from_ <= year <= self.to


class Part(Said):
    """A part of a tier's rate paid by one government (Shandong: the province's 2%, the city's 1%)."""

    payer: GroupId
    label: str
    label_zh: str | None = None
    rate: RateValue
    rate_type: RateType


class Tier(Said):
    id: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    label: str
    label_zh: str | None = Field(None, description="the label in Chinese, shown under --lang zh")
    categories: list[Category] = Field(description="empty: every category not excluded")
    kinds: list[Kind] = Field([], description="empty: every kind the base counts")
    groups: list[GroupId] = Field([], description="empty: any place; else the place groups (or the others' id) it is for")
    requires: list[Flag] = Field([], description="flags the project must have for this tier")
    threshold: Threshold
    below: Amount | None = Field(None, description="a band's upper bound, exclusive: [threshold, below)")
    rate: RateValue
    rate_type: RateType
    cap: TierCap | None = None
    period_cap: PeriodCap | None = None
    parts: list[Part] = Field([], max_length=10)

    @model_validator(mode="after")
    def _consistent(self) -> "Tier":
        if self.below is not None and self.below <= self.threshold.amount:
            raise ValueError(_("below ({below}) must be above the threshold ({threshold})").format(
                below=self.below, threshold=self.threshold.amount))
        if self.parts:
            total = sum((p.rate for p in self.parts), Decimal(0))
            if total != self.rate:
                raise ValueError(_("the parts' rates add up to {total}, not the tier's rate {rate}").format(total=total, rate=self.rate))
            payers = [p.payer for p in self.parts]
            if len(set(payers)) != len(payers):
                raise ValueError(_("each part's payer appears once"))
        return self

    def applies_to(self, category: str) -> bool:
        return not self.categories or category in self.categories

    def reaches(self, category: str, kind: str, group: str | None, flags: frozenset[str]) -> bool:
        """Whether a project of this category, kind, place group and flags can reach the tier."""
        return (self.applies_to(category) and (not self.kinds or kind in self.kinds)
                and (not self.groups or group in self.groups) and set(self.requires) <= flags)

    def passed_by(self, base_usd: Decimal) -> bool:
        return self.threshold.passed_by(base_usd) and (self.below is None or base_usd < self.below)


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
    amount: CnyAmount | None = None
    currency: Literal["CNY"] = "CNY"
    scope: Literal["project_year"] = "project_year"


class Conversion(Said):
    default: Reading
    fixed: bool = Field(False, description="the reading is the text's own (a nominal rate per USD, say) and not selectable")


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


class PlaceGroup(Said):
    """Places that share a threshold (Guangdong's six Pearl River Delta cities, say)."""

    id: GroupId
    label: str
    label_zh: str | None = None
    places: list[PlaceCode] = Field(min_length=1, max_length=500)


class Place(Said):
    """Where a policy applies: inside any of ``within`` and none of ``excludes`` (GB/T 2260 codes)."""

    within: list[PlaceCode] = Field(min_length=1, max_length=500)
    excludes: list[PlaceCode] = Field([], max_length=500)
    groups: list[PlaceGroup] = Field([], max_length=20)
    others: GroupId | None = Field(None, description="the group of a place within but in none of the groups")
    others_label: str | None = None
    others_label_zh: str | None = None

    @model_validator(mode="after")
    def _groups(self) -> "Place":
        ids = [g.id for g in self.groups] + ([self.others] if self.others else [])
        if len(set(ids)) != len(ids):
            raise ValueError(_("each place group's id appears once"))
        if self.others and not self.others_label:
            raise ValueError(_("give others_label: how a reader names the places in no group"))
        return self

    @property
    def group_ids(self) -> list[str]:
        return [g.id for g in self.groups] + ([self.others] if self.others else [])


COMBINE_NAMES = {"adds_to": N_("adds to"), "higher_of": N_("the higher of")}


class Combine(Said):
    """How a policy combines with another family's, as its text declares."""

    with_: str = Field(alias="with", pattern=r"^[a-z0-9][a-z0-9-]*$", description="the other policy's family")
    mode: Literal["adds_to", "higher_of"] = Field(
        description="adds_to: paid on top of the other's payout; higher_of: the larger of the two is paid")
