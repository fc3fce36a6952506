"""Where a project is, as each policy sees it: inside its area or not, excluded or not, and in
which of its place groups (the groups set thresholds). Places are GB/T 2260 codes (`places`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .errors import InputError
from .i18n import _, pick
from .policy import Policy

if TYPE_CHECKING:
    from .places import Place


@dataclass(frozen=True)
class Where:
    """A project's place as one policy sees it."""

    state: Literal["in", "excluded", "outside"]
    group: str | None  # the policy's place group (or its others' id), where it has groups
    reason: str  # a line for the breakdown


def place_name(code: str) -> str:
    from .places import name_of

    return name_of(code)


def resolve(text: str | None, field: str = "location") -> Place | None:
    """A place as written (a Chinese name or a GB/T 2260 code), or None when none is given."""
    if text is None or not str(text).strip():
        return None
    from .places import resolve as _resolve

    return _resolve(str(text), field)


def where(policy: Policy, place: Place | None, field: str = "location") -> Where | None:
    """How ``policy`` sees ``place``; None where the policy names no place, or names one without
    groups and no place is given (it is taken to be inside)."""
    area = policy.place
    if area is None or (place is None and not area.groups):
        return None
    names = _(", ").join(place_name(c) for c in area.within)
    groups = {g.id: pick(g.label, g.label_zh) for g in area.groups}
    if area.others:
        groups[area.others] = pick(area.others_label or area.others, area.others_label_zh)
    if place is None:
        if area.groups and not area.others:
            raise InputError(field, None, _("a place in {area}: {policy}'s threshold depends on it ({groups})").format(
                area=names, policy=policy.id, groups=_("; ").join(groups.values())))
        return Where("in", area.others, _("Place: not given; taken to be in {area}, {group}.").format(
            area=names, group=groups[area.others]))
    if not any(place.within(c) for c in area.within):
        return Where("outside", None, _("Place: {place} is outside {policy}'s area ({area}); nothing is paid.").format(
            place=place.name, policy=policy.id, area=names))
    if any(place.within(c) for c in area.excludes):
        return Where("excluded", None, _("Place: {place} is excluded ({cited}); nothing is paid.").format(
            place=place.name, cited=area.cited))
    group = next((g.id for g in area.groups if any(place.within(c) for c in g.places)), area.others)
    if area.groups and group is None:
        raise InputError(field, place.name, _("a city or district in {area}: {policy}'s threshold depends on which ({groups})").format(
            area=names, policy=policy.id, groups=_("; ").join(groups.values())))
    if group is None:
        return Where("in", None, _("Place: {place}, within {area} ({cited}).").format(place=place.name, area=names, cited=area.cited))
    cited = next((g.cited for g in area.groups if g.id == group), area.cited)
    return Where("in", group, _("Place: {place}, in {group} ({cited}).").format(place=place.name, group=groups[group], cited=cited))


def applies_at(policy: Policy, place: Place) -> bool:
    """Whether a policy speaks of a place at all (inside its area, excluded parts included)."""
    return policy.place is None or any(place.within(c) for c in policy.place.within)
