"""Planning capital calls: the schedule of annual paid-in amounts that earns the largest reward.

The problem. Free years t = 1..n (a --fixed year is a constant) each take an amount x_t on the
grid of multiples of the step s, within [lo_t, hi_t], and the amounts add up to the free total
T. Maximise the total reward sum f_t(x_t), where f_t is the reward of year t as `fdi calc`
computes it.

The structure. Before its one rounding to the fen, f_t is non-decreasing and piecewise linear
on the grid: between the points where a tier's threshold is passed (the reward jumps up there)
and the cap point (above which it is flat), f_t(x) = fx_t * rate * x, with a slope that differs
by year through the exchange rate and the policy in force. A *candidate* of year t is an end of
one of those pieces on the grid: lo_t, hi_t, the last amount not passing a threshold and the
first passing it, the last amount under the cap and the first at it.

Claim 1 (the family). Some optimal schedule has every free year at a candidate except at most
one year, the *remainder*, which takes what is left. Proof: take an optimal schedule with the
fewest years strictly inside a piece. If two years i, j are, with slopes c_i >= c_j, move
capital from j to i one step at a time: the total changes by (c_i - c_j) * s >= 0 per step, the
sum is kept, and neither crosses a threshold or the cap point before one of them reaches an
end of its piece (a candidate). The result is still optimal and has fewer interior years: a
contradiction. The slopes need not be equal across years, and no year's slope is assumed.

Claim 2 (earliest). Of the optimal schedules, the one paying in earliest (largest first year,
then largest second year ...) is in the family too: in the exchange above, if c_i > c_j the
schedule was not optimal, if c_i = c_j moving capital into the earlier of the two is earlier
still; so it has at most one interior year.

The algorithm: a dynamic programme over the years in calendar order. A state after year t is
the amount R still to be placed, and whether the remainder year has been passed (then also
which kind of year it was: same policy, rate and bounds pay alike). From each state a year
takes one of its candidates, or (once) becomes the remainder; at the end the remainder takes
the R left. A state keeps the best reward before rounding that reaches it (and, before the
remainder, the earliest schedule of those).

Two prunes, neither of which can drop the earliest optimal schedule of Claim 2:
- Dominance. Let F(R) be the best reward the years to come (the remainder year among them, if
  still to be given its amount) can earn placing R: F never falls as R grows, because every
  f_t is non-decreasing and extra capital fits under their bounds (a state's R is at most
  their maxima). So a state with less left than another and a smaller reward so far leads
  only to schedules worse than that other's best. With equal rewards, before the remainder the
  one whose schedule so far pays in later is dropped (the other's continuation is as good and
  earlier); after it, both are kept, as which pays in earlier is known only at the end.
- Bound. A first pass keeping 48 states a year finds a real schedule's reward L. Each year's
  reward is at most its concave envelope (the upper hull of its rewards at its candidates,
  between which it is linear); the envelopes of the years to come, filled steepest piece
  first, bound F(R) from above. A state whose reward so far plus that bound is below L
  leads to no optimum, and is dropped.
A second pass, from the last year back over the states kept, picks the schedule: the largest
paid total, then the earliest, comparing whole schedules. The work grows with the number of
different exchange rates among the years and with binding bounds; past `optimum.MAX_STATES` partial
schedules the planner refuses (a clear error asking for a coarser step) rather than run on.

Rounding. Each year's payout is rounded once to the fen, as `fdi calc` does, and the plan's
paid total is the sum of those. Claims 1-2 are about the reward before rounding; rounding
moves each year by at most half a fen, so the plan (which has the largest paid total among
the schedules kept, the optimum among them) pays less than the best schedule by at most a fen
for each year but one. Where every reward on the grid is a whole number of fen (a step of a
multiple of USD 100,000 with exchange rates of four decimals and rates of three, say), the
plan is exactly the best and the earliest of the best. Every planned year re-assessed with
`assess()` gives the payout the plan claims.
"""

import decimal
import time
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from pydantic import BaseModel, ConfigDict, Field

from .assessing import _fx_chain
from .rules import rule
from .engine import cap_point, check_granted_rate, decide, parse_granted_rate
from .errors import FxError, InputError, PolicyError, arg
from .i18n import N_, _
from .fx import Quote, RateSource, assumed_rate
from .industry import classify, normalise_name
from .money import EXACT, Money, Rate, money_fmt
from .optimum import optimise
from .plan_input import MAX_YEARS, parse_years, read_plan_args, read_text  # noqa: F401 (parse_years, MAX_YEARS: as before)
from .policy import KIND_NAMES, LoadedPolicy, Policy, PolicyStatus, Reading, get_policy, policy_for_year

FX_SHOCK = Decimal("0.05")
COUNTED = {"equity": N_("equity"), "reinvested_profit": N_("reinvested profit")}  # (what a policy's base counts)
TIE_RULE = N_("Of schedules paying the same total, the plan pays in earliest: the most in the first year, then the second, and so on.")


class PlanYear(BaseModel):
    model_config = ConfigDict(frozen=True)

    year: int
    paid_in_usd: Money
    fixed: bool = False
    policy: str
    policy_status: PolicyStatus = Field(
        "in_force", description="assumed_continuation: a year after the period the policy's source states")
    tier: str | None
    rate: Rate | None
    fx_rate: Rate | None
    fx_assumed: bool = Field(False, description="no source has a rate for this year: the plan assumes one (see fx_sources)")
    incentive_cny: Money
    capped: bool
    nearest_threshold: str | None = Field(None, description="the threshold nearest to this year's amount")
    distance_to_threshold_usd: Money | None = Field(None, description="amount minus that threshold: >0 above it, <=0 not over it")
    cap_binds_above_usd: Money | None = Field(None, description="the cap point: above this base the annual cap binds")


class Schedule(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    schedule: list[PlanYear]
    total_incentive_cny: Money
    within_constraints: bool = True


class Search(BaseModel):
    """What the optimisation looked at, and how long it took."""

    model_config = ConfigDict(frozen=True)

    candidates_usd: dict[int, list[Money]] = Field(description="each free year's candidate amounts (ends of its reward's linear pieces)")
    states_examined: int = Field(description="partial schedules (amount left to place, remainder year) the programme kept and extended")
    seconds: float = Field(description="wall time of the optimisation alone")
    tie_rule: str = TIE_RULE


class Plan(BaseModel):
    """The best schedule, the naive ones beside it, and how fragile it is."""

    model_config = ConfigDict(frozen=True)

    schedule: list[PlanYear]
    total_incentive_cny: Money
    total_usd: Money
    baselines: dict[str, Schedule]
    gain_over_baselines_cny: dict[str, Money]
    gain_resting_on_assumed_rates_cny: dict[str, Money] = Field(
        {}, description="of each gain over a naive schedule, the part that rests on the rates assumed for years no source "
                        "covers: the gain less the gain of the plan made with those years at the lowest rate a source gives "
                        "for the plan's other years (absent: none)")
    fx_sensitivity: dict[str, Money] = Field(description="the plan's total if every year's FX rate moves by -5% / +5%")
    category: str
    sector: str | None = Field(None, description="the sector as given (services, 电子信息 …), which put the plan in its category")
    reading: Reading
    step_usd: Money
    fx_sources: dict[int, str]
    fx_assumed_years: list[int] = Field(description="years planned at an assumed exchange rate: no source covers them")
    assumed_continuation_years: list[int] = Field(
        description="years whose payouts rest on a policy applied after the period its source states")
    policies: list[str]
    search: Search
    notes: list[str]


@dataclass(frozen=True)
class _Year:
    year: int
    policy: Policy
    reading: Reading
    fx: Decimal  # CNY per USD (converted reading)
    quote: Quote | None
    lo: int  # in steps (fixed years: in cents... unused: see `amount`)
    hi: int
    fixed: Decimal | None

    @property
    def counted(self) -> bool:
        """Whether the policy counts equity paid in (what the plan places) toward the year's base."""
        return "equity" in self.policy.base.counts


def _feasible_totals(free_years: int, least: Decimal, most: Decimal | None, fixed: Decimal) -> str:
    """What --total-usd could be: the free years' minimum to maximum, each times their number, plus what is fixed."""
    plus = _(", plus {amount} fixed").format(amount=money_fmt(fixed)) if fixed else ""
    if most is None:
        return _("a total of at least {low} ({years} free years × at least {least} each{fixed})").format(
            low=money_fmt(free_years * least + fixed), years=free_years, least=money_fmt(least), fixed=plus)
    return _("a total from {low} to {high} ({years} free years × {least} to {most} each{fixed})").format(
        low=money_fmt(free_years * least + fixed), high=money_fmt(free_years * most + fixed), years=free_years,
        least=money_fmt(least), most=money_fmt(most), fixed=plus)


def plan(
    total_usd: Decimal | int | str,
    years: list[int] | str,
    *,
    sector: str | None = None,
    industry_code: str | None = None,
    kind: str = "new",
    fx: RateSource | Decimal | str | None = None,
    fx_assume: Decimal | str | None = None,
    policy: str | LoadedPolicy | None = None,
    reading: Reading | None = None,
    min_per_year: Decimal | int | str = Decimal(0),
    max_per_year: Decimal | int | str | None = None,
    fixed: dict[int, Decimal] | None = None,
    step: Decimal | int | str = Decimal("0.01"),
    granted_rate: Decimal | str | None = None,
) -> Plan:
    """The schedule of annual amounts summing to ``total_usd`` that maximises the total reward.

    A year no rate source covers is planned at an assumed rate (``fx_assume``, or the last full
    year's average in the sources) and marked ``fx_assumed``.

    Every argument is read as `fdi plan` reads its option: amounts, rates and years by the one
    parser of each (Decimal, int or text such as "30,000,000"; a float is refused), ``years`` a
    list of years (each once) or a text such as "2024-2026". Bad input raises an InputError
    naming the argument; the library raises only FdiError subclasses.
    """
    args = read_plan_args(total_usd, years, fx_assume=fx_assume, min_per_year=min_per_year,
                          max_per_year=max_per_year, fixed=fixed, step=step)
    total_usd, years, step, fixed = args["total_usd"], args["years"], args["step"], args["fixed"]
    fx_assume, min_per_year, max_per_year = args["fx_assume"], args["min_per_year"], args["max_per_year"]
    kind_norm = KIND_NAMES.get(normalise_name(read_text(kind, "kind", N_("new or capital-increase"), optional=False)))
    if kind_norm is None:
        raise InputError("kind", kind, _("new or capital-increase"))
    if policy is not None and not isinstance(policy, (str, LoadedPolicy)):
        raise InputError("policy", policy, _("a policy id, a policy file's path or a LoadedPolicy"))
    if reading is not None and reading not in ("converted", "nominal"):
        raise InputError("reading", reading, _("converted or nominal"))
    cls = classify(read_text(sector, "sector", N_("a sector name such as services")),
                   read_text(industry_code, "industry_code", N_("a GB/T 4754-2017 code such as C3670")))
    if granted_rate is not None:
        granted_rate = parse_granted_rate(granted_rate, "granted_rate")
    if max_per_year is not None and max_per_year < min_per_year:
        raise InputError("max_per_year", str(max_per_year), _("at least {min_per_year} ({minimum})").format(
            min_per_year=arg("min_per_year"), minimum=min_per_year))
    for y in fixed:
        if y not in years:
            raise InputError("fixed", f"{y}={fixed[y]}", _("a year within {years} ({first}-{last})").format(
                years=arg("years"), first=years[0], last=years[-1]))
    forced = get_policy(policy) if isinstance(policy, str) else policy
    if forced is not None and forced.policy.shapes_plan_cannot():
        raise PolicyError(_("{policy}: fdi plan cannot plan it yet: {why}; use fdi calc or fdi compare for each year").format(
            policy=forced.policy.id, why=_("; ").join(_("{shape} ({why})").format(shape=_(a), why=_(b))
                                                       for a, b in forced.policy.shapes_plan_cannot())))
    chain = _fx_chain(fx)
    free_total = total_usd - sum(fixed.values(), Decimal(0))
    if free_total < 0:
        raise InputError("fixed", str(sum(fixed.values())), _("amounts adding up to no more than {total_usd} ({total})").format(
            total_usd=arg("total_usd"), total=total_usd))
    if (free_total / step) % 1 != 0:
        raise InputError("step", str(step), _("a step that divides the amount left to plan ({left})").format(left=free_total))
    units = int(free_total / step)
    lo_units = int(_grid_ceil(min_per_year, step) / step)
    hi_units = units if max_per_year is None else min(units, int(_grid_floor(max_per_year, step) / step))

    ys: list[_Year] = []
    for year in years:
        pol = (forced or policy_for_year(year)).policy
        rd = reading or pol.conversion.default
        q = None
        if rd == "converted":
            try:
                q = chain.quote("USD", on=None, year=year)
            except FxError:
                q = assumed_rate(chain, year, rate=fx_assume)
        rate = q.rate if q else Decimal(1)
        ys.append(_Year(year, pol, rd, rate, q, lo_units, hi_units, fixed.get(year)))
    free = [y for y in ys if y.fixed is None]
    if not free and free_total != 0:
        raise InputError("fixed", "", "", _("{fixed_arg}: every year is fixed, and the amounts add up to {fixed}, not {total_usd} "
                                             "({total}); leave a year free or make them add up").format(
            fixed_arg=arg("fixed"), fixed=money_fmt(total_usd - free_total), total_usd=arg("total_usd"), total=money_fmt(total_usd)))
    if len(free) * lo_units > units or (free and len(free) * hi_units < units):
        raise InputError("total_usd", str(total_usd), _feasible_totals(len(free), lo_units * step, hi_units * step if max_per_year is not None
                                                                           else None, total_usd - free_total))

    def reward(y: _Year, amount: Decimal, fx_factor: Decimal = Decimal(1)):
        base = amount if y.counted else Decimal(0)  # (the base as `fdi calc` counts it: see engine.evaluate_year)
        with decimal.localcontext(EXACT):
            return decide(
                y.policy, category=cls.category, code=cls.code, kind=kind_norm, base_usd=base,
                base_cny_converted=base * y.fx * fx_factor, reading=y.reading, granted_rate=granted_rate,
            )

    def value(y: _Year, units_: int) -> tuple[Decimal, Decimal]:
        """(the reward before rounding, the payout) of ``units_`` steps in year ``y``."""
        d = reward(y, units_ * step)
        with decimal.localcontext(EXACT):
            return (d.cap if d.capped else d.gross_cny), d.incentive_cny

    if granted_rate is not None:
        _check_granted(free, cls.category, step, granted_rate)
    cands = [_candidates(y, cls.category, step, granted_rate, kind_norm) for y in free]
    started = time.perf_counter()
    chosen, examined = optimise(free, cands, units, value, step)
    seconds = time.perf_counter() - started
    amounts = {y.year: y.fixed for y in ys if y.fixed is not None}
    amounts.update({y.year: k * step for y, k in zip(free, chosen)})

    def schedule(name: str, amts: dict[int, Decimal], fx_factor: Decimal = Decimal(1)) -> Schedule:
        rows = []
        for y in ys:
            d = reward(y, amts[y.year], fx_factor)
            near, dist = _nearest_threshold(y.policy, cls.category, amts[y.year]) if y.counted else (None, None)
            rows.append(PlanYear(
                year=y.year, paid_in_usd=amts[y.year], fixed=y.fixed is not None, policy=y.policy.id,
                tier=d.tier.id if d.tier else None, rate=d.rate,
                fx_rate=y.fx * fx_factor if y.reading == "converted" else None,
                fx_assumed=bool(y.quote and y.quote.assumed),
                incentive_cny=d.incentive_cny, capped=d.capped, nearest_threshold=near,
                distance_to_threshold_usd=dist,
                cap_binds_above_usd=cap_point(y.policy, cls.category, fx=y.fx * fx_factor, reading=y.reading,
                                              granted_rate=granted_rate, code=cls.code, kind=kind_norm)
                if d.rate is not None and y.counted else None,
                policy_status=y.policy.status_for(y.year),
            ))
        within = all(
            amts[y.year] == y.fixed if y.fixed is not None else y.lo * step <= amts[y.year] <= y.hi * step for y in ys
        )
        with decimal.localcontext(EXACT):
            total = sum((r.incentive_cny for r in rows), Decimal(0))
        return Schedule(name=name, schedule=rows, total_incentive_cny=total, within_constraints=within)

    best_s = schedule("plan", amounts)
    baselines = {}
    if free:
        first = {y.year: (y.fixed if y.fixed is not None else Decimal(0)) for y in ys}
        first[free[0].year] = free_total
        baselines["all_in_first_year"] = schedule(_("everything in the first free year"), first)
        each, extra = divmod(units, len(free))
        equal = {y.year: y.fixed for y in ys if y.fixed is not None}
        for i, y in enumerate(free):
            equal[y.year] = (each + (1 if i < extra else 0)) * step
        baselines["equal_split"] = schedule(_("equal split"), equal)
    # The search is exact before each year's rounding to the fen; after it a naive schedule may pay a
    # few fen more. Then the plan is that schedule (within the constraints), and says so.
    better = max((b for b in baselines.values() if b.within_constraints and b.total_incentive_cny > best_s.total_incentive_cny),
                 key=lambda b: b.total_incentive_cny, default=None)
    rounding_note = None
    if better is not None:
        rounding_note = _("Once each year is rounded to the fen, the {schedule} pays {amount} more than the schedule the "
                          "search found (the best before that rounding): the plan is the {schedule}.").format(
            schedule=better.name, amount=money_fmt(better.total_incentive_cny - best_s.total_incentive_cny, "CNY"))
        amounts = {y.year: y.paid_in_usd for y in better.schedule}
        best_s = schedule("plan", amounts)
    gains = {k: best_s.total_incentive_cny - b.total_incentive_cny for k, b in baselines.items()}
    shocks = {
        "fx_-5%": schedule("fx -5%", amounts, 1 - FX_SHOCK).total_incentive_cny,
        "fx_+5%": schedule("fx +5%", amounts, 1 + FX_SHOCK).total_incentive_cny,
    }
    assumed = [y.year for y in ys if y.quote is not None and y.quote.assumed]
    notes = [
        _("Advice under the stated policy reading and FX assumptions, not a legal opinion."),
        _("The 'no duplicate support' rule (同一方向不重复支持), other funds and district top-ups are not modelled."),
        _(TIE_RULE),
        _("Each year's payout is rounded once to the fen, as fdi calc does; the plan is exact before that rounding "
          "and no schedule pays more than a fen a year more."),
    ]
    if rounding_note:
        notes.append(rounding_note)
    uncounted = [y.year for y in ys if not y.counted]
    if uncounted:
        notes.append(_("{years}: {policies} does not count equity paid in toward the base (it counts {counts}): "
                       "capital planned in those years earns nothing, as fdi calc says.").format(
            years=_years_text(uncounted), policies=", ".join(sorted({y.policy.id for y in ys if not y.counted})),
            counts=_(", ").join(_(COUNTED[c]) for c in sorted({c for y in ys if not y.counted for c in y.policy.base.counts}))))
    continued = [y.year for y in ys if y.policy.status_for(y.year) == "assumed_continuation"]
    if continued:
        ids = sorted({y.policy.id for y in ys if y.year in continued})
        notes.append(_("{years}: {policies} is applied after the period its source states "
                       "(assumed continuation): those years' payouts rest on that assumption.").format(
            years=_years_text(continued), policies=", ".join(ids)))
    if assumed:
        notes.append(_("No exchange rate is known for {years}: those years are planned at an assumed "
                       "rate (see FX); their payouts rest on it.").format(years=_years_text(assumed)))
    resting = _gain_on_assumed_rates(ys, gains, lambda low: plan(
        total_usd, years, sector=sector, industry_code=industry_code, kind=kind, fx=chain, fx_assume=low,
        policy=forced, reading=reading, min_per_year=min_per_year, max_per_year=max_per_year, fixed=fixed, step=step,
        granted_rate=granted_rate), fx_assume)
    if resting:
        key = "equal_split" if "equal_split" in resting else next(iter(resting))
        notes.append(_("Of the gain over the {schedule}, {amount} rests on the assumed exchange rate of {years}: planned "
                       "with those years at the lowest rate a source gives for the others, the plan gains {left}.").format(
            schedule=baselines[key].name, amount=money_fmt(resting[key], "CNY"), years=_years_text(assumed),
            left=money_fmt(gains[key] - resting[key], "CNY")))
    return Plan(
        schedule=best_s.schedule, total_incentive_cny=best_s.total_incentive_cny, total_usd=total_usd,
        baselines=baselines, gain_over_baselines_cny=gains, gain_resting_on_assumed_rates_cny=resting, fx_sensitivity=shocks, category=cls.category, sector=cls.sector,
        reading=reading or ys[0].reading, step_usd=step,
        fx_sources={y.year: (y.quote.source if y.quote else _("nominal reading: no exchange rate")) for y in ys},
        fx_assumed_years=assumed, assumed_continuation_years=continued, policies=sorted({y.policy.id for y in ys}),
        search=Search(candidates_usd={y.year: [k * step for k in c] for y, c in zip(free, cands)},
                      states_examined=examined, seconds=round(seconds, 6), tie_rule=_(TIE_RULE)),
        notes=notes,
    )


def _gain_on_assumed_rates(ys: list[_Year], gains: dict[str, Decimal], replan, fx_assume: Decimal | None) -> dict[str, Decimal]:
    """Of each gain, the part resting on the rates assumed for years no source covers: the gain less
    the gain of the plan ``replan(rate)`` makes with those years at the lowest rate a source gives
    for the others (so no assumed year is favoured by its rate). Empty when no year is assumed, no
    year is known, or the assumed rate is already that lowest one."""
    known = [y.fx for y in ys if y.quote is not None and not y.quote.assumed]
    if not known or not any(y.quote is not None and y.quote.assumed for y in ys) or fx_assume == min(known):
        return {}
    low = replan(min(known))
    with decimal.localcontext(EXACT):
        resting = {k: g - low.gain_over_baselines_cny.get(k, Decimal(0)) for k, g in gains.items()}
    return {k: r for k, r in resting.items() if r > 0}


def _years_text(years: list[int]) -> str:
    """2027-2030 for a run, else a list."""
    if len(years) > 2 and years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}-{years[-1]}"
    return _(", ").join(str(y) for y in years)


def _grid_floor(x: Decimal, step: Decimal) -> Decimal:
    with decimal.localcontext(EXACT):
        return (x / step).to_integral_value(ROUND_FLOOR) * step


def _grid_ceil(x: Decimal, step: Decimal) -> Decimal:
    with decimal.localcontext(EXACT):
        return (x / step).to_integral_value(ROUND_CEILING) * step


def _units_floor(x: Decimal, step: Decimal) -> int:
    with decimal.localcontext(EXACT):
        return int((x / step).to_integral_value(ROUND_FLOOR))


def _candidates(y: _Year, category: str, step: Decimal, granted: Decimal | None, kind: str = "new") -> list[int]:
    """The ends of the linear pieces of one year's reward, in steps, within the year's bounds: either
    side of each threshold and band's top the project can reach, and of each cap's point."""
    points = {y.lo, y.hi}
    if not y.counted:  # (nothing the plan places counts: the reward is flat)
        return sorted(points)
    per_usd = y.fx if y.reading == "converted" else Decimal(1)
    for tier in rule(y.policy, category, kind).tiers:
        last_not = _units_floor(tier.threshold, step)
        if tier.comparator == "ge" and last_not * step == tier.threshold:
            last_not -= 1
        points |= {last_not, last_not + 1}
        if tier.below is not None:
            last_in = _units_floor(tier.below, step)
            if last_in * step == tier.below:
                last_in -= 1
            points |= {last_in, last_in + 1}
        if tier.cap is not None:
            with decimal.localcontext(EXACT):
                last_under = _units_floor(tier.cap / (per_usd * (granted if granted is not None else tier.rate)), step)
            points |= {last_under, last_under + 1}  # (the most steps whose reward is not over the cap)
    return sorted(p for p in points if y.lo <= p <= y.hi)


def _check_granted(free: list[_Year], category: str, step: Decimal, granted: Decimal) -> None:
    """A granted rate must suit every tier the plan may reach (a floor's granted rate is not below it)."""
    for y in free:
        for tier in y.policy.tiers:
            if y.counted and tier.applies_to(category) and tier.threshold.passed_by(y.hi * step):
                check_granted_rate(tier, granted)


def _nearest_threshold(policy: Policy, category: str, amount: Decimal) -> tuple[str | None, Decimal | None]:
    best = None
    for tier in policy.tiers:
        if tier.applies_to(category):
            dist = amount - tier.threshold.amount
            if best is None or abs(dist) < abs(best[1]):
                best = (tier.id, dist)
    return best if best else (None, None)
