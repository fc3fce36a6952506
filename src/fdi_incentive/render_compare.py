"""`fdi compare` on screen: one row per policy (and place group), best paid first, with a bar that
shows each payout against the largest. Ceilings are said as "up to"; the cells stay as computed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.console import Group
from rich.markup import escape as _e
from rich.table import Table
from rich.text import Text

from .i18n import _
from .money import cny as _cny
from .policy import RELIABILITY_NAMES
from .render import STATUS_SHORT

if TYPE_CHECKING:
    from .comparing import CompareRow

BAR = 16  # characters of the longest bar


def _bar(value, top) -> str:
    if not top or not value:
        return ""
    return "█" * max(1, round(BAR * value / top))


def render_compare(rows: list[CompareRow], heading: str) -> Group:
    """The comparison as a table a reader scans: payout and bar first, then why."""
    top = max((r.combined_incentive_cny or r.incentive_cny for r in rows), default=0)
    t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    t.add_column(_("payout (CNY)"), justify="right", no_wrap=True)
    t.add_column("", no_wrap=True)
    t.add_column(_("policy, and why"), overflow="fold")
    for r in rows:
        payout = _cny(r.incentive_cny).removeprefix("CNY ")
        if r.rate_type == "ceiling" and r.incentive_cny:
            payout = _("up to {amount}").format(amount=payout)
        where = _(" · {group}").format(group=r.location_group_label) if r.location_group_label else ""
        first = Text.assemble((r.policy, "bold"), f" · {r.jurisdiction}{where}")
        said = [_(STATUS_SHORT[r.policy_status])]
        if r.cap_cny is not None and not r.capped:
            said.append(_("cap {cap}").format(cap=_cny(r.cap_cny)))
        said.append(_("confidence: {confidence}").format(confidence=_(RELIABILITY_NAMES.get(r.confidence, r.confidence))))
        detail = " · ".join(said) + "\n" + _e(r.reason) + ("\n" + _e(r.combination) if r.combination else "")
        t.add_row(payout, Text(_bar(r.incentive_cny, top), style="green"), first)
        t.add_row("", "", detail, end_section=True)
    notes = [Text(heading, style="bold"), t]
    if any(r.rate_type == "ceiling" for r in rows):
        notes.append(Text(_("up to: the rate is a ceiling (不高于); the bureau may pay less.")))
    notes.append(Text(_("Each row is fdi calc --policy ID for the project; confidence is the best reliability among the "
                        "sources quoting the clause (fdi policy show ID).")))
    return Group(*notes)
