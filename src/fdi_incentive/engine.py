"""Applying a policy to a project's years: the one place where the rule logic lives.

The steps follow the clause (docs/policy.md): choose the policy in force, classify the sector,
drop excluded sectors, add up the base (equity and reinvested profits, never
shareholder loans), test each tier's threshold with the comparator the policy
file names, take the best tier (tiers do not stack), apply the rate, convert,
cap, and round once. Every number comes from the policy file.
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal

from .errors import InputError
from .i18n import N_, _, pick
from .industry import Classification
from .models import (
    ArrivalLine,
    PartResult,
    Sensitivity,
    TierTest,
    YearResult,
)
from .rules import _part_rates, check_granted_rate, excluded_by_code, rule
from .money import EXACT, percent_fmt, round_money
from .money import cny as _cny
from .money import usd as _usd
from .placing import Where
from .policy import (FLAG_NAMES, Part, COMPARATOR_WORDS, KIND_SHORT_NAMES, RATE_TYPE_NAMES, ROUNDING_NAMES, LoadedPolicy, Policy, Reading, Tier,
                     category_name, covered_period)

_ZERO = Decimal(0)
FIELDS = {"equity": "paid_in", "reinvested_profit": "reinvested_profit", "shareholder_loan": "shareholder_loans_usd"}


def parse_granted_rate(value: object, field: str = "rate") -> Decimal:
    """A granted rate: a fraction such as 0.05 for 5% (not '5%', not an FX rate); the rate parser's
    bounds and decimals otherwise."""
    from .money import parse_rate

    expected = N_("a fraction between 0 and 1, such as 0.05 (for 5%)")
    text = str(value).strip()
    if text.endswith("%") and _is_number(text[:-1]):
        raise InputError(field, value, _("{expected}; for {text} write {fraction}").format(
            expected=_(expected), text=text, fraction=Decimal(text[:-1].strip()) / 100))
    if _is_number(text) and Decimal(text) > 1:
        raise InputError(field, value, _(expected))
    return parse_rate(value, field, what=expected)


def _kind(kind: str) -> str:
    """A kind as a reason names it: its id, or under --lang zh its Chinese name (新设, 增资)."""
    return pick(kind, _(KIND_SHORT_NAMES[kind]) if kind in KIND_SHORT_NAMES else None)


def _is_number(text: str) -> bool:
    try:
        return Decimal(text.strip()).is_finite()
    except decimal.InvalidOperation:
        return False


@dataclass(frozen=True, slots=True)
class Decision:
    """What the rule decides for one project-year, before any explanation is written."""

    excluded: bool
    kind_ok: bool
    tier: Tier | None
    tests: list[tuple[Tier, bool, bool]]
    rate: Decimal | None
    base_cny: Decimal
    gross_cny: Decimal
    capped: bool
    incentive_cny: Decimal
    other_reading_incentive_cny: Decimal | None
    cap: Decimal | None = None  # the cap a project a year that applied (the lower of the policy's and the tier's)
    parts: tuple[tuple[Part, Decimal, Decimal], ...] = ()  # each part paid: (part, its rate, its payout)
    period_left: Decimal | None = None  # what a cap over a period of years left for this year
    period_capped: bool = False


def part_rates(tier: Tier, rate: Decimal) -> list[tuple[Part, Decimal]]:
    """Each part with the rate it pays under the tier's rate or a granted one (rules.py decides)."""
    return [(p, r.rate) for p, r in zip(tier.parts, _part_rates(tier, None if rate == tier.rate else rate))]


def decide(
    policy: Policy,
    *,
    category: str,
    code: str | None,
    kind: str,
    base_usd: Decimal,
    base_cny_converted: Decimal,
    reading: Reading,
    granted_rate: Decimal | None = None,
    convertible: bool = True,
    group: str | None = None,
    flags: frozenset[str] = frozenset(),
    year: int | None = None,
    paid_before: Decimal = _ZERO,
    tested_usd: Decimal | None = None,
) -> Decision:
    """The rule itself, for one project-year: exclusion, tier, rate, conversion, caps, one rounding
    of each part paid.

    ``base_cny_converted`` is the base converted at the arrivals' rates (the converted
    reading); under the nominal reading the USD figure is paid as yuan. ``group`` is the policy's
    place group the project is in, ``flags`` what it has (high_tech, hnte, priority);
    ``paid_before`` what the policy paid the project in earlier years of a tier's period cap;
    ``tested_usd`` the amount the thresholds are tested on where it is not the base (Shandong: the
    year's arrivals, while the base is the amount spent).
    Pure and fast: `evaluate_year` explains it, the planner searches with it.
    """
    r = rule(policy, category, kind, group=group, flags=flags)  # (what the policy decides: rules.py)
    excluded = r.excluded or excluded_by_code(policy, code)
    kind_ok = r.kind_ok
    reachable = {t.id for t in r.tiers}
    tested = base_usd if tested_usd is None else tested_usd
    tests = [(t, t.id in reachable, t.id in reachable and t.passed_by(tested)) for t in policy.tiers]
    picked = None if excluded else r.pick(tested)
    tier = picked.tier if picked is not None else None
    rate = None
    if tier is not None:
        if granted_rate is not None:
            check_granted_rate(tier, granted_rate)
        rate = tier.rate if granted_rate is None else granted_rate
    cap = picked.cap if picked is not None else None
    period = tier.period_cap if tier is not None and tier.period_cap and year is not None and tier.period_cap.covers(year) else None
    with decimal.localcontext(EXACT):
        quantum, mode = policy.rounding.quantum, policy.rounding.mode
        left = max(period.amount - paid_before, _ZERO) if period is not None else None

        def payout(base_cny: Decimal) -> tuple[Decimal, Decimal, bool, bool, tuple]:
            if rate is None:  # (nothing paid: 0, written to the payout's quantum as any payout)
                return _ZERO, round_money(_ZERO, quantum, mode), False, False, ()
            gross = base_cny * rate
            capped = cap is not None and gross > cap
            shares = [(p, pr, base_cny * pr) for p, pr in part_rates(tier, rate)] if tier.parts else [(None, rate, gross)]

            def fill(room: Decimal | None) -> list:
                paid = []
                for p, pr, share in shares:  # (each part rounded once; under a cap, paid in the order the text lists them)
                    each = round_money(share, quantum, mode)
                    if room is not None:
                        each = min(each, room)
                        room -= each
                    paid.append((p, pr, each))
                return paid

            paid = fill(round_money(cap, quantum, mode) if capped else None)
            total = sum((e for _, _, e in paid), _ZERO)
            period_capped = left is not None and total > left  # (what the years before left, to the fen: the rest)
            if period_capped:
                paid = fill(left)
                total = left
            return gross, total, capped, period_capped, tuple(x for x in paid if x[0] is not None)

        base_cny = base_cny_converted if reading == "converted" else base_usd
        gross, incentive, capped, period_capped, parts = payout(base_cny)
        other = None
        if (reading == "converted" or convertible) and not policy.conversion.fixed:
            other = payout(base_usd if reading == "converted" else base_cny_converted)[1]
    return Decision(excluded, kind_ok, tier, tests, rate, base_cny, gross, capped, incentive, other, cap, parts, left, period_capped)


def evaluate_year(
    lp: LoadedPolicy,
    *,
    year: int,
    kind: str,
    classification: Classification,
    paid_in_usd: Decimal,
    reinvested_usd: Decimal,
    shareholder_loans_usd: Decimal,
    base_cny_converted: Decimal,
    fx_rate: Decimal | None,
    fx_source: str | None,
    reading: Reading,
    granted_rate: Decimal | None = None,
    arrivals: list[ArrivalLine] | None = None,
    convertible: bool = True,
    where: Where | None = None,
    flags: frozenset[str] = frozenset(),
    spent_usd: Decimal | None = None,
    paid_before: Decimal = _ZERO,
    any_year: bool = False,
) -> YearResult:
    """The reward of one project-year under one policy, with every step explained.

    ``base_cny_converted`` is the counted base converted into CNY at the rates of
    the arrivals (used under the converted reading); ``fx_rate`` is the rate stated.
    ``where`` is the project's place as the policy sees it, ``flags`` what it has, ``spent_usd``
    the amount spent (for a base of the amount spent), ``paid_before`` what the policy paid in the
    earlier years of a period cap. With ``any_year``, a year outside the policy's dates pays
    nothing (not_yet, expired); without it, such a year is refused.
    """
    policy = lp.policy
    status = policy.status_in(year) if any_year else policy.status_for(year)
    category = classification.category
    counts = set(policy.base.counts)
    base_usd = (paid_in_usd if "equity" in counts else _ZERO) + (reinvested_usd if "reinvested_profit" in counts else _ZERO)
    paid_in_base = base_usd
    if policy.base.measure == "spent" and spent_usd is not None:
        base_usd = spent_usd
    shut = status in ("not_yet", "expired") or (where is not None and where.state != "in")
    if shut:
        r = rule(policy, category, kind)
        nothing = round_money(_ZERO, policy.rounding.quantum, policy.rounding.mode)
        d = Decision(where is not None and where.state == "excluded", r.kind_ok, None, [], None, _ZERO, _ZERO, False, nothing, None)
    else:
        d = decide(
            policy, category=category, code=classification.code, kind=kind, base_usd=base_usd,
            base_cny_converted=base_cny_converted * (base_usd / paid_in_base) if base_usd != paid_in_base and paid_in_base else
            base_cny_converted, reading=reading, granted_rate=granted_rate, convertible=convertible,
            group=where.group if where else None, flags=flags, year=year, paid_before=paid_before,
            tested_usd=paid_in_base if base_usd != paid_in_base else None,
        )

    covers = covered_period(policy)
    if status in ("not_yet", "expired"):
        reasons = [(_("{policy} ({title}) is not yet in force in {year}: it applies from {start}.") if status == "not_yet" else
                    _("{policy} ({title}) has expired by {year}: it applied to {end} ({cited}); nothing is paid.")).format(
            policy=policy.id, title=pick(policy.title, policy.title_zh), year=year, start=policy.effective.from_,
            end=policy.effective.to, cited=policy.effective.cited)]
    elif status == "in_force":
        reasons = [_("{policy} ({title}) is in force in {year}: within {covers}.").format(
            policy=policy.id, title=pick(policy.title, policy.title_zh), year=year, covers=covers)]
    else:
        reasons = [_("{policy} ({title}) is applied to {year} as an assumed continuation: after {covers}, "
                     "and no later rule was found.").format(policy=policy.id, title=pick(policy.title, policy.title_zh),
                                                            year=year, covers=covers)]
    if where is not None:
        reasons.append(where.reason)
    reasons.append(_("Category: {category}, from {basis}.").format(category=category_name(category), basis=classification.basis))
    reasons.extend(classification.notes)
    if policy.base.measure == "spent":
        reasons.append((_("Base: the amount spent, {amount}, as given; the thresholds are tested on the amount paid in ({cited}).")
                        if spent_usd is not None else
                        _("Base: the amount spent rules ({cited}); none was given, so the amount paid in is used: "
                          "give the amount spent (spent_usd) where it differs.")).format(
            amount=_usd(spent_usd) if spent_usd is not None else "", cited=policy.base.cited))
    if reinvested_usd and "reinvested_profit" in counts:
        reasons.append(_("Reinvested profits {amount} count toward the base ({cited}).").format(
            amount=_usd(reinvested_usd), cited=policy.base.cited))
    if shareholder_loans_usd:
        reasons.append(
            _("Foreign shareholder loans {amount} are shown but not counted ({cited}).").format(
                amount=_usd(shareholder_loans_usd), cited=policy.base.cited)
        )
    reasons.append(_("Base: {amount} of foreign capital paid in during {year}.").format(amount=_usd(paid_in_base), year=year))
    tests = [
        TierTest(
            tier=t.id, label=pick(t.label, t.label_zh), threshold_usd=t.threshold.amount, comparator=t.threshold.comparator,
            applies_to_category=applies, passed=passed and not d.excluded, rate=t.rate, rate_type=t.rate_type,
            citation=t.cited,
        )
        for t, applies, passed in d.tests
    ]
    if shut:
        pass
    elif d.excluded:
        reasons.append(_("Excluded: {category} projects get nothing ({cited}).").format(
            category=category_name(category), cited=policy.exclusions.cited))
    elif not d.kind_ok:
        reasons.append(_("Kind '{kind}' is not one the policy rewards ({kinds}).").format(
            kind=_kind(kind), kinds=_(", ").join(_kind(k) for k in policy.base.kinds)))
    else:
        for t in tests:
            if not t.applies_to_category:
                tt = next(x for x in policy.tiers if x.id == t.tier)
                reasons.append(_("{tier}: not for {category} projects.").format(tier=t.label, category=category_name(category))
                               if not tt.applies_to(category) else _("{tier}: only for {what}.").format(tier=t.label, what=_for_whom(policy, tt)))
            else:
                verdict = _("passed") if t.passed else _("not passed")
                reasons.append(_("{tier}: is the base {comparator} {threshold}? {verdict} ({cited}).").format(
                    tier=t.label, comparator=_(COMPARATOR_WORDS[t.comparator]), threshold=_usd(t.threshold_usd),
                    verdict=verdict, cited=t.citation))
    tier = d.tier
    if tier is not None:
        if sum(1 for t in tests if t.passed) > 1:
            reasons.append(_("Tiers do not stack: only the {tier} applies ({cited}).").format(
                tier=pick(tier.label, tier.label_zh), cited=policy.stacking.cited))
        if granted_rate is not None:
            reasons.append(_("Rate {rate}, as granted (the {tier}'s {rate_type} is {tier_rate}).").format(
                rate=percent_fmt(granted_rate), tier=pick(tier.label, tier.label_zh), rate_type=_(RATE_TYPE_NAMES[tier.rate_type]),
                tier_rate=percent_fmt(tier.rate)))
        else:
            note = {"floor": N_("the floor (不低于): the bureau may grant more"), "ceiling": N_("the ceiling: the bureau may grant less"),
                    "exact": N_("fixed")}
            reasons.append(_("Rate {rate}, {note}.").format(rate=percent_fmt(tier.rate), note=_(note[tier.rate_type])))
    elif not d.excluded and d.kind_ok:
        reasons.append(_("No tier's threshold is passed: no reward this year."))
        if granted_rate is not None:
            reasons.append(_("The granted rate is not used: no tier applies."))
    if reading == "converted":
        reasons.append(_("Converted at {rate} CNY per USD ({source}): base {base}.").format(
            rate=fx_rate, source=fx_source, base=_cny(d.base_cny)))
    else:
        reasons.append(_("Nominal reading: the rate is applied to the USD figure and paid as yuan; no exchange rate is used."))
    cap = d.cap if d.tier is not None else policy.cap.amount
    if d.rate is not None:
        reasons.append(_("Gross reward: {base} × {rate} = {gross}.").format(base=_cny(d.base_cny), rate=percent_fmt(d.rate),
                                                                          gross=_cny(d.gross_cny)))
        if cap is not None:
            cited = tier.cap.cited if tier.cap is not None and tier.cap.amount == cap else policy.cap.cited
            if d.capped:
                reasons.append(_("Capped at {cap} a project a year ({cited}).").format(cap=_cny(cap), cited=cited))
            else:
                reasons.append(_("Within the annual cap of {cap} ({cited}).").format(cap=_cny(cap), cited=cited))
        if d.period_left is not None:
            pc = tier.period_cap
            reasons.append((_("Capped by the total over {start}-{end}: {left} of {cap} was left ({cited}).") if d.period_capped else
                            _("Within the total over {start}-{end}: {left} of {cap} was left ({cited}).")).format(
                start=pc.from_, end=pc.to, left=_cny(d.period_left), cap=_cny(pc.amount), cited=pc.cited))
        for part, prate, paid in d.parts:
            reasons.append(_("{payer}: {rate} ({rate_type}), pays {payout} ({cited}).").format(
                payer=pick(part.label, part.label_zh), rate=percent_fmt(prate), rate_type=_(RATE_TYPE_NAMES[part.rate_type]),
                payout=_cny(paid), cited=part.cited))
        if d.parts and (d.capped or d.period_capped):
            reasons.append(_("Under the cap the parts are paid in the order the text lists them (our assumption: no text "
                             "says how a capped sum is shared)."))
        if tier.rate_type == "ceiling" and granted_rate is None:
            reasons.append(_("Up to: the rate is a ceiling (不高于), so the payout is the most the bureau may pay."))
        reasons.append(_("Payout {payout}, rounded once to {quantum} CNY, {mode}.").format(
            payout=_cny(d.incentive_cny), quantum=policy.rounding.quantum, mode=_(ROUNDING_NAMES[policy.rounding.mode])))
        if d.other_reading_incentive_cny is not None:
            other_name = N_("nominal") if reading == "converted" else N_("converted")
            reasons.append(_("Under the {other} reading the payout would be {payout}.").format(
                other=_(other_name), payout=_cny(d.other_reading_incentive_cny)))
    with decimal.localcontext(EXACT):
        # the rate the cap point is found at: the year's own (its arrivals' mean), else the one stated
        fx = d.base_cny / base_usd if reading == "converted" and base_usd > 0 and d.base_cny > 0 else fx_rate
        sensitivity = _sensitivity(policy, category, d.excluded or not d.kind_ok or shut, tier, reading, fx, granted_rate, kind,
                                   where.group if where else None, flags)

    return YearResult(
        year=year, policy=policy.id, policy_status=status, eligible=tier is not None, excluded=d.excluded, category=category,
        tier=tier.id if tier else None, rate=d.rate,
        rate_basis=("granted" if granted_rate is not None else tier.rate_type) if tier else None,
        paid_in_usd=paid_in_usd, reinvested_usd=reinvested_usd, shareholder_loans_usd=shareholder_loans_usd,
        base_usd=base_usd, reading=reading, fx_rate=fx_rate, fx_source=fx_source,
        base_cny=d.base_cny, gross_cny=d.gross_cny, cap_cny=cap, capped=d.capped, incentive_cny=d.incentive_cny,
        other_reading_incentive_cny=d.other_reading_incentive_cny, reasons=reasons,
        citations={
            "base": policy.base.cited, "exclusions": policy.exclusions.cited,
            "stacking": policy.stacking.cited, "cap": policy.cap.cited,
            "conversion": policy.conversion.cited, "rounding": policy.rounding.cited,
        },
        caveats=[pick(c.text, c.text_zh) for c in policy.caveats if c.shown_for(status)], kind_rewarded=d.kind_ok,
        rate_type=tier.rate_type if tier else None, confidence=policy.confidence, jurisdiction=policy.jurisdiction,
        parts=[PartResult(payer=p.payer, label=pick(p.label, p.label_zh), rate=r, rate_type=p.rate_type, incentive_cny=v)
               for p, r, v in d.parts],
        location_group=where.group if where else None, place_state=where.state if where else None,
        place=where.reason if where else None, period_left_cny=d.period_left,
        tier_tests=tests, arrivals=arrivals or [], sensitivity=sensitivity,
    )


def _for_whom(policy: Policy, tier: Tier) -> str:
    """Who a tier is for, beyond its categories: its kinds, place groups and flags."""
    said = [_kind(k) for k in tier.kinds]
    if tier.groups and policy.place is not None:
        labels = {g.id: pick(g.label, g.label_zh) for g in policy.place.groups}
        if policy.place.others:
            labels[policy.place.others] = pick(policy.place.others_label or "", policy.place.others_label_zh)
        said += [labels.get(g, g) for g in tier.groups]
    said += [_(FLAG_NAMES[f]) for f in tier.requires]
    return _(", ").join(said)


def payout_rate(policy: Policy, category: str, base_usd: Decimal, granted_rate: Decimal | None = None, kind: str = "new",
                group: str | None = None, flags: frozenset[str] = frozenset()) -> Decimal | None:
    """The rate a base earns (the best tier it passes, or the granted rate), None below every threshold."""
    picked = rule(policy, category, kind, group=group, flags=flags).pick(base_usd)
    if picked is None:
        return None
    return picked.tier.rate if granted_rate is None else granted_rate


def cap_point(
    policy: Policy, category: str, *, fx: Decimal | None, reading: Reading,
    granted_rate: Decimal | None = None, code: str | None = None, kind: str = "new",
    group: str | None = None, flags: frozenset[str] = frozenset(),
) -> Decimal | None:
    """The smallest base (USD, on the policy's USD grid) above which the payout is capped, given
    every tier that base would reach: at the point the gross reward is within the cap, a grid
    step above it is over.

    ``fx`` is CNY per USD (used under the converted reading only). None when no tier the project
    can reach has a cap, the category or code is excluded, or no rate is known.

    The gross reward never falls as the base grows (a tier passed stays passed, the best rate
    applies), so the point is the largest base whose gross is within its tier's cap. That base
    sits just below a threshold or a band's top (the rate changes one step beyond it) or at
    cap / (FX x rate) for a tier's own rate and cap: the candidates below.
    """
    step = policy.rounding.usd_quantum
    r = rule(policy, category, kind, group=group, flags=flags)
    if r.excluded or excluded_by_code(policy, code) or not any(t.cap is not None for t in r.tiers):
        return None
    per_usd = Decimal(1) if reading == "nominal" else fx
    if per_usd is None or per_usd <= 0:
        return None
    with decimal.localcontext(EXACT):
        def floor(x: Decimal) -> Decimal:
            return (x / step).to_integral_value(decimal.ROUND_FLOOR) * step

        def within(base: Decimal) -> bool:
            t = r.pick(base)
            return t is None or t.cap is None or base * per_usd * (t.rate if granted_rate is None else granted_rate) <= t.cap

        candidates = {floor(t.cap / (per_usd * (t.rate if granted_rate is None else granted_rate))) for t in r.tiers if t.cap is not None}
        for t in r.tiers:  # the last grid base that does not yet pass the threshold, or is still below a band's top
            th = t.threshold
            candidates.add(floor(th) if t.comparator == "gt" else (th / step).to_integral_value(decimal.ROUND_CEILING) * step - step)
            if t.below is not None:
                candidates.add((t.below / step).to_integral_value(decimal.ROUND_CEILING) * step - step)
        return max((c for c in candidates if c >= 0 and within(c)), default=None)


def _sensitivity(
    policy: Policy, category: str, ineligible: bool, tier: Tier | None, reading: Reading,
    fx: Decimal | None, granted_rate: Decimal | None, kind: str = "new", group: str | None = None,
    flags: frozenset[str] = frozenset(),
) -> Sensitivity:
    """The base that reaches the next better tier, and the base above which the cap binds."""
    if ineligible:
        return Sensitivity()
    step = policy.rounding.usd_quantum
    reachable = {t.id for t in rule(policy, category, kind, group=group, flags=flags).tiers}
    better = [
        t for t in policy.tiers
        if t.id in reachable and (tier is None or t.rate > tier.rate)
    ]
    nxt = min(better, key=lambda t: t.threshold.amount, default=None)
    next_from = None
    if nxt is not None:
        th = nxt.threshold
        next_from = th.amount + step if th.comparator == "gt" else th.amount
    cap_above = cap_point(policy, category, fx=fx, reading=reading, granted_rate=granted_rate, kind=kind, group=group, flags=flags)
    return Sensitivity(next_tier=nxt.id if nxt else None, next_tier_from_usd=next_from, cap_binds_above_usd=cap_above)
