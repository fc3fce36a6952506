"""Rich renderables for people: the itemised breakdown and policy listings. Computes nothing, prints nothing.

Every word shown is wrapped in ``_()`` (the language of `i18n`); ids, codes and money stay as they are.
"""

from __future__ import annotations

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.markup import escape as _e  # text from a file or a cell is shown as it is, never read as markup
from rich.panel import Panel
from rich.table import Table
from rich.segment import Segment
from rich.text import Text

from decimal import Decimal
from typing import TYPE_CHECKING

from .i18n import N_, _, get_language, pick
from .money import cny as _cny
from .money import money_fmt, percent_fmt
from .money import usd as _usd
from .policy import (COMBINE_NAMES, FLAG_NAMES, CATEGORY_NAMES, COMPARATOR_WORDS, KIND_SHORT_NAMES, RATE_TYPE_NAMES, RELIABILITY_NAMES, ROLE_NAMES, ROUNDING_NAMES,
                     SOURCE_ROLES, STACKING_NAMES, LoadedPolicy, Said, category_name, covered_period, get_policy)
from .errors import FdiError
from .fx import source_notes
from .text import printable

if TYPE_CHECKING:  # only for annotations: `fdi calc` need not build the planner's or batch's models, nor `fdi batch` calc's
    from .models import Assessment, YearResult
    from .batch import BatchSummary

KIND_WORDS = {"new": N_("new project (新设)"), "capital_increase": N_("capital increase (增资)")}
PASS, FAIL = N_("[green]✓ passed[/]"), N_("[red]✗ not passed[/]")
STATUS_WORDS = {"in_force": N_("in force: within the period its source covers (see the policy above)"),
                "assumed_continuation": N_("[yellow]assumed continuation[/]: after the period its source covers (see caveats)"),
                "not_yet": N_("[red]not yet in force[/]: before the policy's dates; nothing is paid"),
                "expired": N_("[red]expired[/]: after the end its text states; nothing is paid")}
STATUS_SHORT = {"in_force": N_("in force"), "assumed_continuation": N_("[yellow]assumed continuation[/]"),
                "not_yet": N_("[red]not yet in force[/]"), "expired": N_("[red]expired[/]")}
# the names of machine values as a reader sees them (the values themselves stay in JSON and CSV)
RATE_BASES = {"granted": N_("granted"), "floor": N_("the floor"), "exact": N_("the exact"), "ceiling": N_("the ceiling")}
READINGS = {"converted": N_("converted"), "nominal": N_("nominal")}
RELIABILITY = RELIABILITY_NAMES
CONTRIBUTIONS = {"equity": N_("equity"), "reinvested_profit": N_("reinvested profit"), "shareholder_loan": N_("shareholder loan")}


class Printable:
    """A renderable shown without the control characters a terminal would obey (ESC, OSC, CSI ...):
    a policy's title, a CSV header or a cell quoted in a message shows as text, never as a command.
    (Rich's own control segments, the styles it writes, are kept.)"""

    def __init__(self, renderable: RenderableType) -> None:
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for segment in console.render(self.renderable, options):
            yield segment if segment.control else Segment(printable(segment.text), segment.style)


def _name(names: dict[str, str], value: str) -> str:
    """A machine value as a reader says it, in the current language (the value itself if unnamed)."""
    return _(names[value]) if value in names else value.replace("_", " ")


def category_said(category: str, sector: str | None) -> str:
    """A category with the sector that put a project in it, where they differ: `other (services)`."""
    name = category_name(category)
    if not sector or sector.strip().casefold() in {name.casefold(), category.casefold(), category.replace("_", "-")}:
        return name
    return _("{category} ({sector})").format(category=name, sector=sector.strip())


def _tier_name(y: YearResult, tier: str | None) -> str:
    """A tier as a reader names it: its id, or under --lang zh its Chinese label (the id stays in JSON and CSV)."""
    return pick(tier or "", next((t.label for t in y.tier_tests if t.tier == tier), None)) if tier else _("none")


def _one_line(text: str, style: str | None = None) -> Text:
    """A text on one line, cut with an ellipsis at the terminal's width (the full text: --caveats)."""
    return Text(" ".join(text.split()), style=style or "", no_wrap=True, overflow="ellipsis")


def _year_table(y: YearResult, kind: str, full: bool = True, sector: str | None = None) -> RenderableType:
    notes: list[str] = []

    def cite(text: str) -> str:
        if text not in notes:
            notes.append(text)
        return f"[{notes.index(text) + 1}]"

    title = (_("{year}: [green]eligible[/]") if y.eligible else _("{year}: [yellow]no reward[/]")).format(year=y.year)
    if y.combination:  # (two policies for the year: each its own table)
        title = _("{title} · {policy}").format(title=title, policy=_e(y.policy))
    t = Table(title=title,
              title_justify="left", **({} if full else {"box": box.MINIMAL, "show_edge": False, "show_header": False}))
    t.add_column(_("step"), style="bold")
    t.add_column(_("value"), justify="right", no_wrap=True)
    t.add_column(_("why"), overflow="fold")
    t.add_row(_("policy"), _e(y.policy), _(STATUS_WORDS[y.policy_status] if full else STATUS_SHORT[y.policy_status]))
    t.add_row(_("kind"), _e(_name(KIND_WORDS, kind)),
              "" if y.kind_rewarded else _("[red]not a kind this policy rewards[/]"))
    t.add_row(_("category"), _e(category_said(y.category, sector)), _("[red]excluded[/] ") + cite(y.citations["exclusions"]) if y.excluded and y.place_state != "excluded" else "")
    if y.place:
        t.add_row(_("place"), _e(y.location_group or ""), _e(y.place))
    t.add_row(_("paid-in capital"), _usd(y.paid_in_usd), _("equity"))
    if y.reinvested_usd:
        t.add_row(_("reinvested profits"), _usd(y.reinvested_usd), _("counted"))
    t.add_row(_("shareholder loans"), _usd(y.shareholder_loans_usd), _("not counted ") + cite(y.citations["base"]))
    t.add_row(_("base"), _usd(y.base_usd), cite(y.citations["base"]))
    for test in y.tier_tests:
        words = _(COMPARATOR_WORDS[test.comparator])
        if y.excluded:
            verdict = _("[dim]excluded[/]")
        elif not test.applies_to_category:
            verdict = _("[dim]n/a[/]")
        else:
            verdict = _(PASS) if test.passed else _(FAIL)
        if full:
            t.add_row(_("{tier}: {comparator} {threshold}").format(tier=_e(test.label), comparator=words, threshold=_usd(test.threshold_usd)),
                      verdict, f"{_name(RATE_TYPE_NAMES, test.rate_type)} {percent_fmt(test.rate)} " + cite(test.citation))
        else:  # (the threshold beside its verdict: a label of 40 characters left the why column a word wide)
            t.add_row(_e(test.label), verdict, f"{words} {_usd(test.threshold_usd)} · {percent_fmt(test.rate)} " + cite(test.citation))
    if y.tier:
        t.add_row(_("tier applied"), _e(_tier_name(y, y.tier)), _("no stacking ") + cite(y.citations["stacking"]))
        t.add_row(_("rate"), percent_fmt(y.rate), _name(RATE_BASES, y.rate_basis or ""))
    else:
        t.add_row(_("tier applied"), _("none"), "")
    if y.reading == "converted":
        t.add_row(_("FX rate"), f"{y.fx_rate} CNY/USD", " ".join(cite(n) for n in [y.fx_source or "", *(source_notes([y.fx_source or ""]) if full else [])]))
        t.add_row(_("base in CNY"), _cny(y.base_cny), "")
    else:
        t.add_row(_("reading"), _("nominal"), _("rate × USD figure, paid as yuan"))
    t.add_row(_("gross reward"), _cny(y.gross_cny), "")
    if y.cap_cny is not None:
        t.add_row(_("annual cap"), _cny(y.cap_cny), (_("[yellow]binds[/] ") if y.capped else _("does not bind ")) + cite(y.citations["cap"]))
    else:  # "none" is itself a reading or an assumption of the policy: its note says which
        t.add_row(_("annual cap"), _("none"), cite(y.citations["cap"]) if y.citations.get("cap") else "")
    if y.period_left_cny is not None:
        t.add_row(_("left of the period's cap"), _cny(y.period_left_cny),
                  _("[yellow]binds[/]") if y.incentive_cny == y.period_left_cny and y.gross_cny > y.period_left_cny else "")
    for part in y.parts:
        t.add_row(_e(part.label), _cny(part.incentive_cny), f"{_name(RATE_TYPE_NAMES, part.rate_type)} {percent_fmt(part.rate)}")
    payout = _cny(y.incentive_cny)
    if y.rate_type == "ceiling" and y.rate_basis != "granted" and y.incentive_cny:
        payout = _("up to {amount}").format(amount=payout)
    t.add_row(_("[bold]payout[/]"), f"[bold]{payout}[/]", _("each part rounded once") if y.parts else _("rounded once"))
    if y.combination:
        t.add_row(_("combination"), "" if y.paid else _("[yellow]not paid[/]"),
                  _e(y.combination) + (" " + cite(y.citations["combination"]) if y.citations.get("combination") else ""))
    if full:
        foot: RenderableType = Text("\n".join(f"[{i}] {n}" for i, n in enumerate(notes, 1)), style="dim")
    else:
        foot = Group(*(_one_line(f"[{i}] {n}", "dim") for i, n in enumerate(notes, 1)))
    if any(a.date is not None for a in y.arrivals) or (full and any(a.currency != "USD" for a in y.arrivals)):
        return Group(_arrivals_table(y, full), t, foot)
    converted = [_("{amount} {type} = {usd}: {source}").format(
        amount=money_fmt(a.amount, a.currency), type=_name(CONTRIBUTIONS, a.type), usd=_usd(a.usd), source=a.source)
        for a in y.arrivals if a.currency != "USD"]  # (undated amounts: a line each says how they became USD)
    if converted:
        return Group(Text("\n".join(converted), style="dim"), t, foot)
    return Group(t, foot)


def _arrivals_table(y: YearResult, full: bool = True) -> RenderableType:
    t = Table(title=_("{year}: capital arrivals").format(year=y.year), title_justify="left",
              **({} if full else {"box": box.SIMPLE_HEAD, "show_edge": False}))
    for col, just in ((N_("date"), "left"), (N_("type"), "left"), (N_("amount"), "right"), (N_("in USD"), "right"),
                      (N_("counted"), "left")):
        t.add_column(_(col), justify=just, no_wrap=True)
    conversions = []
    for a in y.arrivals:
        t.add_row(str(a.date or y.year), _name(CONTRIBUTIONS, a.type), money_fmt(a.amount, a.currency), money_fmt(a.usd),
                  _("yes") if a.counted else _("[dim]no[/]"))
        if a.currency != "USD":
            conversions.append(_("{date} {currency}: {source}").format(date=a.date or y.year, currency=a.currency, source=a.source))
    return Group(t, Text("\n".join(conversions), style="dim")) if conversions else t


def _what_if(y: YearResult) -> list[str]:
    s, lines = y.sensitivity, []
    if s.next_tier and s.next_tier_from_usd is not None:
        more = s.next_tier_from_usd - y.base_usd
        lines.append(_("{year}: a base of {base} ({more} more) reaches the {tier} tier.").format(
            year=y.year, base=_usd(s.next_tier_from_usd), more=_usd(more), tier=_tier_name(y, s.next_tier)))
    if s.cap_binds_above_usd is not None:
        line = (_("{year}: the annual cap binds already above a base of {base}; capital above that earns nothing more this year.")
                if y.capped else
                _("{year}: the annual cap would bind above a base of {base}; capital above that earns nothing more this year."))
        lines.append(line.format(year=y.year, base=_usd(s.cap_binds_above_usd)))
    other = "nominal" if y.reading == "converted" else "converted"
    if y.eligible and y.other_reading_incentive_cny is not None:
        lines.append(_("{year}: under the {other} reading the payout would be {payout}.").format(
            year=y.year, other=_(READINGS[other]), payout=_cny(y.other_reading_incentive_cny)))
    return lines


def render_assessment(a: Assessment, full: bool = False) -> RenderableType:
    """The itemised breakdown of `fdi calc`: the sources, footnotes and caveats a line each, or with
    ``full`` (--caveats) in full."""
    parts: list[RenderableType] = []
    for p in a.policies:
        covers = (_("applied {start} to {end} · {covers}") if p.effective_to else
                  _("applied from {start}, no end date · {covers}")).format(start=p.effective_from, end=p.effective_to, covers=p.source_covers)
        quoted = _("the clause as quoted by: {source} · reliability: {reliability}").format(
            source=p.clause_source, reliability=_name(RELIABILITY, p.reliability))
        if not full:
            parts.append(Text.assemble((p.id, "bold"), "  ", " ".join(_("{title} · {reliability}").format(
                title=p.title, reliability=_name(RELIABILITY, p.reliability)).split()), no_wrap=True, overflow="ellipsis"))
            continue  # (its dates, sources and their addresses in full: --caveats)
        head = Text.assemble((p.id, "bold"), "  ", p.title, "\n", (p.source, "italic"))
        if p.url:
            head.append(f"\n{p.url}", style="dim")
        head.append("\n" + covers)
        head.append("\n" + quoted)
        if p.clause_source_url:
            head.append(f"\n{p.clause_source_url}", style="dim")
        parts.append(Panel(head, title=_("policy"), title_align="left"))
    c = a.classification
    kind = _name(KIND_WORDS, a.project.kind)
    cls = Text((_("Project: {id}, {kind}").format(id=a.project.id, kind=kind) if a.project.id else _("Project: {kind}").format(kind=kind))
               + (_("; ") if not full else "\n") + _("Category: {category}, from {basis}").format(category=category_name(c.category), basis=c.basis))
    for note in c.notes:
        cls.append("\n" + _("note: {note}").format(note=note), style="yellow")
    parts.append(cls)
    parts.extend(_year_table(y, a.project.kind, full, c.sector) for y in a.years)
    if len(a.years) > 1:
        total = Table(title=_("total"), title_justify="left")
        total.add_column(_("year"))
        total.add_column(_("tier"))
        total.add_column(_("payout"), justify="right")
        for y in a.years:
            total.add_row(str(y.year), _e(_tier_name(y, y.tier)), _cny(y.incentive_cny))
        total.add_row(_("[bold]total[/]"), "", f"[bold]{_cny(a.total_incentive_cny)}[/]")
        parts.append(total)
    else:
        parts.append(Text.from_markup("[bold]" + _("Total incentive: {amount}").format(amount=_cny(a.total_incentive_cny)) + "[/]"))
    what_if = [line for y in a.years for line in _what_if(y)]
    if what_if and full:
        parts.append(Panel(_e("\n".join(what_if)), title=_("what would change the answer"), title_align="left"))
    elif what_if:
        parts.append(Text(_("what would change the answer: {lines}").format(lines="\n".join(what_if))))
    # each under its id, as the footnotes point to it ("see caveat 'reinvested-profit'")
    caveats = [(i, c) for p in a.policies for i, c in zip(p.caveat_ids or [""] * len(p.caveats), p.caveats)]
    if caveats and full:
        parts.append(Panel(Text("\n".join((_("• [{id}] {caveat}") if i else _("• {caveat}")).format(id=i, caveat=c)
                                          for i, c in dict.fromkeys(caveats))), title=_("caveats"),
                           title_align="left", border_style="yellow"))
    elif caveats:
        parts.append(Text(_("caveats, a line each (the full texts: --caveats, or fdi policy show)"), style="bold yellow"))
        parts.extend(_one_line((_("• [{id}] {caveat}") if i else _("• {caveat}")).format(id=i, caveat=c))
                     for i, c in dict.fromkeys(caveats))
    return Group(*parts)


def render_policy_list(policies: list[LoadedPolicy]) -> RenderableType:
    t = Table(title=_("policies"))
    for col in (N_("id"), N_("applied to"), N_("source covers"), N_("title"), N_("confidence")):
        t.add_column(_(col))
    for lp in policies:
        p = lp.policy
        sp = p.source_period or p.effective
        t.add_row(_e(p.id), p.effective.span, sp.span, _e(pick(p.title, p.title_zh)), _e(_name(RELIABILITY, p.confidence)))
    return t


SAID_STYLE = {"text": "", "our reading": "cyan", "assumption": "yellow"}
BASIS_WORDS = {"source": N_("the source says"), "reading": N_("our reading"), "assumption": N_("our assumption"),
               "unknown": N_("no source settles it")}


def _said(part: Said) -> Text:
    """What a part of a policy rests on, a line each: the source's words, our reading, an assumption."""
    out = Text()
    for i, (label, text) in enumerate(part.said()):
        head, _sep, _rest = _("{label}: {text}").partition("{text}")
        out.append(("\n" if i else "") + head.format(label=_(label)), style=f"bold {SAID_STYLE[label]}".strip())
        out.append(text, style=SAID_STYLE[label] or None)
    return out


def _place(code: str) -> str:
    from .placing import place_name

    try:
        return f"{place_name(code)} ({code})"
    except Exception:  # (a code the divisions do not name: shown as it is)
        return code


def _place_words(p) -> str:
    area = p.place
    words = _("within {places}").format(places=_(", ").join(_place(c) for c in area.within))
    if area.excludes:
        words += _("; not {places}").format(places=_(", ").join(_place(c) for c in area.excludes))
    if area.others:
        words += _("; elsewhere in it: {label}").format(label=pick(area.others_label or area.others, area.others_label_zh))
    return words


def render_policy(lp: LoadedPolicy) -> RenderableType:
    """Every parameter of a policy with what it rests on: the words of a source, our reading, an assumption."""
    p = lp.policy
    chinese = get_language() == "zh" and p.title_zh  # (the English title is a name of ours too: in Chinese, ours in Chinese alone)
    head = Text.assemble((f"{p.id}", "bold"), "" if chinese else f"  {p.title}")
    if p.title_zh:
        head.append(("  " if chinese else "\n") + _("{title} (a name we gave the rule, not a source's title)").format(title=p.title_zh))
    head.append("\n" + _("{jurisdiction}; applied to {span}").format(jurisdiction=pick(p.jurisdiction, p.jurisdiction_zh),
                                                                    span=p.effective.span))
    sp = p.source_period
    if sp is not None:
        head.append(_("; ") + covered_period(p) + (_("; later years are an assumed continuation") if sp.to != p.effective.to else ""))
    head.append("\n" + _("confidence: {confidence} (the best reliability among the sources quoting the clause)").format(
        confidence=_name(RELIABILITY, p.confidence)))
    head.append("\n" + _("file: {origin}  sha256 {sha}…").format(origin=lp.origin, sha=lp.sha256[:16]), style="dim")
    sources = Text()
    for i, src in enumerate(p.sources):
        sources.append(("\n\n" if i else "") + _(ROLE_NAMES[src.role]), style="bold")
        sources.append(_(" ({what}): {name}").format(what=_(SOURCE_ROLES[src.role]), name=src.name))
        if src.title_en and get_language() != "zh":  # (an English rendering of a Chinese title: for English readers)
            sources.append(f"\n{src.title_en}", style="italic")
        sources.append("\n" + _("reliability: {reliability}; checked {checked} (read against a stored copy of the source)").format(
            reliability=_name(RELIABILITY, src.reliability), checked=src.checked))
        sources.append("\n" + _("seen: {seen}").format(seen=pick(src.seen, src.seen_zh)))
        if src.url:
            sources.append(f"\n{src.url}", style="dim")
    # Two columns, what each value rests on under it: a third column of citations shrank to nothing
    # at 80 columns and when piped, though showing each parameter beside its clause is the point.
    t = Table(show_lines=True, expand=True)
    t.add_column(_("parameter"), style="bold", no_wrap=True)
    t.add_column(_("value, and what it rests on"), overflow="fold")

    def row(name: str, value: str, said: Said | None) -> None:
        cell = Text(value)
        if said is not None:
            cell.append("\n")
            cell.append_text(_said(said))
        t.add_row(name, cell)

    def dates(start, end) -> str:
        return f"{start} – {end}" if end else _("{start} – no end date").format(start=start)

    row(_("applied to"), dates(p.effective.from_, p.effective.to), p.effective)
    if sp is not None:
        row(_("source covers"), dates(sp.from_, sp.to), sp)
    if p.place is not None:
        row(_("place"), _place_words(p), p.place)
        for g in p.place.groups:
            row(_e(_("group {id}").format(id=g.id)), _("{label}: {places}").format(
                label=pick(g.label, g.label_zh), places=_(", ").join(_place(c) for c in g.places)), g)
    row(_("base"), _("{counts} in {currency}, per {period}; not {excludes}").format(
        counts=_(", ").join(_name(CONTRIBUTIONS, c) for c in p.base.counts), currency=p.base.currency,
        period=_("calendar year") if p.base.period == "calendar_year" else _("reward year from 1 October to 30 September"),
        excludes=_(", ").join(_name(CONTRIBUTIONS, c) for c in p.base.excludes) or "-")
        + (_("; the amount spent (实际支出金额), where given") if p.base.measure == "spent" else ""), p.base)
    row(_("kinds"), _(", ").join(_name(KIND_SHORT_NAMES, k) for k in p.base.kinds), None)
    for tier in p.tiers:
        who = _(", ").join(category_name(c) for c in tier.categories) or _("any category not excluded")
        only = [_name(KIND_SHORT_NAMES, k) for k in tier.kinds] + [_("group {id}").format(id=g) for g in tier.groups] \
            + [_(FLAG_NAMES[f]) for f in tier.requires]
        if only:
            who = _("{who}; only {only}").format(who=who, only=_(", ").join(only))
        text = _("{comparator} {threshold} → {rate_type} {rate} ({who})").format(
            comparator=_(tier.threshold.words), threshold=money_fmt(tier.threshold.amount, 'USD'),
            rate_type=_name(RATE_TYPE_NAMES, tier.rate_type), rate=percent_fmt(tier.rate), who=who)
        if tier.below is not None:
            text += "\n" + _("below {top} (the band's top, not included)").format(top=money_fmt(tier.below, "USD"))
        for part in tier.parts:
            text += "\n" + _("{payer}: {rate_type} {rate}").format(payer=pick(part.label, part.label_zh),
                                                                  rate_type=_name(RATE_TYPE_NAMES, part.rate_type),
                                                                  rate=percent_fmt(part.rate))
        row(_e(pick(_("tier {id}").format(id=tier.id), tier.label_zh and _("{label} ({id})").format(label=tier.label_zh, id=tier.id))),
            text, tier)
        for part in tier.parts:
            row(_e(_("  part {payer}").format(payer=part.payer)), percent_fmt(part.rate), part)
        if tier.cap is not None:
            row(_e(_("  cap of {id}").format(id=tier.id)), _("{cap} a project a year").format(cap=money_fmt(tier.cap.amount, "CNY")),
                tier.cap)
        if tier.period_cap is not None:
            pc = tier.period_cap
            row(_e(_("  period cap of {id}").format(id=tier.id)), _("{cap} over {start}-{end}, summed in year order").format(
                cap=money_fmt(pc.amount, "CNY"), start=pc.from_, end=pc.to), pc)
    row(_("exclusions"), _(", ").join(category_name(c) for c in p.exclusions.categories) + _("; codes: ")
        + _(", ").join(p.exclusions.codes), p.exclusions)
    row(_("stacking"), _name(STACKING_NAMES, p.stacking.mode), p.stacking)
    row(_("annual cap"), money_fmt(p.cap.amount, "CNY") if p.cap.amount is not None else _("none"), p.cap)
    row(_("conversion"), _(READINGS[p.conversion.default]) + (_(" (the text's own: not selectable)") if p.conversion.fixed else ""),
        p.conversion)
    for how in p.combines:
        row(_("combines"), _("{mode} {family}").format(mode=_(COMBINE_NAMES[how.mode]), family=how.with_), how)
    row(_("rounding"), _("{quantum} {mode}; USD equivalents to {usd_quantum}").format(
        quantum=p.rounding.quantum, mode=_name(ROUNDING_NAMES, p.rounding.mode), usd_quantum=p.rounding.usd_quantum), p.rounding)
    parts: list[RenderableType] = [Panel(head, title=_("policy"), title_align="left"), Panel(sources, title=_("sources"), title_align="left"), t]
    for quoted in (src for src in p.sources if src.quote):  # (each source that quotes a clause: the first is the clause's)
        clause = Text(quoted.quote or "")
        if quoted.gloss:
            clause.append("\n\n" + _("gloss: {gloss}").format(gloss=quoted.gloss), style="dim")
        parts.append(Panel(clause, title=Text(_("the clause, verbatim, as the {role} gives it ({issuer})").format(
            role=_(ROLE_NAMES[quoted.role]), issuer=pick(quoted.issuer, quoted.issuer_zh))
            + (_("; [ ] marks words we restored") if "[" in (quoted.quote or "") else "")), title_align="left"))
    if p.caveats:
        lines = [_("• [{id}] ({basis}{shown}) {text}").format(
            id=c.id, basis=_(BASIS_WORDS[c.basis]), shown=_("; shown on assumed years only") if c.shown != "always" else "",
            text=pick(c.text, c.text_zh)) for c in p.caveats]
        parts.append(Panel(Text("\n".join(lines)), title=_("caveats"), title_align="left", border_style="yellow"))
    return Group(*parts)


def _policy_tier_name(policies: list[str], tier: str | None) -> str:
    """A tier of one of ``policies`` (ids) as a reader names it: its id, or under --lang zh its Chinese label."""
    if not tier:
        return _("none")
    labels: dict[str, str | None] = {}
    for policy in policies:
        try:
            labels = {t.id: t.label_zh for t in get_policy(policy).policy.tiers} | labels
        except FdiError:  # (a policy file given by path: its id alone is known here)
            pass
    return pick(tier, labels.get(tier))


SOURCES_SHOWN = 5  # FX sources named in a batch's summary on the terminal


def _as_written(amount: Decimal, unit: int) -> str:
    """An amount as the sheet writes it, in its column's unit (6,200.5 for USD 62,005,000 in 万美元)."""
    k = len(str(unit)) - 1
    if unit == 1 or unit != 10 ** k:
        return money_fmt(amount)
    return f"{amount.scaleb(-k).normalize():,f}"


def _total_lines(b: "BatchSummary") -> list[str]:
    lines = []
    for t in b.totals:
        for column, c in t.checks.items():
            head = _e(_("{where} ({label}), {column}:").format(
                where=t.line or _("row {row}").format(row=t.row), label=t.label, column=column))
            left = ((_("; 1 row above unreadable, left out") if c.unreadable == 1 else
                     _("; {n} rows above unreadable, left out").format(n=f"{c.unreadable:,}")) if c.unreadable else "")
            one = c.rows == 1
            said = {"head": head, "n": f"{c.rows:,}", "sum": _as_written(c.rows_above, c.unit), "left": left}
            if c.total is not None:
                said |= {"total": _as_written(c.total, c.unit), "diff": _as_written(c.total - c.rows_above, c.unit)}
            if c.total is None:
                lines.append((_("{head} no amount to check (the 1 row above holds {sum})") if one else
                              _("{head} no amount to check (the sum of the {n} rows above is {sum})")).format(**said))
            elif c.equal:
                lines.append((_("{head} {total} [green]= the 1 row above ✓[/]{left}") if one else
                              _("{head} {total} [green]= the sum of the {n} rows above ✓[/]{left}")).format(**said))
            else:
                lines.append((_("{head} {total} [red]≠ the 1 row above, {sum} (differs by {diff})[/]{left}") if one else
                              _("{head} {total} [red]≠ the sum of the {n} rows above, {sum} (differs by {diff})[/]{left}"))
                             .format(**said))
    return lines


def render_batch_summary(b: "BatchSummary") -> RenderableType:
    """What a batch did: rows, errors, payouts by tier, category and year, and what it assumed.

    The errors it lists are the output's ``error`` cells, as written (in English: see README)."""
    head = Table.grid(padding=(0, 2))
    head.add_column(style="bold")
    head.add_column(justify="right")
    if b.arrivals is not None:
        head.add_row(_("arrivals"), f"{b.arrivals:,}")
    head.add_row(_("project-years") if b.arrivals is not None else _("rows"), f"{b.rows:,}")
    head.add_row(_("scored"), f"{b.scored:,}")
    head.add_row(_("rows with errors"), f"[red]{b.errors:,}[/]" if b.errors else "0")
    if b.totals:
        head.add_row(_("total rows (kept, not scored)"), f"{len(b.totals):,}")
    for tier, n in sorted(b.eligible_by_tier.items()):
        head.add_row(_e(_("eligible, {tier} tier").format(tier=_policy_tier_name(b.policies, tier))), f"{n:,}")
    head.add_row(_("capped"), f"{b.capped:,}")
    if b.assumed_continuation:
        head.add_row(_("scored under an assumed policy"), f"[yellow]{b.assumed_continuation:,}[/]")
    head.add_row(_("total payout"), f"[bold]{_cny(b.total_incentive_cny)}[/]")
    parts: list[RenderableType] = [Panel(head, title=Text(f"fdi batch: {b.input}"), title_align="left")]
    # (a reader sees why services are "other": the category named by what it holds)
    categories = {**CATEGORY_NAMES, "other": N_("other (services, and any sector in no other category)")}
    for title, column, groups, names in ((N_("by sector category"), N_("category"), b.by_category, categories),
                                         (N_("by year"), N_("year"), b.by_year, {})):
        if groups:
            t = Table(title=_(title), title_justify="left")
            t.add_column(_(column))
            t.add_column(_("rows"), justify="right")
            t.add_column(_("eligible"), justify="right")
            t.add_column(_("payout"), justify="right")
            for key, g in sorted(groups.items()):
                t.add_row(_e(_name(names, key)), f"{g.rows:,}", f"{g.eligible:,}", _cny(g.incentive_cny))
            parts.append(t)
    if b.totals:
        parts.append(Panel("\n".join(_total_lines(b)), title=_("total rows, against the rows above them"), title_align="left"))
    if b.first_errors:
        more = (_(" (first {shown} of {errors})").format(shown=len(b.first_errors), errors=f"{b.errors:,}")
                if b.errors > len(b.first_errors) else "")
        parts.append(Panel(Text("\n".join(_("{where}{project}: {error}").format(
            where=e.line or _("row {row}").format(row=e.row), project=_(" ({project})").format(project=e.project_id or e.project_name) if e.project_id or e.project_name else "", error=b.errors_shown.get(e.row, e.error))
            for e in b.first_errors)),
                           title=_("errors") + more, title_align="left", border_style="red"))
    def columns(mapping: dict[str, str]) -> str:
        return _(", ").join(f"{v} → {k}" if v != k else k for k, v in mapping.items())

    mapping = columns(b.column_mapping)
    if b.projects_column_mapping:
        mapping += _("; from --projects: {columns}").format(columns=columns(b.projects_column_mapping))
    fx = _("; ").join(b.fx_sources[:SOURCES_SHOWN]) or _("none needed")  # (in the interface's language: see batch)
    if len(b.fx_sources) > SOURCES_SHOWN:  # (a ledger's arrival days each have theirs: thousands)
        fx += _("; … and {more} more (every one in --summary-json)").format(more=f"{len(b.fx_sources) - SOURCES_SHOWN:,}")
    notes = [_("columns used: {mapping}").format(mapping=mapping)]
    if b.column_units:
        notes.append(_("units: {units}").format(units=_("; ").join(
            _("{column}: {unit}").format(column=c, unit=u) for c, u in b.column_units.items())))
    if b.ignored_columns:
        notes.append(_("columns ignored (kept in the output as they are): {columns}").format(columns=_(", ").join(b.ignored_columns)))
    notes += [_("policies: {policies}").format(policies=_(", ").join(b.policies) or _("none (no row was scored)")), _("FX: {fx}").format(fx=fx)] + b.notes
    if b.output:
        notes.append(_("written to {output}").format(output=b.output))
    parts.append(Text("\n".join(notes), style="dim"))
    return Group(*parts)
