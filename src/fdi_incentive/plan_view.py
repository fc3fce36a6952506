"""Rich renderables of `fdi plan`: the schedule as a row and two bars a year, the naive schedules by their
totals, how fragile the plan is. Computes nothing, prints nothing (see `render`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.bar import Bar
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.markup import escape as _e
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .fx import source_notes
from .i18n import _
from .money import cny as _cny
from .money import money_fmt
from .render import READINGS, _policy_tier_name, category_said

if TYPE_CHECKING:
    from .plan import Plan


BAR = 10  # the width of a plan's bars: the schedule's shape at a glance


def _runs(years: list[int]) -> str:
    """2024-2026, 2028 for [2024, 2025, 2026, 2028]."""
    out, run = [], []
    for y in years:
        if run and y != run[-1] + 1:
            out.append(run)
            run = []
        run.append(y)
    if run:
        out.append(run)
    return _(", ").join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in out)


def _grouped(by_year: dict[int, str]) -> list[tuple[str, list[int]]]:
    """The values of ``by_year``, each with the years that have it, in the order of their first year."""
    groups: dict[str, list[int]] = {}
    for year, value in sorted(by_year.items()):
        groups.setdefault(value, []).append(year)
    return list(groups.items())


def _schedule_in_words(b, free: set[int]) -> str:
    """A naive schedule by what it pays in: everything in one year, or the same amount each free year."""
    paid = [y for y in b.schedule if y.year in free and y.paid_in_usd]
    if len(paid) == 1:
        return _("USD {amount} in {year}").format(amount=money_fmt(paid[0].paid_in_usd), year=paid[0].year)
    amounts = sorted({y.paid_in_usd for y in b.schedule if y.year in free})
    if len(amounts) == 1:
        return _("USD {amount} a year").format(amount=money_fmt(amounts[0]))
    return _("USD {low} to {high} a year").format(low=money_fmt(amounts[0]), high=money_fmt(amounts[-1]))


class _Schedule:
    """A plan's schedule, a row and two bars (pay-in, reward) a year: narrower bars on a narrow terminal."""

    def __init__(self, p: "Plan") -> None:
        self.p = p

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield _schedule_table(self.p, BAR if options.max_width >= 100 else 3)


def _schedule_table(p: "Plan", bar: int) -> Table:

    t = Table(title=_("Plan: USD {total} of {category} capital").format(total=money_fmt(p.total_usd),
                                                                       category=_e(category_said(p.category, p.sector))),
              title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1, 0, 0))
    t.add_column(_("year"), no_wrap=True)
    t.add_column(_("pay in, USD"), justify="right", no_wrap=True)
    t.add_column("", width=bar, no_wrap=True)
    t.add_column(_("reward, CNY"), justify="right", no_wrap=True)
    t.add_column("", width=bar, no_wrap=True)
    tiers = [_e(_policy_tier_name([y.policy], y.tier)) for y in p.schedule]
    t.add_column(_("tier"), overflow="fold", ratio=1)
    t.add_column(_("vs threshold"), justify="right", min_width=15, overflow="fold")  # (a distance wraps, never cut)
    most_in = max((y.paid_in_usd for y in p.schedule), default=0) or 1
    most_out = max((y.incentive_cny for y in p.schedule), default=0) or 1
    for y in p.schedule:
        dist = ""
        if y.distance_to_threshold_usd is not None:
            d = y.distance_to_threshold_usd
            dist = f"+{money_fmt(d)}" if d > 0 else _("{amount}, not over").format(amount=money_fmt(d)) if d == 0 else money_fmt(d)
            if y.nearest_threshold != y.tier:  # (the threshold of another tier than the one applied: named)
                dist = _("{distance} ({tier})").format(distance=dist, tier=_e(_policy_tier_name([y.policy], y.nearest_threshold)))
        marks = ("[yellow]~[/]" if y.fx_assumed else "") + ("[yellow]*[/]" if y.policy_status == "assumed_continuation" else "")
        t.add_row(f"{y.year}{marks}" + (_(" fixed") if y.fixed else ""), money_fmt(y.paid_in_usd),
                  Bar(float(most_in), 0, float(y.paid_in_usd), width=bar, color="cyan"),
                  money_fmt(y.incentive_cny) + (_(" [yellow]cap[/]") if y.capped else ""),
                  Bar(float(most_out), 0, float(y.incentive_cny), width=bar, color="green"),
                  tiers[p.schedule.index(y)], dist)
    t.add_row(_("[bold]total[/]"), money_fmt(p.total_usd), "", f"[bold]{money_fmt(p.total_incentive_cny)}[/]", "", "", "")
    legend = []
    if p.fx_assumed_years:
        legend.append(_("~ planned at an assumed exchange rate: no source has one for the year (see FX below)"))
    if p.assumed_continuation_years:
        legend.append(_("* policy applied after the period its source states (assumed continuation): "
                        "the year's payout rests on that assumption"))
    if legend:
        t.caption, t.caption_justify = "\n".join(legend), "left"
    return t


def render_plan(p: "Plan") -> RenderableType:
    """The recommended schedule as a bar per year, the naive ones by their totals, the gain, and how fragile it is."""

    t = _Schedule(p)
    free = {y.year for y in p.schedule if not y.fixed}
    c = Table(title=_("against the naive schedules"), title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1, 0, 0))
    resting = p.gain_resting_on_assumed_rates_cny
    wide = len(money_fmt(max([p.total_incentive_cny, *(abs(g) for g in p.gain_over_baselines_cny.values())]))) + 1
    c.add_column(_("schedule"), ratio=1, overflow="fold")
    c.add_column(_("pays in"), min_width=len(money_fmt(p.total_usd)) + 1, ratio=1, overflow="fold")
    c.add_column(_("reward, CNY"), justify="right", min_width=wide)  # (money is never cut: the words wrap instead)
    c.add_column(_("gain, CNY"), justify="right", min_width=wide)
    if resting:
        c.add_column(_("on assumed FX"), justify="right", min_width=wide)
    c.add_row(_("plan"), _("as above"), money_fmt(p.total_incentive_cny), "", *([""] if resting else []))
    for key, b in p.baselines.items():
        flag = "" if b.within_constraints else _(" [yellow](breaks a constraint)[/]")
        c.add_row(b.name + flag, _schedule_in_words(b, free), money_fmt(b.total_incentive_cny), money_fmt(p.gain_over_baselines_cny[key]),
                  *([money_fmt(resting[key]) if key in resting else ""] if resting else []))
    lines = [_("If every year's FX rate moves -5%: {minus}; +5%: {plus} (the cap point moves with FX).").format(
        minus=_cny(p.fx_sensitivity['fx_-5%']), plus=_cny(p.fx_sensitivity['fx_+5%']))]
    if p.fx_assumed_years:
        years = _runs(p.fx_assumed_years)
        lines.append((_("[yellow]FX assumed[/] for {years}: no source has a rate; the payouts of that year rest on the assumed "
                        "rate (see FX below), and the ±5% above is the least to allow for.") if len(p.fx_assumed_years) == 1 else
                      _("[yellow]FX assumed[/] for {years}: no source has a rate; the payouts of those years rest on the assumed "
                        "rate (see FX below), and the ±5% above is the least to allow for.")).format(years=years))
    caps = _grouped({y.year: money_fmt(y.cap_binds_above_usd) for y in p.schedule if y.cap_binds_above_usd is not None})
    if len(caps) == 1 and len(caps[0][1]) == len(p.schedule):
        lines.append(_("Every year: the cap binds above USD {amount}.").format(amount=caps[0][0]))
    else:
        lines += [_("{year}: the cap binds above USD {amount}.").format(year=_runs(years), amount=amount) for amount, years in caps]
    sources = _grouped({y: src for y, src in p.fx_sources.items()})
    fx = _("; ").join(src if len(sources) == 1 else _("{year}: {source}").format(year=_runs(years), source=src)
                      for src, years in sources)
    fx_notes = source_notes([src for src, _years in sources])
    s = p.search
    return Group(
        t,
        c,
        Panel("\n".join(lines), title=_("fragility"), title_align="left"),
        Text(_("Policies: {policies} · reading: {reading} · step USD {step} · {candidates} candidate amounts, {states} partial "
               "schedules examined in {seconds} s\n{tie_rule}\nFX: {fx}").format(
            policies=", ".join(p.policies), reading=_(READINGS.get(p.reading, p.reading)), step=money_fmt(p.step_usd),
            candidates=sum(len(v) for v in s.candidates_usd.values()), states=f"{s.states_examined:,}",
            seconds=f"{s.seconds:.3f}", tie_rule=_(s.tie_rule), fx=fx) + "".join("\n" + n for n in fx_notes), style="dim"),
        Panel(_e("\n".join(p.notes)), title=_("what this is not"), title_align="left", border_style="yellow"),
    )
