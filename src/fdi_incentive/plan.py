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
which kind of year it was: same policy, rate and bounds pay the same). From each state a year
takes one of its candidates, or (once) becomes the remainder; at the end the remainder takes
the R left. States are pruned by dominance: a state with less left to place and no larger
reward so far than another is dropped, which loses nothing because the best reward of the
years to come never falls when they have more to place (every f_t is non-decreasing and the
extra capital fits under their bounds). That prune is only applied to remainder states whose
kind of year has no binding upper bound, where the same holds. A second pass, from the last
year back over the states that are left, picks the schedule: the largest paid total, and of
equal totals the earliest (Claim 2), comparing whole schedules.

Rounding. Each year's payout is rounded once to the fen, as `fdi calc` does, and that is what
the plan sums and maximises, over the family. Claims 1-2 hold for the reward before rounding;
each year's rounding moves it by at most half a fen, so no schedule pays more than the plan by
(n - 1) fen or more, and where every amount's reward is already a whole number of fen (a
step of USD 1,000 or more at a rate of four decimals and tiers of 0.1 %) the plan is exactly
the best. Every planned year re-assessed with `assess()` gives the payout the plan claims.
"""

import decimal
import time
from bisect import bisect_left
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any, Callable

from pydantic import BaseModel, ConfigDict, Field

from .engine import _fx_chain, cap_point, check_granted_rate, decide
from .errors import FxError, InputError
from .fx import Quote, RateSource, assumed_rate
from .industry import classify, normalise_name
from .money import EXACT, Money, Rate
from .policy import KIND_NAMES, LoadedPolicy, Policy, PolicyStatus, Reading, get_policy, policy_for_year

FX_SHOCK = Decimal("0.05")
MAX_YEARS = 30
TIE_RULE = "Of schedules paying the same total, the plan pays in earliest: the most in the first year, then the second, and so on."


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
    fx_sensitivity: dict[str, Money] = Field(description="the plan's total if every year's FX rate moves by -5% / +5%")
    category: str
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


def parse_years(text: str) -> list[int]:
    """'2024-2026' or '2024,2025,2027'."""
    try:
        if "-" in text and "," not in text:
            a, b = (int(x) for x in text.split("-"))
            years = list(range(a, b + 1))
        else:
            years = sorted({int(x) for x in text.split(",") if x.strip()})
    except ValueError:
        raise InputError("--years", text, "a range such as 2024-2026 or a list such as 2024,2025,2027") from None
    if not years or len(years) > MAX_YEARS:
        raise InputError("--years", text, f"between 1 and {MAX_YEARS} calendar years, first to last")
    return years


def plan(
    total_usd: Decimal,
    years: list[int],
    *,
    sector: str | None = None,
    industry_code: str | None = None,
    kind: str = "new",
    fx: RateSource | Decimal | str | None = None,
    fx_assume: Decimal | None = None,
    policy: str | LoadedPolicy | None = None,
    reading: Reading | None = None,
    min_per_year: Decimal = Decimal(0),
    max_per_year: Decimal | None = None,
    fixed: dict[int, Decimal] | None = None,
    step: Decimal = Decimal("0.01"),
    granted_rate: Decimal | None = None,
) -> Plan:
    """The schedule of annual amounts summing to ``total_usd`` that maximises the total reward.

    A year no rate source covers is planned at an assumed rate (``fx_assume``, or the last full
    year's average in the sources) and marked ``fx_assumed``.
    """
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
        raise InputError("--fixed", "all years", f"amounts that add up to --total-usd ({total_usd})")
    if len(free) * lo_units > units or (free and len(free) * hi_units < units):
        raise InputError("--total-usd", str(total_usd), "a total that fits between the per-year minimum and maximum")

    def reward(y: _Year, amount: Decimal, fx_factor: Decimal = Decimal(1)):
        with decimal.localcontext(EXACT):
            return decide(
                y.policy, category=cls.category, code=cls.code, kind=kind_norm, base_usd=amount,
                base_cny_converted=amount * y.fx * fx_factor, reading=y.reading, granted_rate=granted_rate,
            )

    def value(y: _Year, units_: int) -> tuple[Decimal, Decimal]:
        """(the reward before rounding, the payout) of ``units_`` steps in year ``y``."""
        d = reward(y, units_ * step)
        with decimal.localcontext(EXACT):
            return (y.policy.cap.amount if d.capped else d.gross_cny), d.incentive_cny

    if granted_rate is not None:
        _check_granted(free, cls.category, step, granted_rate)
    cands = [_candidates(y, cls.category, step, granted_rate) for y in free]
    started = time.perf_counter()
    chosen, examined = _optimise(free, cands, units, value, step)
    seconds = time.perf_counter() - started
    amounts = {y.year: y.fixed for y in ys if y.fixed is not None}
    amounts.update({y.year: k * step for y, k in zip(free, chosen)})

    def schedule(name: str, amts: dict[int, Decimal], fx_factor: Decimal = Decimal(1)) -> Schedule:
        rows = []
        for y in ys:
            d = reward(y, amts[y.year], fx_factor)
            near, dist = _nearest_threshold(y.policy, cls.category, amts[y.year])
            rows.append(PlanYear(
                year=y.year, paid_in_usd=amts[y.year], fixed=y.fixed is not None, policy=y.policy.id,
                tier=d.tier.id if d.tier else None, rate=d.rate,
                fx_rate=y.fx * fx_factor if y.reading == "converted" else None,
                fx_assumed=bool(y.quote and y.quote.assumed),
                incentive_cny=d.incentive_cny, capped=d.capped, nearest_threshold=near,
                distance_to_threshold_usd=dist,
                cap_binds_above_usd=cap_point(y.policy, cls.category, fx=y.fx * fx_factor, reading=y.reading,
                                              granted_rate=granted_rate, code=cls.code) if d.rate is not None else None,
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
        baselines["all_in_first_year"] = schedule("everything in the first free year", first)
        each, extra = divmod(units, len(free))
        equal = {y.year: y.fixed for y in ys if y.fixed is not None}
        for i, y in enumerate(free):
            equal[y.year] = (each + (1 if i < extra else 0)) * step
        baselines["equal_split"] = schedule("equal split", equal)
    gains = {k: best_s.total_incentive_cny - b.total_incentive_cny for k, b in baselines.items()}
    shocks = {
        "fx_-5%": schedule("fx -5%", amounts, 1 - FX_SHOCK).total_incentive_cny,
        "fx_+5%": schedule("fx +5%", amounts, 1 + FX_SHOCK).total_incentive_cny,
    }
    assumed = [y.year for y in ys if y.quote is not None and y.quote.assumed]
    notes = [
        "Advice under the stated policy reading and FX assumptions, not a legal opinion.",
        "The 'no duplicate support' rule (同一方向不重复支持), other funds and district top-ups are not modelled.",
        TIE_RULE,
        "Each year's payout is rounded once to the fen, as fdi calc does; the plan is exact before that rounding "
        "and no schedule pays more than a fen a year more.",
    ]
    continued = [y.year for y in ys if y.policy.status_for(y.year) == "assumed_continuation"]
    if continued:
        ids = sorted({y.policy.id for y in ys if y.year in continued})
        notes.append(f"{_years_text(continued)}: {', '.join(ids)} is applied after the period its source states "
                     "(assumed continuation): those years' payouts rest on that assumption.")
    if assumed:
        notes.append(f"No exchange rate is known for {_years_text(assumed)}: those years are planned at an assumed "
                     "rate (see FX); their payouts rest on it.")
    return Plan(
        schedule=best_s.schedule, total_incentive_cny=best_s.total_incentive_cny, total_usd=total_usd,
        baselines=baselines, gain_over_baselines_cny=gains, fx_sensitivity=shocks, category=cls.category,
        reading=reading or ys[0].reading, step_usd=step,
        fx_sources={y.year: (y.quote.source if y.quote else "nominal reading: no exchange rate") for y in ys},
        fx_assumed_years=assumed, assumed_continuation_years=continued, policies=sorted({y.policy.id for y in ys}),
        search=Search(candidates_usd={y.year: [k * step for k in c] for y, c in zip(free, cands)},
                      states_examined=examined, seconds=round(seconds, 6)),
        notes=notes,
    )


def _years_text(years: list[int]) -> str:
    """2027-2030 for a run, else a list."""
    if len(years) > 2 and years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}-{years[-1]}"
    return ", ".join(str(y) for y in years)


def _grid_floor(x: Decimal, step: Decimal) -> Decimal:
    with decimal.localcontext(EXACT):
        return (x / step).to_integral_value(ROUND_FLOOR) * step


def _grid_ceil(x: Decimal, step: Decimal) -> Decimal:
    with decimal.localcontext(EXACT):
        return (x / step).to_integral_value(ROUND_CEILING) * step


def _units_floor(x: Decimal, step: Decimal) -> int:
    with decimal.localcontext(EXACT):
        return int((x / step).to_integral_value(ROUND_FLOOR))


def _candidates(y: _Year, category: str, step: Decimal, granted: Decimal | None) -> list[int]:
    """The ends of the linear pieces of one year's reward, in steps, within the year's bounds."""
    points = {y.lo, y.hi}
    rates = set()
    for tier in y.policy.tiers:
        if not tier.applies_to(category):
            continue
        last_not = _units_floor(tier.threshold.amount, step)
        if tier.threshold.comparator == "ge" and last_not * step == tier.threshold.amount:
            last_not -= 1
        points |= {last_not, last_not + 1}
        rates.add(granted if granted is not None else tier.rate)
    cap = y.policy.cap.amount
    if cap is not None:
        per_usd = y.fx if y.reading == "converted" else Decimal(1)
        for r in rates:
            with decimal.localcontext(EXACT):
                last_under = _units_floor(cap / (per_usd * r), step)  # the most steps whose reward is not over the cap
            points |= {last_under, last_under + 1}
    return sorted(p for p in points if y.lo <= p <= y.hi)


def _check_granted(free: list[_Year], category: str, step: Decimal, granted: Decimal) -> None:
    """A granted rate must suit every tier the plan may reach (a floor's granted rate is not below it)."""
    for y in free:
        for tier in y.policy.tiers:
            if tier.applies_to(category) and tier.threshold.passed_by(y.hi * step):
                check_granted_rate(tier, granted)


def _nearest_threshold(policy: Policy, category: str, amount: Decimal) -> tuple[str | None, Decimal | None]:
    best = None
    for tier in policy.tiers:
        if tier.applies_to(category):
            dist = amount - tier.threshold.amount
            if best is None or abs(dist) < abs(best[1]):
                best = (tier.id, dist)
    return best if best else (None, None)


Value = Callable[["_Year", int], tuple[Decimal, Decimal]]
BEAM = 48  # states per year in the first, heuristic pass, which only finds a total to beat
MAX_STATES = 300_000  # the exact pass refuses beyond this many partial schedules, rather than run for minutes


class _Envelope:
    """An upper bound on what the years from t on can earn with R steps to place: each year's
    reward is at most its concave envelope (the upper hull of its rewards at its candidates,
    between which it is linear), and those are filled steepest piece first (a fractional knapsack)."""

    def __init__(self, years: list[tuple[Decimal, list[tuple[Decimal, int, Decimal]]]]) -> None:
        # per year: (reward at its least amount, hull pieces (slope rounded up, steps, reward gained))
        self.base = sum((y[0] for y in years), Decimal(0))
        self.slopes, self.ends, self.values = [], [], []
        room, got = 0, Decimal(0)
        for slope, steps, gain in sorted((piece for y in years for piece in y[1]), key=lambda p: -p[0]):
            room += steps
            got += gain
            self.slopes.append(slope)
            self.ends.append(room)
            self.values.append(got)

    def bound(self, extra: int) -> Decimal:
        """The bound with ``extra`` steps above every year's least amount."""
        j = bisect_left(self.ends, extra)
        if j == len(self.ends):
            return self.base + (self.values[-1] if self.values else 0)
        before = self.ends[j - 1] if j else 0
        return self.base + (self.values[j - 1] if j else 0) + self.slopes[j] * (extra - before)


def _hull(points: list[tuple[int, Decimal]]) -> tuple[Decimal, list[tuple[Decimal, int, Decimal]]]:
    """The upper concave hull of (steps, reward) points sorted by steps, from the first: its
    reward there and its pieces (slope rounded up, steps, reward gained), steepest first."""
    hull: list[tuple[int, Decimal]] = []
    for k, u in points:
        while len(hull) >= 2:
            (k1, u1), (k2, u2) = hull[-2], hull[-1]
            if (u2 - u1) * (k - k1) <= (u - u1) * (k2 - k1):  # the middle point is not above the chord
                hull.pop()
            else:
                break
        hull.append((k, u))
    pieces = []
    with decimal.localcontext(EXACT) as ctx:
        ctx.rounding = ROUND_CEILING
        for (k1, u1), (k2, u2) in zip(hull, hull[1:]):
            if u2 > u1:
                pieces.append(((u2 - u1) / (k2 - k1), k2 - k1, u2 - u1))
    return hull[0][1], pieces


def _optimise(free: list[_Year], cands: list[list[int]], total: int, value: Value, step: Decimal) -> tuple[list[int], int]:
    """The dynamic programme of the module's docstring: each free year's amount in steps, and
    the number of states examined. Amounts are whole numbers of steps; rewards exact Decimals."""
    n = len(free)
    if n == 0:
        return [], 0
    # Years that pay alike (policy, rate, bounds) are one kind of remainder year.
    kinds: dict[tuple, int] = {}
    kind_of = [kinds.setdefault((id(y.policy), y.reading, y.fx, y.lo, y.hi), t) for t, y in enumerate(free)]
    lo_after = [0] * (n + 1)
    hi_after = [0] * (n + 1)
    for t in range(n - 1, -1, -1):
        lo_after[t] = lo_after[t + 1] + free[t].lo
        hi_after[t] = hi_after[t + 1] + free[t].hi
    memo: dict[tuple[int, int], tuple[Decimal, Decimal]] = {}

    def val(t: int, k: int) -> tuple[Decimal, Decimal]:
        key = (kind_of[t], k)
        if key not in memo:
            memo[key] = value(free[t], k)
        return memo[key]

    with decimal.localcontext(EXACT):
        items = [_hull([(k, val(t, k)[0]) for k in cands[t]]) for t in range(n)]
        envelopes = [_Envelope(items[t:]) for t in range(n + 1)]
        rem_envelopes: dict[tuple[int, int], _Envelope] = {}

        def bound(t: int, left: int, g: int | None = None) -> Decimal:
            if g is None:
                return envelopes[t].bound(left - lo_after[t])
            if (t, g) not in rem_envelopes:
                rem_envelopes[(t, g)] = _Envelope(items[t:] + [items[g]])
            return rem_envelopes[(t, g)].bound(left - lo_after[t] - free[g].lo)

        def forward(beam: int | None, floor: Decimal):
            """The states each year leads to, with the best reward before rounding so far; states
            that cannot reach ``floor`` are dropped, and with ``beam`` all but the most promising."""
            # amount left -> (reward, amounts so far); the remainder year still to come
            plain: dict[int, tuple[Decimal, tuple[int, ...]]] = {total: (Decimal(0), ())}
            rem: dict[tuple[int, int], Decimal] = {}  # (amount left, kind of remainder year) -> reward of the others
            kept_plain, kept_rem = [set(plain)], [set(rem)]
            examined = 1
            for t in range(n):
                opts = [(k, val(t, k)[0]) for k in cands[t]]
                lo1, hi1 = lo_after[t + 1], hi_after[t + 1]
                nplain: dict[int, tuple[Decimal, tuple[int, ...]]] = {}
                nrem: dict[tuple[int, int], Decimal] = {}
                g_t = free[kind_of[t]]
                for left, (got, before) in plain.items():
                    for k, u in opts:
                        after = left - k
                        if after < lo1:
                            break
                        if after <= hi1:
                            v = got + u
                            cur = nplain.get(after)
                            if cur is None or v > cur[0] or (v == cur[0] and before + (k,) > cur[1]):
                                nplain[after] = (v, before + (k,))
                    if left - g_t.hi <= hi1 and left - g_t.lo >= lo1:  # year t takes the remainder
                        key = (left, kind_of[t])
                        if got > nrem.get(key, -1):
                            nrem[key] = got
                for (left, g), got in rem.items():
                    glo, ghi = free[g].lo, free[g].hi
                    for k, u in opts:
                        after = left - k
                        if after - glo < lo1:
                            break
                        if after - ghi <= hi1:
                            v = got + u
                            key = (after, g)
                            if v > nrem.get(key, -1):
                                nrem[key] = v
                plain = {left: got for left, got in _dominant(nplain).items() if got[0] + bound(t + 1, left) >= floor}
                by_kind: dict[int, dict[int, Decimal]] = {}
                for (left, g), got in nrem.items():
                    if got + bound(t + 1, left, g) >= floor:
                        by_kind.setdefault(g, {})[left] = got
                rem = {}
                for g, states in by_kind.items():  # (ties are kept: which pays in earlier is known at the end)
                    for left, got in _dominant(states, ties=True).items():
                        rem[(left, g)] = got
                if beam is not None:
                    plain = dict(sorted(plain.items(), key=lambda s: -(s[1][0] + bound(t + 1, s[0])))[:beam])
                    rem = dict(sorted(rem.items(), key=lambda s: -(s[1] + bound(t + 1, s[0][0], s[0][1])))[:beam])
                examined += len(plain) + len(rem)
                if examined > MAX_STATES:
                    raise InputError("--step", str(step), "a coarser --step or fewer free years: the exact search "
                                     f"passed {MAX_STATES:,} partial schedules (many different exchange rates and "
                                     "binding per-year bounds make it grow)")
                kept_plain.append(set(plain))
                kept_rem.append(set(rem))
            finals = [got[0] for left, got in plain.items() if left == 0]
            finals += [got + val(g, left)[0] for (left, g), got in rem.items() if free[g].lo <= left <= free[g].hi]
            return kept_plain, kept_rem, examined, max(finals, default=Decimal(-1))

        # A quick pass keeping a few states a year finds a total to beat; the exact pass then
        # drops every state whose bound falls short of it (such a state leads to no optimum).
        _, _, examined_beam, floor = forward(BEAM, Decimal(-1))
        kept_plain, kept_rem, examined, _ = forward(None, floor)
        examined += examined_beam

        # Backward: over the states kept, the largest paid total, then the earliest schedule.
        # best_plain[left] = (paid, amounts from this year on); best_rem[(left, g)] = (paid, -placed, amounts)
        best_plain: dict[int, tuple] = {0: (Decimal(0), ())} if 0 in kept_plain[n] else {}
        best_rem: dict[tuple[int, int], tuple] = {}
        for left, g in kept_rem[n]:
            if free[g].lo <= left <= free[g].hi:
                best_rem[(left, g)] = (val(g, left)[1], 0, ())
        for t in range(n - 1, -1, -1):
            opts = [(k, val(t, k)[1]) for k in cands[t]]
            nplain_b: dict[int, tuple] = {}
            for left in kept_plain[t]:
                best = None
                for k, p in opts:
                    nxt = best_plain.get(left - k)
                    if nxt is not None:
                        cand = (p + nxt[0], (k,) + nxt[1])
                        if best is None or cand > best:
                            best = cand
                r = best_rem.get((left, kind_of[t]))
                if r is not None:
                    cand = (r[0], (left + r[1],) + r[2])  # this year takes what the later years leave
                    if best is None or cand > best:
                        best = cand
                if best is not None:
                    nplain_b[left] = best
            nrem_b: dict[tuple[int, int], tuple] = {}
            for left, g in kept_rem[t]:
                best = None
                for k, p in opts:
                    nxt = best_rem.get((left - k, g))
                    if nxt is not None:
                        cand = (p + nxt[0], nxt[1] - k, (k,) + nxt[2])
                        if best is None or cand > best:
                            best = cand
                if best is not None:
                    nrem_b[(left, g)] = best
            best_plain, best_rem = nplain_b, nrem_b
    if total not in best_plain:  # (the bounds were checked: cannot happen)
        raise InputError("--total-usd", str(total), "a total that fits between the per-year minimum and maximum")
    return list(best_plain[total][1]), examined


def _dominant(states: dict[int, Any], ties: bool = False) -> dict[int, Any]:
    """Drop every state that has less left to place than another and a smaller value so far; of
    equal values (``ties`` false: reward and then the schedule so far) the one paying in later."""
    kept: dict[int, Any] = {}
    top = None
    for left in sorted(states, reverse=True):
        if top is None or states[left] > top or (ties and states[left] == top):
            kept[left] = states[left]
            top = states[left] if top is None or states[left] > top else top
    return kept
