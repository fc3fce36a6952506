"""Where a project earns most: the project under every shipped policy, one row per policy (the
version for its years) and per place group the policy distinguishes, sorted by payout.

Each row is the same engine's answer as `assess` with that policy named (`score_family`); a
policy that combines with another (adds_to, higher_of) also shows what the two pay together.
"""

from __future__ import annotations

from pydantic import Field

from . import placing
from .assessing import _fx_chain, score_family
from .engine import _ZERO
from .errors import InputError
from .i18n import _, pick
from .industry import classify
from .models import Money, Project, Rate, YearResult, _Model
from .money import cny as _cny
from .money import percent_fmt
from .policy import RATE_TYPE_NAMES, LoadedPolicy, Reading, bundled_policies


class CompareRow(_Model):
    """One policy (and place group) for the project: what it pays and why, in one line."""

    jurisdiction: str
    policy: str
    title: str
    location_group: str | None = Field(description="the place group the row is for, where the policy sets thresholds by place")
    location_group_label: str | None
    policy_status: str = Field(description="of the project's last year: in_force, assumed_continuation, not_yet, expired")
    eligible: bool
    tier: str | None
    tier_label: str | None
    rate: Rate | None
    rate_type: str | None = Field(description="floor (at least), exact, ceiling (up to: the most the bureau may pay)")
    incentive_cny: Money = Field(description="over the project's years; under a ceiling, the most that may be paid")
    cap_cny: Money | None
    capped: bool
    confidence: str
    combination: str | None = Field(description="how the policy combines with another at the place, and what the two pay together")
    combined_incentive_cny: Money | None
    reason: str
    years: list[YearResult]


def _reason(y: YearResult, tier_label: str | None = None) -> str:
    """The one line that says why a year pays what it pays."""
    if y.policy_status in ("not_yet", "expired"):
        return y.reasons[0]
    if y.place_state in ("outside", "excluded"):
        return y.place
    if y.excluded:
        return _("excluded: {category}").format(category=y.category)
    if not y.kind_rewarded:
        return _("the kind of project is not rewarded")
    if not y.eligible:
        return _("below every threshold it can reach")
    said = _("{tier}: {rate} ({rate_type})").format(tier=tier_label or y.tier, rate=percent_fmt(y.rate),
                                                     rate_type=_(RATE_TYPE_NAMES[y.rate_type]))
    if y.capped:
        said = _("{said}, capped at {cap}").format(said=said, cap=_cny(y.cap_cny))
    if y.period_left_cny is not None and y.incentive_cny < y.gross_cny and not y.capped:
        said = _("{said}, limited by the total over the period").format(said=said)
    return said


def _row(lp: LoadedPolicy, results: list[YearResult], group: str | None, group_label: str | None) -> CompareRow:
    last = results[-1]
    paid = [y for y in results if y.eligible]
    top = max(paid, key=lambda y: y.incentive_cny, default=last)
    p = lp.policy
    label = next((pick(t.label, t.label_zh) for t in p.tiers if t.id == top.tier), None)
    return CompareRow(
        jurisdiction=pick(p.jurisdiction, p.jurisdiction_zh), policy=p.id, title=pick(p.title, p.title_zh), location_group=group,
        location_group_label=group_label, policy_status=last.policy_status, eligible=bool(paid), tier=top.tier,
        tier_label=label, rate=top.rate,
        rate_type=top.rate_type, incentive_cny=sum((y.incentive_cny for y in results), _ZERO), cap_cny=top.cap_cny,
        capped=any(y.capped for y in results), confidence=p.confidence, combination=None, combined_incentive_cny=None,
        reason=_reason(top, label), years=results)


def _groups(lp: LoadedPolicy) -> list[tuple[str | None, str | None]]:
    area = lp.policy.place
    if area is None or not area.groups:
        return [(None, None)]
    out = [(g.id, pick(g.label, g.label_zh)) for g in area.groups]
    if area.others:
        out.append((area.others, pick(area.others_label or area.others, area.others_label_zh)))
    return out


def compare(
    project: Project,
    *,
    fx=None,
    reading: Reading | None = None,
    location: str | None = None,
    policies: list[LoadedPolicy] | None = None,
) -> list[CompareRow]:
    """The project under every shipped policy (or those given), best paid first. With a place
    (``location`` or the project's own), only the policies that speak of it, for that place;
    without one, a row for each place group a policy distinguishes."""
    if not isinstance(project, Project):
        raise InputError("project", project, _("a Project (Project.for_year(...) or Project.model_validate(...))"))
    if reading is not None and reading not in ("converted", "nominal"):
        raise InputError("reading", reading, _("converted or nominal"))
    place = placing.resolve(location if location is not None else project.location)
    chain = _fx_chain(fx)
    classification = classify(project.sector, project.industry_code)
    families: dict[str, list[LoadedPolicy]] = {}
    for lp in policies if policies is not None else bundled_policies():
        families.setdefault(lp.policy.family_id, []).append(lp)
    rows: list[CompareRow] = []
    for versions in families.values():
        versions.sort(key=lambda lp: lp.policy.effective.from_)
        if place is not None and not any(placing.applies_at(lp.policy, place) for lp in versions):
            continue
        for group, label in ([(None, None)] if place is not None else _groups(versions[-1])):
            def where(lp: LoadedPolicy, group=group, label=label):
                if place is not None or group is None:
                    return placing.where(lp.policy, place)
                return placing.Where("in", group, _("Place: {group} (compared).").format(group=label))
            scored = score_family(project, tuple(versions), classification, chain, reading, None, forced=False, any_year=True,
                                  where=where)
            lp = scored[-1][0]
            rows.append(_row(lp, [r for _, r in scored], group, label))
    rows = _combinations(rows)
    rows.sort(key=lambda r: (-r.incentive_cny, r.jurisdiction, r.policy, r.location_group or ""))
    return rows


def _combinations(rows: list[CompareRow]) -> list[CompareRow]:
    """What a policy that combines with another pays together with it (the other's row without a
    place group, or for the same group)."""
    family = {lp.policy.id: lp.policy.family_id for lp in bundled_policies()}
    combines = {lp.policy.id: lp.policy.combines for lp in bundled_policies()}
    update: dict[int, dict] = {}
    for i, mine in enumerate(rows):
        for how in combines.get(mine.policy, []):
            j = next((j for j, o in enumerate(rows) if family.get(o.policy) == how.with_
                      and o.location_group in (None, mine.location_group)), None)
            if j is None:
                continue
            other = rows[j]
            if how.mode == "adds_to":
                together = mine.incentive_cny + other.incentive_cny
                said = _("{mine} + {other}: {total}").format(mine=mine.policy, other=other.policy, total=_cny(together))
            else:
                together = max(mine.incentive_cny, other.incentive_cny)
                said = _("the higher of {mine} and {other}: {total}").format(mine=mine.policy, other=other.policy, total=_cny(together))
            for k in (i, j):
                update[k] = {"combination": said, "combined_incentive_cny": together}
    return [r.model_copy(update=update[i]) if i in update else r for i, r in enumerate(rows)]


__all__ = ["CompareRow", "compare"]
