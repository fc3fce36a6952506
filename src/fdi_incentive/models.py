"""The typed input (a project and its capital arrivals) and output (an assessment with its explanation).

Money and rates are Decimals in Python and decimal strings in JSON, never floats.
"""


import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, ValidationError, model_validator

from .i18n import N_, _
from .fx import check_currency
from .industry import normalise_name
from .errors import InputError
from .money import Money, Rate, money_str, parse_amount, parse_year
from .policy import KIND_NAMES, TYPE_NAMES, Category, ContributionType, Kind, PolicyStatus, Reading
from .validation import Expected, problem, where


def _name(table: dict[str, str], expected: str):
    """A name from ``table``, as input may spell it; ``expected`` (marked with `N_`) says which."""
    def parse(value: Any) -> Any:
        if isinstance(value, str):
            found = table.get(normalise_name(value))
            if found is None:
                raise Expected(_(expected))
            return found
        return value

    return BeforeValidator(parse)


def _amount(value: Any) -> Any:
    return parse_amount(value, "amount")


KindName = Annotated[Kind, _name(KIND_NAMES, N_("one of new, capital-increase"))]
TypeName = Annotated[ContributionType, _name(TYPE_NAMES, N_("one of equity, reinvested-profit, shareholder-loan"))]
Amount = Annotated[Decimal, BeforeValidator(_amount), PlainSerializer(money_str, return_type=str, when_used="json")]
Currency = Annotated[str, BeforeValidator(check_currency)]


def _year(value: Any) -> Any:
    return None if value is None else parse_year(value, "year")


def _invalid(model: type[BaseModel], exc: ValidationError) -> InputError:
    """One InputError for a model's validation errors, each named by where it is (``arrivals[0].amount``)
    and said in the language of the interface (`validation.problem`); its field, value and expected
    are the first error's."""
    errors = exc.errors()
    said = [problem(err, model) for err in errors]
    (text, expected), first = said[0], errors[0]
    return InputError(where(tuple(first["loc"])) or model.__name__, first.get("input"), expected or text,
                      _("; ").join(line for line, _expected in said))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    # Bad input is an FdiError (an InputError wrapping pydantic's ValidationError), as everywhere in the library.
    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _invalid(type(self), exc) from exc

    # (pydantic calls an __init__ of its own to build a model it validates, a nested one included;
    # marked as pydantic's, this one is called only for `Model(...)`: a nested model's errors stay
    # pydantic's, each at its place in the whole, not one wrapped error per model)
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any):  # type: ignore[override]
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as exc:
            raise _invalid(cls, exc) from exc

    @classmethod
    def model_validate_json(cls, json_data: Any, **kwargs: Any):  # type: ignore[override]
        try:
            return super().model_validate_json(json_data, **kwargs)
        except ValidationError as exc:
            raise _invalid(cls, exc) from exc


class Arrival(_Model):
    """One payment of capital into the project: when, how much, in what, and of which type."""

    date: dt.date | None = Field(None, description="the day the funds arrived; its rate is used for conversion")
    year: Annotated[int | None, BeforeValidator(_year)] = Field(None, ge=1900, le=2200, description="the calendar year, when the day is not known")
    amount: Amount = Field(description="amount in `currency`, to the cent, not negative")
    currency: Currency = "USD"
    type: TypeName = "equity"

    @model_validator(mode="after")
    def _when(self) -> "Arrival":
        if self.date is None and self.year is None:
            raise ValueError(_("give the arrival's date (YYYY-MM-DD) or at least its year"))
        if self.date is not None and self.year is not None and self.year != self.date.year:
            raise ValueError(_("year {year} does not match date {date}").format(year=self.year, date=self.date))
        return self

    @property
    def calendar_year(self) -> int:
        return self.date.year if self.date is not None else self.year  # type: ignore[return-value]

    def reward_year(self, period: str) -> int:
        """The reward year the arrival falls in: its calendar year, or under an October-September year
        (N runs from 1 October N to 30 September N+1) the year it began in. An arrival known by its
        year only is taken to name the reward year."""
        if period == "october_september" and self.date is not None:
            return self.date.year if self.date.month >= 10 else self.date.year - 1
        return self.calendar_year


class Project(_Model):
    """A foreign-invested project: what it is and the capital it received."""

    id: str | None = None
    name: str | None = None
    kind: KindName = "new"
    sector: str | None = Field(None, description="a sector name such as manufacturing, services, electronics")
    industry_code: str | None = Field(None, description="a GB/T 4754-2017 code at any depth: C, 36, C3670, K7010")
    arrivals: list[Arrival] = Field(min_length=1)
    location: str | None = Field(None, description="where the project is: a Chinese place name as written, or a GB/T 2260 code; "
                                 "none: Chongqing, unless a policy is named")
    high_tech: bool = Field(False, description="in a high-tech industry (高技术制造业 / 高技术服务业), as the bureau classifies it")
    hnte: bool = Field(False, description="a certified high- and new-technology enterprise (国家高新技术企业) or technology-advanced "
                       "service enterprise (技术先进型服务企业)")
    priority: bool = Field(False, description="a priority project a policy names (Foshan: Fortune 500 or a \"2+2+4\" cluster project)")
    spent_usd: dict[Annotated[int, BeforeValidator(_year)], Amount] = Field({}, description="by year, the part of the capital paid in that was spent (实际支出金额), "
                                        "for a policy whose base is the amount spent")

    @classmethod
    def for_year(
        cls,
        year: int | str,
        *,
        paid_in: Decimal | str | int = 0,
        currency: str = "USD",
        shareholder_loans_usd: Decimal | str | int = 0,
        reinvested_profit: Decimal | str | int = 0,
        reinvested_profit_currency: str = "CNY",
        kind: str = "new",
        sector: str | None = None,
        industry_code: str | None = None,
        id: str | None = None,
        location: str | None = None,
        high_tech: bool = False,
        hnte: bool = False,
        priority: bool = False,
        spent_usd: Decimal | str | int | None = None,
    ) -> "Project":
        """A project with one year's totals, as `fdi calc` takes them on the command line."""
        year = parse_year(year, "year")
        paid_in = parse_amount(paid_in, "paid_in")  # (an error names the argument given, not the arrival's field)
        arrivals = [Arrival(year=year, amount=paid_in, currency=currency, type="equity")]
        profit = parse_amount(reinvested_profit, "reinvested_profit")
        if profit:
            arrivals.append(Arrival(year=year, amount=profit, currency=reinvested_profit_currency, type="reinvested_profit"))
        loans = parse_amount(shareholder_loans_usd, "shareholder_loans_usd")
        if loans:
            arrivals.append(Arrival(year=year, amount=loans, currency="USD", type="shareholder_loan"))
        spent = {} if spent_usd is None else {year: parse_amount(spent_usd, "spent_usd")}
        return cls(id=id, kind=kind, sector=sector, industry_code=industry_code, arrivals=arrivals, location=location,
                   high_tech=high_tech, hnte=hnte, priority=priority, spent_usd=spent)

    @property
    def flags(self) -> frozenset[str]:
        """The flags a policy's tier may require, that this project has."""
        return frozenset(f for f in ("high_tech", "hnte", "priority") if getattr(self, f))


class TierTest(_Model):
    """One tier's test for one year: which threshold, and whether the project passed it."""

    tier: str
    label: str
    threshold_usd: Money
    comparator: Literal["gt", "ge"]
    applies_to_category: bool
    passed: bool
    rate: Rate
    rate_type: Literal["floor", "exact", "ceiling"]
    citation: str


class ArrivalLine(_Model):
    """An arrival as the engine counted it: its USD equivalent and the rates used."""

    date: dt.date | None
    type: ContributionType
    amount: Money
    currency: str
    usd: Money
    counted: bool
    usd_rate_cny: Rate | None = Field(description="CNY per USD applied to this arrival (converted reading)")
    source: str


class Sensitivity(_Model):
    """What would change the answer."""

    next_tier: str | None = None
    next_tier_from_usd: Money | None = Field(None, description="the smallest base that reaches the next tier")
    cap_binds_above_usd: Money | None = Field(
        None, description="the smallest base above which the annual cap binds, given every tier that base would reach")


class PartResult(_Model):
    """A part of a year's payout paid by one government (Shandong: the province's, the city's)."""

    payer: str
    label: str
    rate: Rate
    rate_type: Literal["floor", "exact", "ceiling"]
    incentive_cny: Money


class YearResult(_Model):
    """The reward for one project in one calendar year, with every step that produced it."""

    year: int
    policy: str
    policy_status: PolicyStatus = Field(
        description="in_force: a year inside the period the policy's source covers; "
        "assumed_continuation: a later year we apply it to, an assumption (see caveats)"
    )
    eligible: bool
    excluded: bool
    category: Category
    tier: str | None
    rate: Rate | None
    rate_basis: Literal["floor", "exact", "ceiling", "granted"] | None
    paid_in_usd: Money
    reinvested_usd: Money
    shareholder_loans_usd: Money
    base_usd: Money
    reading: Reading
    fx_rate: Rate | None
    fx_source: str | None
    base_cny: Money
    gross_cny: Money
    cap_cny: Money | None
    capped: bool
    incentive_cny: Money
    other_reading_incentive_cny: Money | None = Field(
        description="the payout under the other reading of the conversion (null when no FX rate could be had)"
    )
    reasons: list[str]
    citations: dict[str, str] = Field(description="the policy sentence behind each step: base, exclusions, stacking, cap, conversion, rounding")
    tier_tests: list[TierTest]
    arrivals: list[ArrivalLine]
    sensitivity: Sensitivity
    caveats: list[str] = Field(description="the policy's caveats that bear on this year")
    kind_rewarded: bool = Field(True, description="whether the policy rewards the project's kind (new, capital increase) at all")
    rate_type: Literal["floor", "exact", "ceiling"] | None = Field(
        None, description="of the tier applied: floor (at least), exact, ceiling (up to: the most the bureau may pay)")
    parts: list[PartResult] = Field([], description="the payout's parts by payer, where the policy names several; they add up to it")
    confidence: str = Field("", description="the best reliability among the sources quoting the policy's clause")
    jurisdiction: str = ""
    location_group: str | None = Field(None, description="the policy's place group the project's place falls in, where it has groups")
    place_state: Literal["in", "excluded", "outside"] | None = Field(
        None, description="the project's place as the policy sees it (null: the policy names no place, or none was given)")
    place: str | None = Field(None, description="the line that says so")
    combination: str | None = Field(None, description="how this policy's payout combines with another's in this year, if it does")
    paid: bool = Field(True, description="counted in the total: false for the lower of two under 'the higher of'")
    period_left_cny: Money | None = Field(None, description="what a cap over a period of years left for this year, where one applies")


class PolicyUsed(_Model):
    id: str
    title: str
    source: str
    url: str = Field(description="of the text itself (the source named in `source`)")
    clause_source: str = Field(description="the source whose words of the clause the policy follows (it may be a restatement)")
    clause_source_url: str = Field(description="of clause_source")
    reliability: str = Field(description="of clause_source, not of the text at `url`")
    source_covers: str = Field(description="the period the policy's source covers, with our reading of it where it is ours")
    effective_from: dt.date
    effective_to: dt.date | None
    source_period_from: dt.date = Field(description="the period the source covers; later years are assumed")
    source_period_to: dt.date | None
    sources: list[str] = Field(description="every source: its role (text, restatement, summary), what was seen")
    origin: str
    sha256: str
    caveats: list[str]
    caveat_ids: list[str] = Field([], description="the id of each of `caveats`, as the policy's footnotes and `fdi policy show` name it")


class ClassificationOut(_Model):
    category: Category
    code: str | None
    sector: str | None
    basis: str
    notes: list[str]


class Assessment(_Model):
    """The whole answer for one project: one line per year (and per policy, where two combine) and a total."""

    project: Project
    classification: ClassificationOut
    years: list[YearResult]
    total_incentive_cny: Money
    policies: list[PolicyUsed]
    granted_rate: Rate | None = None
