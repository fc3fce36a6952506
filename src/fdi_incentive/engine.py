"""Applying a policy to a project's years: the one place where the rule logic lives.

The steps follow the clause (docs/policy.md): choose the policy in force, classify the sector,
drop excluded sectors, add up the base (equity and reinvested profits, never
shareholder loans), test each tier's threshold with the comparator the policy
file names, take the best tier (tiers do not stack), apply the rate, convert,
cap, and round once. Every number comes from the policy file.
"""

from __future__ import annotations

import decimal
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from .errors import FxError, InputError
from .i18n import N_, _, pick
from .fx import RATE_QUANTUM, FixedRate, RateChain, RateSource
from .industry import Classification, category_label, classify
from .models import (
    Arrival,
    ArrivalLine,
    Assessment,
    ClassificationOut,
    PolicyUsed,
    Project,
    Sensitivity,
    TierTest,
    YearResult,
)
from .rules import check_granted_rate, excluded_by_code, rule
from .money import EXACT, MAX_AMOUNT, converted_too_large, percent_fmt, round_money
from .money import cny as _cny
from .money import usd as _usd
from .policy import (COMPARATOR_WORDS, KIND_SHORT_NAMES, RATE_TYPE_NAMES, RELIABILITY_NAMES, ROLE_NAMES, ROUNDING_NAMES, LoadedPolicy, Policy, Reading, Tier,
                     category_name, covered_period, get_policy, policy_for_year)

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
) -> Decision:
    """The rule itself, for one project-year: exclusion, tier, rate, conversion, cap, one rounding.

    ``base_cny_converted`` is the base converted at the arrivals' rates (the converted
    reading); under the nominal reading the USD figure is paid as yuan. Pure and fast:
    `evaluate_year` explains it, the planner searches with it.
    """
    r = rule(policy, category, kind)  # (what the policy decides for the category and kind: rules.py)
    excluded = r.excluded or excluded_by_code(policy, code)
    kind_ok = r.kind_ok
    tests = [(t, t.applies_to(category), t.applies_to(category) and t.threshold.passed_by(base_usd)) for t in policy.tiers]
    picked = None if excluded else r.pick(base_usd)
    tier = picked.tier if picked is not None else None
    rate = None
    if tier is not None:
        if granted_rate is not None:
            check_granted_rate(tier, granted_rate)
        rate = tier.rate if granted_rate is None else granted_rate
    with decimal.localcontext(EXACT):
        cap = policy.cap.amount
        quantum, mode = policy.rounding.quantum, policy.rounding.mode

        def payout(base_cny: Decimal) -> tuple[Decimal, Decimal, bool]:
            gross = base_cny * rate if rate is not None else _ZERO
            capped = cap is not None and gross > cap
            return gross, round_money(cap if capped else gross, quantum, mode), capped

        base_cny = base_cny_converted if reading == "converted" else base_usd
        gross, incentive, capped = payout(base_cny)
        other = None
        if reading == "converted" or convertible:
            _, other, _ = payout(base_usd if reading == "converted" else base_cny_converted)
    return Decision(excluded, kind_ok, tier, tests, rate, base_cny, gross, capped, incentive, other)


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
) -> YearResult:
    """The reward of one project-year under one policy, with every step explained.

    ``base_cny_converted`` is the counted base converted into CNY at the rates of
    the arrivals (used under the converted reading); ``fx_rate`` is the rate stated.
    """
    policy = lp.policy
    status = policy.status_for(year)  # (a year outside the policy's dates is refused here)
    category = classification.category
    counts = set(policy.base.counts)
    base_usd = (paid_in_usd if "equity" in counts else _ZERO) + (reinvested_usd if "reinvested_profit" in counts else _ZERO)
    d = decide(
        policy, category=category, code=classification.code, kind=kind, base_usd=base_usd,
        base_cny_converted=base_cny_converted, reading=reading, granted_rate=granted_rate, convertible=convertible,
    )

    covers = covered_period(policy)
    if status == "in_force":
        reasons = [_("{policy} ({title}) is in force in {year}: within {covers}.").format(
            policy=policy.id, title=pick(policy.title, policy.title_zh), year=year, covers=covers)]
    else:
        reasons = [_("{policy} ({title}) is applied to {year} as an assumed continuation: after {covers}, "
                     "and no later rule was found.").format(policy=policy.id, title=pick(policy.title, policy.title_zh),
                                                            year=year, covers=covers)]
    reasons.append(_("Category: {category}, from {basis}.").format(category=category_name(category), basis=classification.basis))
    reasons.extend(classification.notes)
    if reinvested_usd and "reinvested_profit" in counts:
        reasons.append(_("Reinvested profits {amount} count toward the base ({cited}).").format(
            amount=_usd(reinvested_usd), cited=policy.base.cited))
    if shareholder_loans_usd:
        reasons.append(
            _("Foreign shareholder loans {amount} are shown but not counted ({cited}).").format(
                amount=_usd(shareholder_loans_usd), cited=policy.base.cited)
        )
    reasons.append(_("Base: {amount} of foreign capital paid in during {year}.").format(amount=_usd(base_usd), year=year))
    tests = [
        TierTest(
            tier=t.id, label=pick(t.label, t.label_zh), threshold_usd=t.threshold.amount, comparator=t.threshold.comparator,
            applies_to_category=applies, passed=passed and not d.excluded, rate=t.rate, rate_type=t.rate_type,
            citation=t.cited,
        )
        for t, applies, passed in d.tests
    ]
    if d.excluded:
        reasons.append(_("Excluded: {category} projects get nothing ({cited}).").format(
            category=category_name(category), cited=policy.exclusions.cited))
    elif not d.kind_ok:
        reasons.append(_("Kind '{kind}' is not one the policy rewards ({kinds}).").format(
            kind=_kind(kind), kinds=_(", ").join(_kind(k) for k in policy.base.kinds)))
    else:
        for t in tests:
            if not t.applies_to_category:
                reasons.append(_("{tier}: not for {category} projects.").format(tier=t.label, category=category_name(category)))
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
    cap = policy.cap.amount
    if d.rate is not None:
        reasons.append(_("Gross reward: {base} × {rate} = {gross}.").format(base=_cny(d.base_cny), rate=percent_fmt(d.rate),
                                                                          gross=_cny(d.gross_cny)))
        if cap is not None:
            if d.capped:
                reasons.append(_("Capped at {cap} a project a year ({cited}).").format(cap=_cny(cap), cited=policy.cap.cited))
            else:
                reasons.append(_("Within the annual cap of {cap} ({cited}).").format(cap=_cny(cap), cited=policy.cap.cited))
        reasons.append(_("Payout {payout}, rounded once to {quantum} CNY, {mode}.").format(
            payout=_cny(d.incentive_cny), quantum=policy.rounding.quantum, mode=_(ROUNDING_NAMES[policy.rounding.mode])))
        if d.other_reading_incentive_cny is not None:
            other_name = N_("nominal") if reading == "converted" else N_("converted")
            reasons.append(_("Under the {other} reading the payout would be {payout}.").format(
                other=_(other_name), payout=_cny(d.other_reading_incentive_cny)))
    with decimal.localcontext(EXACT):
        # the rate the cap point is found at: the year's own (its arrivals' mean), else the one stated
        fx = d.base_cny / base_usd if reading == "converted" and base_usd > 0 and d.base_cny > 0 else fx_rate
        sensitivity = _sensitivity(policy, category, d.excluded or not d.kind_ok, tier, reading, fx, granted_rate)

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
        tier_tests=tests, arrivals=arrivals or [], sensitivity=sensitivity,
    )


def payout_rate(policy: Policy, category: str, base_usd: Decimal, granted_rate: Decimal | None = None) -> Decimal | None:
    """The rate a base earns (the best tier it passes, or the granted rate), None below every threshold."""
    picked = rule(policy, category, "new").pick(base_usd)  # (the kind does not change which tier a base reaches)
    if picked is None:
        return None
    return picked.tier.rate if granted_rate is None else granted_rate


def cap_point(
    policy: Policy, category: str, *, fx: Decimal | None, reading: Reading,
    granted_rate: Decimal | None = None, code: str | None = None,
) -> Decimal | None:
    """The smallest base (USD, on the policy's USD grid) above which the payout is capped, given
    every tier that base would reach: at the point the gross reward is within the cap, a grid
    step above it is over.

    ``fx`` is CNY per USD (used under the converted reading only). None when the policy has
    no cap, the category or code is excluded, no tier applies, or no rate is known.

    The gross reward never falls as the base grows (a tier passed stays passed, the best rate
    applies), so the point is the largest base whose gross is within the cap. That base sits
    either just below a threshold (the rate jumps one step above it) or at cap / (FX x rate)
    for the rate of its own tier: the candidates below.
    """
    cap, step = policy.cap.amount, policy.rounding.usd_quantum
    if cap is None or category in policy.exclusions.categories or excluded_by_code(policy, code):
        return None
    per_usd = Decimal(1) if reading == "nominal" else fx
    if per_usd is None or per_usd <= 0:
        return None
    tiers = [t for t in policy.tiers if t.applies_to(category)]
    if not tiers:
        return None
    with decimal.localcontext(EXACT):
        def floor(x: Decimal) -> Decimal:
            return (x / step).to_integral_value(decimal.ROUND_FLOOR) * step

        def within(base: Decimal) -> bool:
            rate = payout_rate(policy, category, base, granted_rate)
            return rate is None or base * per_usd * rate <= cap

        rates = {t.rate if granted_rate is None else granted_rate for t in tiers}
        candidates = {floor(cap / (per_usd * r)) for r in rates}
        for t in tiers:  # the last grid base that does not yet pass the threshold
            th = t.threshold.amount
            candidates.add(floor(th) if t.threshold.comparator == "gt" else
                           (th / step).to_integral_value(decimal.ROUND_CEILING) * step - step)
        return max((c for c in candidates if c >= 0 and within(c)), default=None)


def _sensitivity(
    policy: Policy, category: str, ineligible: bool, tier: Tier | None, reading: Reading,
    fx: Decimal | None, granted_rate: Decimal | None,
) -> Sensitivity:
    """The base that reaches the next better tier, and the base above which the cap binds."""
    if ineligible:
        return Sensitivity()
    step = policy.rounding.usd_quantum
    better = [
        t for t in policy.tiers
        if t.applies_to(category) and (tier is None or t.rate > tier.rate)
    ]
    nxt = min(better, key=lambda t: t.threshold.amount, default=None)
    next_from = None
    if nxt is not None:
        th = nxt.threshold
        next_from = th.amount + step if th.comparator == "gt" else th.amount
    cap_above = cap_point(policy, category, fx=fx, reading=reading, granted_rate=granted_rate)
    return Sensitivity(next_tier=nxt.id if nxt else None, next_tier_from_usd=next_from, cap_binds_above_usd=cap_above)


def _fx_chain(fx: RateSource | Decimal | str | None) -> RateChain:
    if fx is None:
        return RateChain()
    if isinstance(fx, RateChain):
        return fx
    if isinstance(fx, (Decimal, str, int, float)):  # (a float is refused by the parser, with its reason)
        from .fx import parse_rate

        return RateChain(FixedRate(parse_rate(fx)))
    if not callable(getattr(fx, "quote", None)) or isinstance(fx, bool):
        raise InputError("fx", fx, _("a rate such as '7.1' (str, int or Decimal) or a rate source (FixedRate, RateTable, RateChain)"))
    return RateChain(fx)


def assess(
    project: Project,
    *,
    policy: str | LoadedPolicy | None = None,
    fx: RateSource | Decimal | str | None = None,
    reading: Reading | None = None,
    granted_rate: Decimal | str | None = None,
) -> Assessment:
    """Assess a project: one result per calendar year in which capital arrived, and the total.

    ``policy`` forces one policy (an id, a file path, or a loaded policy); by default the
    version in force in each year is used. ``fx`` is a rate source, or one CNY-per-USD rate;
    the embedded ECB rates fill in whatever it does not cover. ``reading`` overrides the
    policy's default conversion reading. Never prints; raises FdiError subclasses.
    """
    if not isinstance(project, Project):
        raise InputError("project", project, _("a Project (Project.for_year(...) or Project.model_validate(...))"))
    if policy is not None and not isinstance(policy, (str, LoadedPolicy)):
        raise InputError("policy", policy, _("a policy id, a policy file's path or a LoadedPolicy"))
    if reading is not None and reading not in ("converted", "nominal"):
        raise InputError("reading", reading, _("converted or nominal"))
    forced = get_policy(policy) if isinstance(policy, str) else policy
    chain = _fx_chain(fx)
    granted = None
    if granted_rate is not None:
        granted = parse_granted_rate(granted_rate, "rate")
    classification = classify(project.sector, project.industry_code)

    by_year: dict[int, list[Arrival]] = defaultdict(list)
    for arrival in project.arrivals:
        by_year[arrival.calendar_year].append(arrival)

    years, used, statuses = [], {}, defaultdict(set)
    for year in sorted(by_year):
        lp = forced or policy_for_year(year)
        statuses[lp.policy.id].add(lp.policy.status_for(year))  # (refuses a forced policy outside its dates)
        used[lp.policy.id] = lp
    for year in sorted(by_year):
        lp = forced or policy_for_year(year)
        result = _assess_year(lp, project, classification, year, by_year[year], chain, reading, granted)
        years.append(result)

    with decimal.localcontext(EXACT):
        total = sum((y.incentive_cny for y in years), _ZERO)
    return Assessment(
        project=project,
        classification=ClassificationOut(
            category=classification.category, code=classification.code, sector=classification.sector,
            basis=classification.basis, notes=list(classification.notes),
        ),
        years=years,
        total_incentive_cny=total,
        policies=[_policy_used(lp, statuses[pid]) for pid, lp in used.items()],
        granted_rate=granted,
    )


def _assess_year(
    lp: LoadedPolicy, project: Project, classification: Classification, year: int,
    arrivals: list[Arrival], chain: RateChain, reading: Reading | None, granted: Decimal | None,
) -> YearResult:
    """Convert one year's arrivals to USD (to the cent) and CNY, then evaluate the year."""
    policy = lp.policy
    reading = reading or policy.conversion.default
    usd_q, counts = policy.rounding.usd_quantum, set(policy.base.counts)
    totals = {"equity": _ZERO, "reinvested_profit": _ZERO, "shareholder_loan": _ZERO}
    lines, base_cny, usd_quotes = [], _ZERO, {}
    convertible = True  # under the nominal reading a missing rate only hides the other reading
    with decimal.localcontext(EXACT):
        for a in arrivals:
            counted = a.type in counts
            usd_quote = None
            if a.currency != "USD" or counted:
                try:
                    usd_quote = chain.quote("USD", on=a.date, year=year)
                except FxError:
                    if a.currency != "USD" or reading == "converted":
                        raise
                    convertible = False
            if a.currency == "USD" or not a.amount:  # (nothing to convert: no rate is needed, as the batch needs none)
                usd, source = a.amount, a.currency
            else:
                own = chain.quote(a.currency, on=a.date, year=year)
                usd = round_money(a.amount * own.rate / usd_quote.rate, usd_q, policy.rounding.mode)
                if usd >= MAX_AMOUNT:  # (the bound every path holds: the batch's integers too)
                    field = FIELDS[a.type]
                    raise InputError(field, a.amount, _("an amount below {most} once converted").format(most=_usd(MAX_AMOUNT)),
                                     converted_too_large(field))
                source = _("{rate} CNY per {currency} ({source}) ÷ {usd_rate} CNY per USD").format(
                    rate=own.rate, currency=a.currency, source=own.source, usd_rate=usd_quote.rate)
            totals[a.type] += usd
            if counted and usd_quote is not None:
                base_cny += usd * usd_quote.rate
                usd_quotes[(usd_quote.rate, usd_quote.source)] = None
            lines.append(
                ArrivalLine(
                    date=a.date, type=a.type, amount=a.amount, currency=a.currency, usd=usd, counted=counted,
                    usd_rate_cny=usd_quote.rate if counted and usd_quote else None, source=source,
                )
            )
        for kind, total in totals.items():
            if total >= MAX_AMOUNT:  # a year's arrivals of one type add up to what one amount may be, at most
                raise InputError(FIELDS[kind], total, _("a year's total below {most}").format(most=_usd(MAX_AMOUNT)))
        fx_rate = fx_source = None
        if len(usd_quotes) == 1:
            fx_rate, fx_source = next(iter(usd_quotes))
        elif usd_quotes:
            base = sum((totals[t] for t in counts), _ZERO)
            fx_rate = (base_cny / base).quantize(RATE_QUANTUM, decimal.ROUND_HALF_UP) if base else None
            fx_source = _("weighted mean of the rates of {n} arrival dates (see arrivals)").format(n=len(usd_quotes))
        elif reading == "converted":  # nothing counted this year: still state a rate for the reader
            q = chain.quote("USD", on=None, year=year)
            fx_rate, fx_source = q.rate, q.source
    return evaluate_year(
        lp, year=year, kind=project.kind, classification=classification,
        paid_in_usd=totals["equity"], reinvested_usd=totals["reinvested_profit"],
        shareholder_loans_usd=totals["shareholder_loan"], base_cny_converted=base_cny,
        fx_rate=fx_rate, fx_source=fx_source, reading=reading, granted_rate=granted, arrivals=lines,
        convertible=convertible,
    )


def _policy_used(lp: LoadedPolicy, statuses: set[str]) -> PolicyUsed:
    """A policy as a result names it: its text, its sources, and the caveats shown on its years."""
    p = lp.policy
    text = next((s for s in p.sources if s.role == "text"), p.clause_source)
    sp = p.source_period or p.effective
    return PolicyUsed(
        id=p.id, title=pick(p.title, p.title_zh), source=text.title + (f" ({text.document_number})" if text.document_number else ""),
        url=text.url, clause_source=p.clause_source.name, clause_source_url=p.clause_source.url,
        reliability=p.clause_source.reliability, source_covers=covered_period(p), effective_from=p.effective.from_,
        effective_to=p.effective.to, source_period_from=sp.from_, source_period_to=sp.to,
        sources=[(_("{role}: {name}, {url} ({reliability}). Seen: {seen}") if s.url else
                  _("{role}: {name} ({reliability}). Seen: {seen}")).format(
            role=_(ROLE_NAMES[s.role]), name=s.name, url=s.url, reliability=_(RELIABILITY_NAMES[s.reliability]),
            seen=pick(s.seen, s.seen_zh)) for s in p.sources],
        origin=lp.origin, sha256=lp.sha256,
        caveats=[pick(c.text, c.text_zh) for c in p.caveats if any(c.shown_for(st) for st in statuses)],
        caveat_ids=[c.id for c in p.caveats if any(c.shown_for(st) for st in statuses)],
    )
