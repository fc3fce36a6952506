"""Planning capital calls: the schedule of annual paid-in amounts that earns the largest reward.

Why a small candidate set is exact. For one year, the reward as a function of the
amount x is non-decreasing and piecewise linear: linear between the thresholds
(where the rate jumps) and the cap point (above which it is flat). Take an optimal
schedule under a fixed total. If two years both sat strictly inside linear pieces,
moving capital from the one with the smaller slope to the other would not lower
the total, and could be continued until one of them reached an end of its piece.
So some optimal schedule has every year but one at an end of a piece: a bound, the
last amount not passing a threshold, the first amount passing it, or an amount
next to a cap point (all on the step grid). The one remaining year takes what is
left. We enumerate exactly those schedules.

This is exact for the unrounded reward. The payout of each year is then rounded
once to the fen, which can move a year's payout by at most half a fen; the
reward the plan claims for each year is the one `fdi calc` computes for it.
"""

import decimal
import itertools
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pydantic import BaseModel, ConfigDict, Field

from .engine import _fx_chain, cap_point, decide
from .errors import InputError
from .fx import RateSource
from .industry import classify, normalise_name
from .money import EXACT, Money, Rate
from .policy import KIND_NAMES, LoadedPolicy, Policy, Reading, get_policy, policy_for_year

MAX_SCHEDULES = 3_000_000
FX_SHOCK = Decimal("0.05")


class PlanYear(BaseModel):
    model_config = ConfigDict(frozen=True)

    year: int
    paid_in_usd: Money
    fixed: bool = False
    policy: str
    tier: str | None
    rate: Rate | None
    fx_rate: Rate | None
    incentive_cny: Money
    capped: bool
    nearest_threshold: str | None = Field(None, description="the threshold nearest to this year's amount")
    distance_to_threshold_usd: Money | None = Field(None, description="amount minus that threshold: >0 above it, <=0 not over it")
    cap_binds_above_usd: Money | None = None


class Schedule(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    schedule: list[PlanYear]
    total_incentive_cny: Money
    within_constraints: bool = True


class Plan(BaseModel):
    """The best schedule, the naive ones beside it, and how fragile it is."""

    model_config = ConfigDict(frozen=True)

    schedule: list[PlanYear]
    total_incentive_cny: Money
    total_usd: Money
    baselines: dict[str, Schedule]
    gain_over_baselines_cny: dict[str, Money]
    fx_sensitivity: dict[str, Money] = Field(description="the plan's total if every year's FX rate moves by -5% / +5%")
    category: str
    reading: Reading
    step_usd: Money
    fx_sources: dict[int, str]
    policies: list[str]
    schedules_examined: int
    notes: list[str]


@dataclass(frozen=True)
class _Year:
    year: int
    policy: Policy
    fx: Decimal
    fx_source: str
    lo: Decimal
    hi: Decimal
    fixed: bool


def parse_years(text: str) -> list[int]:
    """'2024-2026' or '2024,2025,2027' (each year as `money.parse_year` reads one: 2024年 too)."""
    from .money import parse_year

    try:
        if "-" in text and "," not in text:
            a, b = (parse_year(x, "--years") for x in text.split("-"))
            years = list(range(a, b + 1))
        else:
            years = sorted({parse_year(x, "--years") for x in text.split(",") if x.strip()})
    except (ValueError, InputError):
        raise InputError("--years", text, "a range such as 2024-2026 or a list such as 2024,2025,2027 "
                                          "of years from 1900 to 2200") from None
    if not years or len(years) > 30:
        raise InputError("--years", text, "between 1 and 30 calendar years, first to last")
    return years


def plan(
    total_usd: Decimal,
    years: list[int],
    *,
    sector: str | None = None,
    industry_code: str | None = None,
    kind: str = "new",
    fx: RateSource | Decimal | str | None = None,
    policy: str | LoadedPolicy | None = None,
    reading: Reading | None = None,
    min_per_year: Decimal = Decimal(0),
    max_per_year: Decimal | None = None,
    fixed: dict[int, Decimal] | None = None,
    step: Decimal = Decimal("0.01"),
    granted_rate: Decimal | None = None,
) -> Plan:
    """The schedule of annual amounts summing to ``total_usd`` that maximises the total reward."""
    fixed = dict(fixed or {})
    kind_norm = KIND_NAMES.get(normalise_name(kind))
    if kind_norm is None:
        raise InputError("--kind", kind, "new or capital-increase")
    cls = classify(sector, industry_code)
    if step <= 0:
        raise InputError("--step", str(step), "a positive amount such as 0.01 or 1000000")
    if max_per_year is not None and max_per_year < min_per_year:
        raise InputError("--max-per-year", str(max_per_year), f"at least --min-per-year ({min_per_year})")
    for y in fixed:
        if y not in years:
            raise InputError("--fixed", f"{y}={fixed[y]}", f"a year within --years ({years[0]}-{years[-1]})")
    forced = get_policy(policy) if isinstance(policy, str) else policy
    chain = _fx_chain(fx)
    free_total = total_usd - sum(fixed.values(), Decimal(0))
    if free_total < 0:
        raise InputError("--fixed", str(sum(fixed.values())), f"amounts adding up to no more than --total-usd ({total_usd})")
    if (free_total / step) % 1 != 0:
        raise InputError("--step", str(step), f"a step that divides the amount left to plan ({free_total})")

    ys: list[_Year] = []
    for year in years:
        lp = forced or policy_for_year(year)
        pol = lp.policy
        rd = reading or pol.conversion.default
        q = chain.quote("USD", on=None, year=year) if rd == "converted" else None
        rate, src = (q.rate, q.source) if q else (Decimal(1), "nominal reading: no exchange rate")
        if year in fixed:
            ys.append(_Year(year, pol, rate, src, fixed[year], fixed[year], True))
        else:
            hi = free_total if max_per_year is None else min(max_per_year, free_total)
            ys.append(_Year(year, pol, rate, src, min_per_year, hi, False))
    free = [y for y in ys if not y.fixed]
    if not free and free_total != 0:
        raise InputError("--fixed", "all years", f"amounts that add up to --total-usd ({total_usd})")
    if sum((y.lo for y in free), Decimal(0)) > free_total or (free and sum((y.hi for y in free), Decimal(0)) < free_total):
        raise InputError("--total-usd", str(total_usd), "a total that fits between the per-year minimum and maximum")

    def reward(y: _Year, amount: Decimal, fx_factor: Decimal = Decimal(1)):
        rd = reading or y.policy.conversion.default
        with decimal.localcontext(EXACT):
            return decide(
                y.policy, category=cls.category, code=cls.code, kind=kind_norm, base_usd=amount,
                base_cny_converted=amount * y.fx * fx_factor, reading=rd, granted_rate=granted_rate,
            )

    cache: dict[tuple[int, Decimal], tuple[Decimal, Decimal]] = {}

    def value(y: _Year, amount: Decimal) -> tuple[Decimal, Decimal]:
        key = (y.year, amount)
        if key not in cache:
            d = reward(y, amount)
            cache[key] = (d.incentive_cny, d.gross_cny if not d.capped else y.policy.cap.amount)
        return cache[key]

    candidates = {y.year: _candidates(y, cls.category, step, granted_rate, reading) for y in free}
    best: tuple | None = None
    examined = 0
    fixed_value = [value(y, y.lo) for y in ys if y.fixed]
    if not free:
        combos: list[dict[int, Decimal]] = [{}]
    else:
        count = sum(
            _product_size([candidates[o.year] for o in free if o is not j]) for j in free
        )
        if count > MAX_SCHEDULES:
            raise InputError("--years", f"{len(free)} free years", "fewer free years (fix some with --fixed) or a coarser --step")
        combos = _schedules(free, candidates, free_total, step)
    for combo in combos:
        examined += 1
        vals = [value(y, combo[y.year]) for y in free] + fixed_value
        paid = sum((v[0] for v in vals), Decimal(0))
        exact = sum((v[1] for v in vals), Decimal(0))
        order = tuple(combo[y.year] for y in free)
        key = (paid, exact, order)
        if best is None or key > best[0]:
            best = (key, combo)
    assert best is not None
    amounts = {y.year: (y.lo if y.fixed else best[1][y.year]) for y in ys}

    def schedule(name: str, amts: dict[int, Decimal], fx_factor: Decimal = Decimal(1)) -> Schedule:
        rows = []
        for y in ys:
            d = reward(y, amts[y.year], fx_factor)
            near, dist = _nearest_threshold(y.policy, cls.category, amts[y.year])
            cap_above = None
            if d.rate is not None:
                cap_above = cap_point(y.policy, cls.category, fx=y.fx * fx_factor, granted_rate=granted_rate,
                                      reading=reading or y.policy.conversion.default, code=cls.code)
            rows.append(PlanYear(
                year=y.year, paid_in_usd=amts[y.year], fixed=y.fixed, policy=y.policy.id,
                tier=d.tier.id if d.tier else None, rate=d.rate,
                fx_rate=y.fx * fx_factor if (reading or y.policy.conversion.default) == "converted" else None,
                incentive_cny=d.incentive_cny, capped=d.capped, nearest_threshold=near,
                distance_to_threshold_usd=dist, cap_binds_above_usd=cap_above,
            ))
        within = all(y.lo <= amts[y.year] <= y.hi for y in ys)
        return Schedule(name=name, schedule=rows, total_incentive_cny=sum((r.incentive_cny for r in rows), Decimal(0)),
                        within_constraints=within)

    best_s = schedule("plan", amounts)
    baselines = {}
    if free:
        first = {y.year: (y.lo if y.fixed else Decimal(0)) for y in ys}
        first[free[0].year] = free_total
        baselines["all_in_first_year"] = schedule("everything in the first free year", first)
        n = len(free)
        units = int(free_total / step)
        each, extra = divmod(units, n)
        equal = {y.year: y.lo for y in ys if y.fixed}
        for i, y in enumerate(free):
            equal[y.year] = (each + (1 if i < extra else 0)) * step
        baselines["equal_split"] = schedule("equal split", equal)
    gains = {k: best_s.total_incentive_cny - b.total_incentive_cny for k, b in baselines.items()}
    shocks = {
        "fx_-5%": schedule("fx -5%", amounts, 1 - FX_SHOCK).total_incentive_cny,
        "fx_+5%": schedule("fx +5%", amounts, 1 + FX_SHOCK).total_incentive_cny,
    }
    notes = [
        "Advice under the stated policy reading and FX assumptions, not a legal opinion.",
        "The 'no duplicate support' rule (同一方向不重复支持), other funds and district top-ups are not modelled.",
        "Exact for the unrounded reward; each year's payout is then rounded once to the fen, as fdi calc does.",
    ]
    return Plan(
        schedule=best_s.schedule, total_incentive_cny=best_s.total_incentive_cny, total_usd=total_usd,
        baselines=baselines, gain_over_baselines_cny=gains, fx_sensitivity=shocks, category=cls.category,
        reading=reading or ys[0].policy.conversion.default, step_usd=step,
        fx_sources={y.year: y.fx_source for y in ys}, policies=sorted({y.policy.id for y in ys}),
        schedules_examined=examined, notes=notes,
    )


def _grid_floor(x: Decimal, step: Decimal) -> Decimal:
    return (x / step).to_integral_value(ROUND_FLOOR) * step


def _grid_ceil(x: Decimal, step: Decimal) -> Decimal:
    return (x / step).to_integral_value(ROUND_CEILING) * step


def _candidates(y: _Year, category: str, step: Decimal, granted: Decimal | None, reading) -> list[Decimal]:
    """The ends of the linear pieces of one year's reward, on the grid and within the year's bounds."""
    points = {y.lo, y.hi}
    with decimal.localcontext(EXACT):
        rates = set()
        for tier in y.policy.tiers:
            if not tier.applies_to(category):
                continue
            t = tier.threshold.amount
            first_pass = _grid_floor(t, step) + step if tier.threshold.comparator == "gt" else _grid_ceil(t, step)
            points |= {first_pass, first_pass - step}
            rates.add(granted if granted is not None else tier.rate)
        cap = y.policy.cap.amount
        if cap is not None:
            per_usd_fx = y.fx if (reading or y.policy.conversion.default) == "converted" else Decimal(1)
            for r in rates:
                x = cap / (per_usd_fx * r)
                points |= {_grid_floor(x, step), _grid_ceil(x, step)}
    return sorted(p for p in points if y.lo <= p <= y.hi)


def _product_size(lists: list[list[Decimal]]) -> int:
    n = 1
    for lst in lists:
        n *= len(lst)
    return n


def _schedules(free: list[_Year], candidates: dict[int, list[Decimal]], total: Decimal, step: Decimal):
    """Every schedule with all free years but one at a candidate, the one left taking the remainder."""
    seen = set()
    for j in free:
        others = [y for y in free if y is not j]
        for combo in itertools.product(*(candidates[o.year] for o in others)):
            rest = total - sum(combo, Decimal(0))
            if not (j.lo <= rest <= j.hi):
                continue
            amounts = dict(zip((o.year for o in others), combo))
            amounts[j.year] = rest
            key = tuple(amounts[y.year] for y in free)
            if key in seen:
                continue
            seen.add(key)
            yield amounts


def _nearest_threshold(policy: Policy, category: str, amount: Decimal) -> tuple[str | None, Decimal | None]:
    best = None
    for tier in policy.tiers:
        if tier.applies_to(category):
            dist = amount - tier.threshold.amount
            if best is None or abs(dist) < abs(best[1]):
                best = (tier.id, dist)
    return best if best else (None, None)
