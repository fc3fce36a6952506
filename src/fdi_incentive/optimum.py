"""The search behind `fdi plan`: a dynamic programme over the years' candidate amounts.

What it searches and why that is exact is proved in the docstring of `fdi_incentive.plan`;
this module only runs it, on whole numbers of steps and exact Decimal rewards.
"""

import decimal
from bisect import bisect_left
from decimal import ROUND_CEILING, Decimal
from typing import Any, Callable

from .errors import InputError, arg
from .i18n import _
from .money import EXACT

BEAM = 48  # states per year in the first, heuristic pass, which only finds a total to beat
MAX_STATES = 300_000  # the exact pass refuses beyond this many partial schedules, rather than run for minutes

Value = Callable[[Any, int], tuple[Decimal, Decimal]]  # (a year, steps) -> (reward before rounding, payout)


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


def optimise(free: list[Any], cands: list[list[int]], total: int, value: Value, step: Decimal) -> tuple[list[int], int]:
    """The dynamic programme of `fdi_incentive.plan`'s docstring: each free year's amount in
    steps, and the number of states examined. ``free`` are the free years (``lo``, ``hi`` in
    steps; ``policy``, ``reading``, ``fx`` tell which pay alike), ``cands`` their candidates."""
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
                    raise InputError("step", str(step), _("a coarser {step} or fewer free years: the exact search "
                                                          "passed {most} partial schedules (many different exchange rates and "
                                                          "binding per-year bounds make it grow)").format(
                        step=arg("step"), most=f"{MAX_STATES:,}"))
                kept_plain.append(set(plain))
                kept_rem.append(set(rem))
            finals = [got[0] for left, got in plain.items() if left == 0]
            finals += [got + val(g, left)[0] for (left, g), got in rem.items() if free[g].lo <= left <= free[g].hi]
            return kept_plain, kept_rem, examined, max(finals, default=Decimal(-1))

        # A quick pass keeping a few states a year finds a total to beat; the exact pass then
        # drops every state whose bound falls short of it (such a state leads to no optimum).
        _plain, _rem, examined_beam, floor = forward(BEAM, Decimal(-1))
        kept_plain, kept_rem, examined, _floor = forward(None, floor)
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
        raise InputError("total_usd", str(total), _("a total that fits between the per-year minimum and maximum"))
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
