"""`fdi policy list` and `fdi policy show` on screen: every parameter of a policy beside what it rests
on (the words of a source, our reading, an assumption), its place, sources and clauses."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markup import escape as _e
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from .i18n import N_, _, get_language, pick
from .money import money_fmt, percent_fmt
from .policy import (COMBINE_NAMES, FLAG_NAMES, KIND_SHORT_NAMES, RATE_TYPE_NAMES, ROLE_NAMES, ROUNDING_NAMES,
                     SOURCE_ROLES, STACKING_NAMES, LoadedPolicy, Said, category_name, covered_period)
from .render import CONTRIBUTIONS, READINGS, RELIABILITY, _name


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
