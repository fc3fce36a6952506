"""Rich renderables for people: the itemised breakdown and policy listings. Computes nothing, prints nothing."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from typing import TYPE_CHECKING

from .industry import category_label
from .money import cny as _cny
from .money import money_fmt, percent_fmt
from .money import usd as _usd
from .policy import COMPARATOR_WORDS, LoadedPolicy

if TYPE_CHECKING:  # only for annotations: `fdi calc` need not build the planner's or batch's models, nor `fdi batch` calc's
    from .models import Assessment, YearResult
    from .batch import BatchSummary
    from .plan import Plan

KIND_WORDS = {"new": "new project (新设)", "capital_increase": "capital increase (增资)"}
PASS, FAIL = "[green]✓ passed[/]", "[red]✗ not passed[/]"


def _year_table(y: YearResult, kind: str) -> RenderableType:
    notes: list[str] = []

    def cite(text: str) -> str:
        if text not in notes:
            notes.append(text)
        return f"[{notes.index(text) + 1}]"

    t = Table(title=f"{y.year}: {'[green]eligible[/]' if y.eligible else '[yellow]no reward[/]'}", title_justify="left")
    t.add_column("step", style="bold")
    t.add_column("value", justify="right", no_wrap=True)
    t.add_column("why", overflow="fold")
    t.add_row("policy in force", y.policy, "")
    t.add_row("kind", KIND_WORDS.get(kind, kind), "")
    t.add_row("category", category_label(y.category), "[red]excluded[/] " + cite(y.citations["exclusions"]) if y.excluded else "")
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
        t.add_row(f"{test.label}: {words} {_usd(test.threshold_usd)}", verdict, f"{test.rate_type} {percent_fmt(test.rate)} " + cite(test.citation))
    if y.tier:
        basis = {"granted": "granted"}.get(y.rate_basis or "", f"the {y.rate_basis}")
        t.add_row("tier applied", y.tier, "no stacking " + cite(y.citations["stacking"]))
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
    else:
        t.add_row("annual cap", "none", "")
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
        head = Text.assemble((p.id, "bold"), "  ", p.title, "\n", (p.source, "italic"), "\n")
        head.append(f"in force {p.effective_from} to {p.effective_to or 'no end date'} · source reliability: {p.reliability}")
        if p.url:
            head.append(f"\n{p.url}", style="dim")
        parts.append(Panel(head, title="policy", title_align="left"))
    c = a.classification
    cls = Text(f"Project: {a.project.id + ', ' if a.project.id else ''}{KIND_WORDS.get(a.project.kind, a.project.kind)}\n"
               f"Category: {category_label(c.category)}, from {c.basis}")
    for note in c.notes:
        cls.append(f"\nnote: {note}", style="yellow")
    parts.append(cls)
    parts.extend(_year_table(y, a.project.kind) for y in a.years)
    if len(a.years) > 1:
        total = Table(title="total", title_justify="left")
        total.add_column("year")
        total.add_column("tier")
        total.add_column("payout", justify="right")
        for y in a.years:
            total.add_row(str(y.year), y.tier or "none", _cny(y.incentive_cny))
        total.add_row("[bold]total[/]", "", f"[bold]{_cny(a.total_incentive_cny)}[/]")
        parts.append(total)
    else:
        parts.append(Text.from_markup(f"[bold]Total incentive: {_cny(a.total_incentive_cny)}[/]"))
    what_if = [line for y in a.years for line in _what_if(y)]
    if what_if:
        parts.append(Panel("\n".join(what_if), title="what would change the answer", title_align="left"))
    caveats = [c for p in a.policies for c in p.caveats]
    if caveats:
        parts.append(Panel("\n".join(f"• {c}" for c in dict.fromkeys(caveats)), title="caveats", title_align="left", border_style="yellow"))
    return Group(*parts)


def render_policy_list(policies: list[LoadedPolicy]) -> RenderableType:
    t = Table(title="policies")
    for col in ("id", "in force", "title", "reliability"):
        t.add_column(col)
    for lp in policies:
        p = lp.policy
        t.add_row(p.id, f"{p.effective.from_} – {p.effective.to or 'no end'}", p.title, p.source.reliability)
    return t


def render_policy(lp: LoadedPolicy) -> RenderableType:
    """Every parameter of a policy with the sentence it comes from."""
    p = lp.policy
    head = Text.assemble((f"{p.id}", "bold"), f"  {p.title}\n", (p.source.title, "italic"))
    if p.source.title_en:
        head.append(f"\n{p.source.title_en}")
    head.append(f"\n{p.source.issuer}" + (f", {p.source.document_number}" if p.source.document_number else "")
                + (f", issued {p.source.issued}" if p.source.issued else ""))
    if p.source.quoted_by:
        head.append(f"\nquoted by: {p.source.quoted_by}")
    head.append(f"\nreliability: {p.source.reliability}, checked {p.source.checked}")
    if p.source.url:
        head.append(f"\n{p.source.url}", style="dim")
    head.append(f"\nfile: {lp.origin}  sha256 {lp.sha256[:16]}…", style="dim")
    # Two columns, the clause under each value: a third column of citations shrank to nothing at 80
    # columns and when piped, though showing each parameter beside its clause is the point.
    t = Table(show_lines=True, expand=True)
    t.add_column("parameter", style="bold", no_wrap=True)
    t.add_column("value, and the words it comes from", overflow="fold")

    def row(name: str, value: str, citation: str) -> None:
        cell = Text(value)
        if citation:
            cell.append(f"\n{citation}", style="italic")
        t.add_row(name, cell)

    row("in force", f"{p.effective.from_} – {p.effective.to or 'no end date'}", p.effective.citation)
    row("base", f"{', '.join(c.replace('_', ' ') for c in p.base.counts)} in {p.base.currency}, per "
        f"{p.base.period.replace('_', ' ')}; not {', '.join(c.replace('_', ' ') for c in p.base.excludes) or '-'}",
        p.base.citation)
    row("kinds", ", ".join(k.replace("_", " ") for k in p.base.kinds), "")
    for tier in p.tiers:
        who = ", ".join(category_label(c) for c in tier.categories) or "any category not excluded"
        row(f"tier {tier.id}", f"{tier.threshold.words} {money_fmt(tier.threshold.amount, 'USD')} → "
            f"{tier.rate_type} {percent_fmt(tier.rate)} ({who})", tier.citation)
    row("exclusions", ", ".join(category_label(c) for c in p.exclusions.categories) + "; codes: "
        + ", ".join(p.exclusions.codes), p.exclusions.citation)
    row("stacking", p.stacking.mode, p.stacking.citation)
    row("annual cap", money_fmt(p.cap.amount, "CNY") if p.cap.amount is not None else "none", p.cap.citation)
    row("conversion", p.conversion.default, p.conversion.citation)
    row("rounding", f"{p.rounding.quantum} {p.rounding.mode.replace('_', '-')}; USD equivalents to {p.rounding.usd_quantum}",
        p.rounding.citation)
    parts: list[RenderableType] = [Panel(head, title="policy", title_align="left"), t,
                                   Panel(Text(p.source.clause), title="the clause", title_align="left")]
    if p.caveats:
        parts.append(Panel("\n".join(f"• [{c.id}] {c.text}" for c in p.caveats), title="caveats", title_align="left", border_style="yellow"))
    return Group(*parts)


def render_plan(p: "Plan") -> RenderableType:
    """The recommended schedule, the naive ones beside it, the gain, and how fragile it is."""
    t = Table(title=f"Plan: USD {money_fmt(p.total_usd)} of {category_label(p.category)} capital", title_justify="left")
    t.add_column("year", no_wrap=True)
    t.add_column("pay in", justify="right", no_wrap=True)
    t.add_column("tier", no_wrap=True)
    t.add_column("reward", justify="right", no_wrap=True)
    t.add_column("vs nearest threshold", justify="right")
    for y in p.schedule:
        dist = ""
        if y.distance_to_threshold_usd is not None:
            d = y.distance_to_threshold_usd
            dist = (f"+{money_fmt(d)}" if d > 0 else f"{money_fmt(d)}, not over") + f" ({y.nearest_threshold})"
        t.add_row(str(y.year) + (" fixed" if y.fixed else ""), money_fmt(y.paid_in_usd), y.tier or "none",
                  _cny(y.incentive_cny) + (" [yellow]cap[/]" if y.capped else ""), dist)
    t.add_row("[bold]total[/]", money_fmt(p.total_usd), "", f"[bold]{_cny(p.total_incentive_cny)}[/]", "")
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
    for y in p.schedule:
        if y.cap_binds_above_usd is not None:
            lines.append(f"{y.year}: the cap binds above USD {money_fmt(y.cap_binds_above_usd)}.")
    fx = "\n".join(f"{year}: {src}" for year, src in p.fx_sources.items())
    return Group(
        t,
        c,
        Panel("\n".join(lines), title="fragility", title_align="left"),
        Text(f"Policies: {', '.join(p.policies)} · reading: {p.reading} · step USD {money_fmt(p.step_usd)} · "
             f"{p.schedules_examined} candidate schedules examined\nFX: {fx}", style="dim"),
        Panel("\n".join(p.notes), title="what this is not", title_align="left", border_style="yellow"),
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
        head.add_row(f"eligible, {tier} tier", f"{n:,}")
    head.add_row("capped", f"{b.capped:,}")
    head.add_row("total payout", f"[bold]{_cny(b.total_incentive_cny)}[/]")
    parts: list[RenderableType] = [Panel(head, title=f"fdi batch: {b.input}", title_align="left")]
    for title, groups in (("by sector category", b.by_category), ("by year", b.by_year)):
        if groups:
            t = Table(title=title, title_justify="left")
            t.add_column(title.split()[-1])
            t.add_column("rows", justify="right")
            t.add_column("eligible", justify="right")
            t.add_column("payout", justify="right")
            for key, g in sorted(groups.items()):
                t.add_row(category_label(key) if title == "by sector category" else key, f"{g.rows:,}", f"{g.eligible:,}", _cny(g.incentive_cny))
            parts.append(t)
    if b.first_errors:
        more = f" (first {len(b.first_errors)} of {b.errors:,})" if b.errors > len(b.first_errors) else ""
        parts.append(Panel("\n".join(f"row {e.row}: {e.error}" for e in b.first_errors),
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
