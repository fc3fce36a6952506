"""Assessing a project: its place, the policies that apply there and how they combine, and each
year's reward under each (`engine.evaluate_year`), summed into one answer.

Without a place or a policy, Chongqing's municipal rule is applied, the version in force each year.
With a place, every shipped policy whose area holds it applies; two combine only as their files
declare (adds_to, higher_of), and more that do not combine are refused, naming them (`fdi
compare` shows each). A named policy is applied alone, to any year: before or after its dates it
pays nothing (not_yet, expired).
"""

from __future__ import annotations

import decimal
from collections import defaultdict
from decimal import Decimal

from . import placing
from .engine import FIELDS, _ZERO, evaluate_year, parse_granted_rate
from .rules import version_for
from .errors import FxError, InputError, PolicyError
from .fx import RATE_QUANTUM, FixedRate, RateChain, RateSource
from .i18n import _, pick
from .industry import Classification, classify
from .models import Arrival, ArrivalLine, Assessment, ClassificationOut, PolicyUsed, Project, YearResult
from .money import EXACT, MAX_AMOUNT, converted_too_large, round_money
from .money import usd as _usd
from .policy import (RELIABILITY_NAMES, ROLE_NAMES, LoadedPolicy, Reading, bundled_policies, covered_period, family_versions,
                     get_policy, policy_for_year)


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


def families_at(place: placing.Place | None) -> list[tuple[LoadedPolicy, ...]]:
    """The shipped policies that apply at a place, as families of versions (Chongqing's without a place).
    Several families must combine as their files declare, else the place is refused naming them."""
    if place is None:
        return [family_versions()]
    by: dict[str, list[LoadedPolicy]] = {}
    for lp in bundled_policies():
        if lp.policy.place is not None and placing.applies_at(lp.policy, place):
            by.setdefault(lp.policy.family_id, []).append(lp)
    if not by:
        areas = _(", ").join(sorted({lp.policy.jurisdiction for lp in bundled_policies()}))
        raise InputError("location", place.name, _("a place where a shipped policy applies ({areas}), or a policy named with "
                                                   "--policy").format(areas=areas))
    families = [tuple(v) for v in by.values()]
    if len(families) > 1 and not (len(families) == 2 and combination(families[0], families[1])):
        ids = _(", ").join(f[-1].policy.id for f in families)
        raise PolicyError(_("{place}: several policies apply there and their files declare no combination ({ids}); choose one "
                            "with --policy, or compare them with fdi compare").format(place=place.name, ids=ids))
    return families


def combination(a: tuple[LoadedPolicy, ...], b: tuple[LoadedPolicy, ...]):
    """How two families combine, as one of them declares: (declaring family, mode, the Combine) or None."""
    for mine, other in ((a, b), (b, a)):
        for lp in mine:
            for c in lp.policy.combines:
                if c.with_ == other[0].policy.family_id:
                    return mine, c.mode, c
    return None


def assess(
    project: Project,
    *,
    policy: str | LoadedPolicy | None = None,
    fx: RateSource | Decimal | str | None = None,
    reading: Reading | None = None,
    granted_rate: Decimal | str | None = None,
    location: str | None = None,
) -> Assessment:
    """Assess a project: one result per calendar year in which capital arrived, and the total.

    ``policy`` forces one policy (an id, a file path, or a loaded policy); by default the
    version in force in each year is used. ``fx`` is a rate source, or one CNY-per-USD rate;
    the embedded ECB rates fill in whatever it does not cover. ``reading`` overrides the
    policy's default conversion reading. ``location`` (or the project's own) is where it is: a
    Chinese place name as written or a GB/T 2260 code. Never prints; raises FdiError subclasses.
    """
    if not isinstance(project, Project):
        raise InputError("project", project, _("a Project (Project.for_year(...) or Project.model_validate(...))"))
    if policy is not None and not isinstance(policy, (str, LoadedPolicy)):
        raise InputError("policy", policy, _("a policy id, a policy file's path or a LoadedPolicy"))
    if reading is not None and reading not in ("converted", "nominal"):
        raise InputError("reading", reading, _("converted or nominal"))
    forced = get_policy(policy) if isinstance(policy, str) else policy
    place = placing.resolve(location if location is not None else project.location)
    chain = _fx_chain(fx)
    granted = None
    if granted_rate is not None:
        granted = parse_granted_rate(granted_rate, "rate")
    classification = classify(project.sector, project.industry_code)
    families = [(forced,)] if forced is not None else families_at(place)
    if granted is not None and len(families) > 1:
        raise InputError("rate", granted_rate, _("a rate for one policy: give --policy with it"))
    combined = combination(*families) if len(families) == 2 else None
    any_year = forced is not None or place is not None

    years: list[YearResult] = []
    used, statuses = {}, defaultdict(set)
    for versions in families:
        for lp, result in score_family(project, versions, classification, chain, reading, granted, forced=forced is not None,
                                       any_year=any_year, where=lambda lp: placing.where(lp.policy, place)):
            statuses[lp.policy.id].add(result.policy_status)
            used[lp.policy.id] = lp
            years.append(result)
    if combined is not None:
        years = _combine(years, families, combined)
    years.sort(key=lambda y: y.year)

    with decimal.localcontext(EXACT):
        total = sum((y.incentive_cny for y in years if y.paid), _ZERO)
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


def score_family(project: Project, versions: tuple[LoadedPolicy, ...], classification: Classification, chain: RateChain,
                 reading: Reading | None, granted: Decimal | None, *, forced: bool, any_year: bool,
                 where) -> list[tuple[LoadedPolicy, YearResult]]:
    """Each year of a project under one family's rule: the version for the year (the first when
    forced), the project's place as it sees it (``where(lp)``), and what a period cap left."""
    period = versions[-1].policy.base.period
    by_year: dict[int, list[Arrival]] = defaultdict(list)
    for arrival in project.arrivals:
        by_year[arrival.reward_year(period)].append(arrival)
    paid: dict[str, list[tuple[int, Decimal]]] = defaultdict(list)
    out = []
    for year in sorted(by_year):
        lp = versions[0] if forced else (version_for(versions, year) if any_year else policy_for_year(year, versions))
        start = min((t.period_cap.from_ for t in lp.policy.tiers if t.period_cap), default=year)  # (a period cap's years)
        before = sum((v for y, v in paid[lp.policy.id] if start <= y < year), _ZERO)
        result = _assess_year(lp, project, classification, year, by_year[year], chain, reading, granted,
                              where=where(lp), any_year=any_year, paid_before=before)
        if period != "calendar_year":
            result.reasons.insert(1, _("{year} is the reward year from 1 October {year} to 30 September {next} ({cited}).").format(
                year=year, next=year + 1, cited=lp.policy.base.cited))
        paid[lp.policy.id].append((year, result.incentive_cny))
        out.append((lp, result))
    return out


def _combine(years: list[YearResult], families, combined) -> list[YearResult]:
    """Mark each year's results as the declared combination says: both paid (adds_to), or the larger
    of the two (higher_of; on a tie the other family's, not the declaring one's)."""
    declaring, mode, how = combined
    mine = {lp.policy.id for lp in declaring}
    out = []
    by_year: dict[int, list[YearResult]] = defaultdict(list)
    for y in years:
        by_year[y.year].append(y)
    for year, pair in sorted(by_year.items()):
        ours = [y for y in pair if y.policy in mine]
        theirs = [y for y in pair if y.policy not in mine]
        if not ours or not theirs:
            out.extend(pair)
            continue
        a, b = ours[0], theirs[0]
        cited = {"citations": {**a.citations, "combination": how.cited}}
        if mode == "adds_to":
            out.append(b.model_copy(update={"combination": _("{a} adds to it").format(a=a.policy),
                                            "citations": {**b.citations, "combination": how.cited}}))
            out.append(a.model_copy(update={"combination": _("adds to {b}").format(b=b.policy), **cited}))
        else:
            a_wins = a.incentive_cny > b.incentive_cny
            said = _("the higher of {a} and {b} is paid: {winner}").format(a=a.policy, b=b.policy, winner=a.policy if a_wins else b.policy)
            out.append(b.model_copy(update={"combination": said, "paid": not a_wins,
                                            "citations": {**b.citations, "combination": how.cited}}))
            out.append(a.model_copy(update={"combination": said, "paid": a_wins, **cited}))
    return out


def _assess_year(
    lp: LoadedPolicy, project: Project, classification: Classification, year: int,
    arrivals: list[Arrival], chain: RateChain, reading: Reading | None, granted: Decimal | None,
    *, where: placing.Where | None = None, any_year: bool = False, paid_before: Decimal = _ZERO,
) -> YearResult:
    """Convert one year's arrivals to USD (to the cent) and CNY, then evaluate the year."""
    policy = lp.policy
    reading = policy.conversion.default if policy.conversion.fixed else (reading or policy.conversion.default)
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
        convertible=convertible, where=where, flags=project.flags, spent_usd=project.spent_usd.get(year),
        paid_before=paid_before, any_year=any_year,
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
