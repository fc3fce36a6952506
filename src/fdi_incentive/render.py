"""Rich renderables for people: the itemised breakdown and policy listings. Computes nothing, prints nothing."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.markup import escape as _e  # text from a file or a cell is shown as it is, never read as markup
from rich.panel import Panel
from rich.table import Table
from rich.segment import Segment
from rich.text import Text

from typing import TYPE_CHECKING

from .money import cny as _cny
from .money import money_fmt, percent_fmt
from .money import usd as _usd
from .policy import COMPARATOR_WORDS, SOURCE_ROLES, LoadedPolicy, covered_period
from .policy import Said
from .text import printable

if TYPE_CHECKING:  # only for annotations: `fdi calc` need not build the planner's or batch's models, nor `fdi batch` calc's
    from .models import Assessment, YearResult
    from .batch import BatchSummary
    from .plan import Plan

PASS, FAIL = "[green]✓ passed[/]", "[red]✗ not passed[/]"
STATUS_WORDS = {"in_force": "in force: within the period its source covers (see the policy above)",
                "assumed_continuation": "[yellow]assumed continuation[/]: after the period its source covers (see caveats)"}


class Printable:
    """A renderable shown without the control characters a terminal would obey (ESC, OSC, CSI ...):
    a policy's title, a CSV header or a cell quoted in a message shows as text, never as a command.
    (Rich's own control segments, the styles it writes, are kept.)"""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for segment in console.render(self.renderable, options):
            yield segment if segment.control else Segment(printable(segment.text), segment.style)


def _year_table(y: YearResult) -> RenderableType:
    notes: list[str] = []

    def cite(text: str) -> str:
        if text not in notes:
            notes.append(text)
        return f"[{notes.index(text) + 1}]"

    t = Table(title=f"{y.year}: {'[green]eligible[/]' if y.eligible else '[yellow]no reward[/]'}", title_justify="left")
    t.add_column("step", style="bold")
    t.add_column("value", justify="right", no_wrap=True)
    t.add_column("why", overflow="fold")
    t.add_row("policy", _e(y.policy), STATUS_WORDS[y.policy_status])
    t.add_row("category", y.category.replace("_", " "), "[red]excluded[/] " + cite(y.citations["exclusions"]) if y.excluded else "")
    t.add_row("paid-in capital", _usd(y.paid_in_usd), "equity")
    if y.reinvested_usd:
        t.add_row("reinvested profits", _usd(y.reinvested_usd), "counted")
    t.add_row("shareholder loans", _usd(y.shareholder_loans_usd), "not counted " + cite(y.citations["base"]))
    t.add_row("base", _usd(y.base_usd), cite(y.citations["base"]))
    for test in y.tier_tests:
        words = COMPARATOR_WORDS[test.comparator]
        if y.excluded:
            verdict = "[dim]excluded[/]"
        elif not test.applies_to_category:
            verdict = "[dim]n/a[/]"
        else:
            verdict = PASS if test.passed else FAIL
        t.add_row(f"{_e(test.label)}: {words} {_usd(test.threshold_usd)}", verdict, f"{test.rate_type} {percent_fmt(test.rate)} " + cite(test.citation))
    if y.tier:
        basis = {"granted": "granted"}.get(y.rate_basis or "", f"the {y.rate_basis}")
        t.add_row("tier applied", _e(y.tier), "no stacking " + cite(y.citations["stacking"]))
        t.add_row("rate", percent_fmt(y.rate), basis)
    else:
        t.add_row("tier applied", "none", "")
    if y.reading == "converted":
        t.add_row("FX rate", f"{y.fx_rate} CNY/USD", cite(y.fx_source or ""))
        t.add_row("base in CNY", _cny(y.base_cny), "")
    else:
        t.add_row("reading", "nominal", "rate × USD figure, paid as yuan")
    t.add_row("gross reward", _cny(y.gross_cny), "")
    if y.cap_cny is not None:
        t.add_row("annual cap", _cny(y.cap_cny), ("[yellow]binds[/] " if y.capped else "does not bind ") + cite(y.citations["cap"]))
    else:  # "none" is itself a reading or an assumption of the policy: its note says which
        t.add_row("annual cap", "none", cite(y.citations["cap"]) if y.citations.get("cap") else "")
    t.add_row("[bold]payout[/]", f"[bold]{_cny(y.incentive_cny)}[/]", "rounded once")
    foot = Text("\n".join(f"[{i}] {n}" for i, n in enumerate(notes, 1)), style="dim")
    if any(a.date is not None or a.currency != "USD" for a in y.arrivals):
        return Group(_arrivals_table(y), t, foot)
    return Group(t, foot)


def _arrivals_table(y: YearResult) -> RenderableType:
    t = Table(title=f"{y.year}: capital arrivals", title_justify="left")
    for col, just in (("date", "left"), ("type", "left"), ("amount", "right"), ("in USD", "right"), ("counted", "left")):
        t.add_column(col, justify=just, no_wrap=True)
    conversions = []
    for a in y.arrivals:
        t.add_row(str(a.date or y.year), a.type.replace("_", " "), money_fmt(a.amount, a.currency), money_fmt(a.usd),
                  "yes" if a.counted else "[dim]no[/]")
        if a.currency != "USD":
            conversions.append(f"{a.date or y.year} {a.currency}: {a.source}")
    return Group(t, Text("\n".join(conversions), style="dim")) if conversions else t


def _what_if(y: YearResult) -> list[str]:
    s, lines = y.sensitivity, []
    if s.next_tier and s.next_tier_from_usd is not None:
        more = s.next_tier_from_usd - y.base_usd
        lines.append(f"{y.year}: a base of {_usd(s.next_tier_from_usd)} ({_usd(more)} more) reaches the {s.next_tier} tier.")
    if s.cap_binds_above_usd is not None:
        state = "binds already" if y.capped else "would bind"
        lines.append(f"{y.year}: the annual cap {state} above a base of {_usd(s.cap_binds_above_usd)}; capital above that earns nothing more this year.")
    other = "nominal" if y.reading == "converted" else "converted"
    if y.eligible and y.other_reading_incentive_cny is not None:
        lines.append(f"{y.year}: under the {other} reading the payout would be {_cny(y.other_reading_incentive_cny)}.")
    return lines


def render_assessment(a: Assessment) -> RenderableType:
    """The itemised breakdown of `fdi calc`."""
    parts: list[RenderableType] = []
    for p in a.policies:
        head = Text.assemble((p.id, "bold"), "  ", p.title, "\n", (p.source, "italic"))
        if p.url:
            head.append(f"\n{p.url}", style="dim")
        head.append(f"\napplied {p.effective_from} to {p.effective_to or 'no end date'} · {p.source_covers}")
        head.append(f"\nthe clause as quoted by: {p.clause_source} · reliability: {p.reliability}")
        if p.clause_source_url:
            head.append(f"\n{p.clause_source_url}", style="dim")
        parts.append(Panel(head, title="policy", title_align="left"))
    c = a.classification
    cls = Text(f"Sector: {c.category.replace('_', ' ')} ({c.basis})")
    for note in c.notes:
        cls.append(f"\nnote: {note}", style="yellow")
    parts.append(cls)
    parts.extend(_year_table(y) for y in a.years)
    if len(a.years) > 1:
        total = Table(title="total", title_justify="left")
        total.add_column("year")
        total.add_column("tier")
        total.add_column("payout", justify="right")
        for y in a.years:
            total.add_row(str(y.year), _e(y.tier or "none"), _cny(y.incentive_cny))
        total.add_row("[bold]total[/]", "", f"[bold]{_cny(a.total_incentive_cny)}[/]")
        parts.append(total)
    else:
        parts.append(Text.from_markup(f"[bold]Total incentive: {_cny(a.total_incentive_cny)}[/]"))
    what_if = [line for y in a.years for line in _what_if(y)]
    if what_if:
        parts.append(Panel(_e("\n".join(what_if)), title="what would change the answer", title_align="left"))
    caveats = [c for p in a.policies for c in p.caveats]
    if caveats:
        parts.append(Panel(Text("\n".join(f"• {c}" for c in dict.fromkeys(caveats))), title="caveats", title_align="left",
                           border_style="yellow"))
    return Group(*parts)


def render_policy_list(policies: list[LoadedPolicy]) -> RenderableType:
    t = Table(title="policies")
    for col in ("id", "applied to", "source covers", "title", "reliability"):
        t.add_column(col)
    for lp in policies:
        p = lp.policy
        sp = p.source_period or p.effective
        t.add_row(_e(p.id), p.effective.span, sp.span, _e(p.title), _e(p.clause_source.reliability))
    return t


SAID_STYLE = {"text": "", "our reading": "cyan", "assumption": "yellow"}
BASIS_WORDS = {"source": "the source says", "reading": "our reading", "assumption": "our assumption", "unknown": "no source settles it"}


def _said(part: Said) -> Text:
    """What a part of a policy rests on, a line each: the source's words, our reading, an assumption."""
    out = Text()
    for i, (label, text) in enumerate(part.said()):
        out.append(("\n" if i else "") + f"{label}: ", style=f"bold {SAID_STYLE[label]}".strip())
        out.append(text, style=SAID_STYLE[label] or None)
    return out


def render_policy(lp: LoadedPolicy) -> RenderableType:
    """Every parameter of a policy with what it rests on: the words of a source, our reading, an assumption."""
    p = lp.policy
    head = Text.assemble((f"{p.id}", "bold"), f"  {p.title}")
    if p.title_zh:
        head.append(f"\n{p.title_zh} (a name we gave the rule, not a source's title)")
    head.append(f"\n{p.jurisdiction}; applied to {p.effective.span}")
    sp = p.source_period
    if sp is not None:
        head.append(f"; {covered_period(p)}" + ("; later years are an assumed continuation" if sp.to != p.effective.to else ""))
    head.append(f"\nfile: {lp.origin}  sha256 {lp.sha256[:16]}…", style="dim")
    sources = Text()
    for i, src in enumerate(p.sources):
        sources.append(("\n\n" if i else "") + f"{src.role}", style="bold")
        sources.append(f" ({SOURCE_ROLES[src.role]}): {src.name}")
        if src.title_en:
            sources.append(f"\n{src.title_en}", style="italic")
        sources.append(f"\nreliability: {src.reliability}; checked {src.checked} (read against a stored copy of the source)")
        sources.append(f"\nseen: {src.seen}")
        if src.url:
            sources.append(f"\n{src.url}", style="dim")
    t = Table(show_lines=True, expand=True)
    t.add_column("parameter", style="bold", no_wrap=True)
    t.add_column("value", no_wrap=True)
    t.add_column("source text / our reading / assumption", overflow="fold")
    t.add_row("applied to", f"{p.effective.from_} – {p.effective.to or 'no end date'}", _said(p.effective))
    if sp is not None:
        t.add_row("source covers", f"{sp.from_} – {sp.to or 'no end date'}", _said(sp))
    t.add_row("base", _e(f"{', '.join(p.base.counts)} in {p.base.currency}, per {p.base.period.replace('_', ' ')}; "
              f"not {', '.join(p.base.excludes) or '-'}"), _said(p.base))
    t.add_row("kinds", ", ".join(p.base.kinds), "")
    for tier in p.tiers:
        who = ", ".join(tier.categories) or "any category not excluded"
        t.add_row(_e(f"tier {tier.id}"), _e(f"{tier.threshold.words} {money_fmt(tier.threshold.amount, 'USD')} → "
                  f"{tier.rate_type} {percent_fmt(tier.rate)}\n({who})"), _said(tier))
    t.add_row("exclusions", _e(", ".join(p.exclusions.categories) + "\ncodes: " + ", ".join(p.exclusions.codes)), _said(p.exclusions))
    t.add_row("stacking", p.stacking.mode, _said(p.stacking))
    t.add_row("annual cap", money_fmt(p.cap.amount, "CNY") if p.cap.amount is not None else "none", _said(p.cap))
    t.add_row("conversion", p.conversion.default, _said(p.conversion))
    t.add_row("rounding", f"{p.rounding.quantum} {p.rounding.mode}; USD equivalents to {p.rounding.usd_quantum}", _said(p.rounding))
    quoted = p.clause_source
    clause = Text(quoted.quote or "")
    if quoted.gloss:
        clause.append(f"\n\ngloss: {quoted.gloss}", style="dim")
    parts: list[RenderableType] = [
        Panel(head, title="policy", title_align="left"),
        Panel(sources, title="sources", title_align="left"),
        t,
        Panel(clause, title=Text(f"the clause, verbatim, as the {quoted.role} gives it ({quoted.issuer})"
                                 + ("; [ ] marks words we restored" if "[" in (quoted.quote or "") else "")), title_align="left"),
    ]
    if p.caveats:
        lines = [f"• [{c.id}] ({BASIS_WORDS[c.basis]}"
                 + ("; shown on assumed years only" if c.shown != "always" else "") + f") {c.text}" for c in p.caveats]
        parts.append(Panel(Text("\n".join(lines)), title="caveats", title_align="left", border_style="yellow"))
    return Group(*parts)


def render_plan(p: "Plan") -> RenderableType:
    """The recommended schedule, the naive ones beside it, the gain, and how fragile it is."""
    t = Table(title=f"Plan: USD {money_fmt(p.total_usd)} of {p.category.replace('_', ' ')} capital", title_justify="left")
    t.add_column("year", no_wrap=True)
    t.add_column("pay in, USD", justify="right", no_wrap=True)
    t.add_column("tier", no_wrap=True)
    t.add_column("reward, CNY", justify="right", no_wrap=True)
    t.add_column("vs nearest threshold", justify="right")
    for y in p.schedule:
        dist = ""
        if y.distance_to_threshold_usd is not None:
            d = y.distance_to_threshold_usd
            dist = (f"+{money_fmt(d)}" if d > 0 else f"{money_fmt(d)}, not over") + f" ({y.nearest_threshold})"
        marks = ("[yellow]~[/]" if y.fx_assumed else "") + ("[yellow]*[/]" if y.policy_status == "assumed_continuation" else "")
        t.add_row(f"{y.year}{marks}" + (" fixed" if y.fixed else ""), money_fmt(y.paid_in_usd), _e(y.tier or "none"),
                  money_fmt(y.incentive_cny) + (" [yellow]cap[/]" if y.capped else ""), dist)
    t.add_row("[bold]total[/]", money_fmt(p.total_usd), "", f"[bold]{money_fmt(p.total_incentive_cny)}[/]", "")
    legend = []
    if p.fx_assumed_years:
        legend.append("~ planned at an assumed exchange rate: no source has one for the year (see FX below)")
    if p.assumed_continuation_years:
        legend.append("* policy applied after the period its source states (assumed continuation): "
                      "the year's payout rests on that assumption")
    if legend:
        t.caption, t.caption_justify = "\n".join(legend), "left"
    c = Table(title="against the naive schedules", title_justify="left")
    c.add_column("schedule")
    c.add_column("USD per year", overflow="fold")
    c.add_column("reward", justify="right", no_wrap=True)
    c.add_column("plan's gain", justify="right", no_wrap=True)
    c.add_row("plan", " / ".join(money_fmt(y.paid_in_usd) for y in p.schedule), _cny(p.total_incentive_cny), "")
    for key, b in p.baselines.items():
        flag = "" if b.within_constraints else " [yellow](breaks a constraint)[/]"
        c.add_row(b.name + flag, " / ".join(money_fmt(y.paid_in_usd) for y in b.schedule), _cny(b.total_incentive_cny),
                  _cny(p.gain_over_baselines_cny[key]))
    lines = [f"If every year's FX rate moves -5%: {_cny(p.fx_sensitivity['fx_-5%'])}; +5%: "
             f"{_cny(p.fx_sensitivity['fx_+5%'])} (the cap point moves with FX)."]
    if p.fx_assumed_years:
        years = ", ".join(str(y) for y in p.fx_assumed_years)
        lines.append(f"[yellow]FX assumed[/] for {years}: no source has a rate; the payouts of "
                     f"{'that year rest' if len(p.fx_assumed_years) == 1 else 'those years rest'} on the assumed "
                     "rate (see FX below), and the ±5% above is the least to allow for.")
    for y in p.schedule:
        if y.cap_binds_above_usd is not None:
            lines.append(f"{y.year}: the cap binds above USD {money_fmt(y.cap_binds_above_usd)}.")
    fx = "\n".join(f"{year}: {src}" for year, src in p.fx_sources.items())
    s = p.search
    return Group(
        t,
        c,
        Panel("\n".join(lines), title="fragility", title_align="left"),
        Text(f"Policies: {', '.join(p.policies)} · reading: {p.reading} · step USD {money_fmt(p.step_usd)} · "
             f"{sum(len(v) for v in s.candidates_usd.values())} candidate amounts, {s.states_examined:,} partial "
             f"schedules examined in {s.seconds:.3f} s\n{s.tie_rule}\nFX: {fx}", style="dim"),
        Panel(_e("\n".join(p.notes)), title="what this is not", title_align="left", border_style="yellow"),
    )


SOURCES_SHOWN = 5  # FX sources named in a batch's summary on the terminal


def render_batch_summary(b: "BatchSummary") -> RenderableType:
    """What a batch did: rows, errors, payouts by tier, category and year, and what it assumed."""
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column(justify="right")
    if b.arrivals is not None:
        head.add_row("arrivals", f"{b.arrivals:,}")
    head.add_row("project-years" if b.arrivals is not None else "rows", f"{b.rows:,}")
    head.add_row("scored", f"{b.scored:,}")
    head.add_row("rows with errors", f"[red]{b.errors:,}[/]" if b.errors else "0")
    for tier, n in sorted(b.eligible_by_tier.items()):
        head.add_row(_e(f"eligible, {tier} tier"), f"{n:,}")
    head.add_row("capped", f"{b.capped:,}")
    if b.assumed_continuation:
        head.add_row("scored under an assumed policy", f"[yellow]{b.assumed_continuation:,}[/]")
    head.add_row("total payout", f"[bold]{_cny(b.total_incentive_cny)}[/]")
    parts: list[RenderableType] = [Panel(head, title=Text(f"fdi batch: {b.input}"), title_align="left")]
    for title, groups in (("by sector category", b.by_category), ("by year", b.by_year)):
        if groups:
            t = Table(title=title, title_justify="left")
            t.add_column(title.split()[-1])
            t.add_column("rows", justify="right")
            t.add_column("eligible", justify="right")
            t.add_column("payout", justify="right")
            for key, g in sorted(groups.items()):
                t.add_row(_e(key.replace("_", " ")), f"{g.rows:,}", f"{g.eligible:,}", _cny(g.incentive_cny))
            parts.append(t)
    if b.first_errors:
        more = f" (first {len(b.first_errors)} of {b.errors:,})" if b.errors > len(b.first_errors) else ""
        parts.append(Panel(Text("\n".join(f"row {e.row}: {e.error}" for e in b.first_errors)),
                           title=f"errors{more}", title_align="left", border_style="red"))
    def columns(mapping: dict[str, str]) -> str:
        return ", ".join(f"{v} → {k}" if v != k else k for k, v in mapping.items())

    mapping = columns(b.column_mapping)
    if b.projects_column_mapping:
        mapping += f"; from --projects: {columns(b.projects_column_mapping)}"
    fx = "; ".join(b.fx_sources[:SOURCES_SHOWN]) or "none needed"
    if len(b.fx_sources) > SOURCES_SHOWN:  # (a ledger's arrival days each have theirs: thousands)
        fx += f"; … and {len(b.fx_sources) - SOURCES_SHOWN:,} more (every one in --summary-json)"
    notes = [f"columns used: {mapping}", f"policies: {', '.join(b.policies)}", f"FX: {fx}"] + b.notes
    if b.output:
        notes.append(f"written to {b.output}")
    parts.append(Text("\n".join(notes), style="dim"))
    return Group(*parts)
