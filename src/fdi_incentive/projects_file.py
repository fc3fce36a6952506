"""A ledger's --projects file: what it says of each project (its kind, sector and code), the
rows it cannot use (no project_id) and the projects it lists twice, differently."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .i18n import N_, _
from .language import said_both
from .io.columns import named
from .io.readers import PARSE_ERROR, Source
from .text import quoted

if TYPE_CHECKING:
    import polars as pl

MAX_NAMED = 10  # rows named in a note or an error (the rest are counted)


def stripped(name: str) -> pl.Expr:
    """A cell's text without the spaces around it; an empty one is missing."""
    import polars as pl

    text = named(name).str.strip_chars()
    return pl.when(text.str.len_bytes() > 0).then(text)


def unnamed(projects: Source, rows: pl.DataFrame) -> str | None:
    """Where --projects has rows with cells but no project_id (they cannot be used): said, never dropped silently."""
    import polars as pl

    from .io.lines import where_all

    cells = [c for c in rows.columns if c != PARSE_ERROR]
    numbered = rows.filter(pl.any_horizontal(stripped(c).is_not_null() for c in cells)).with_row_index("__n", offset=1)
    missing = numbered.filter(stripped(projects.mapping["project_id"]).is_null())["__n"].to_list()
    if not missing:
        return None
    places = where_all(projects.format, projects.converted_from, projects.path, projects.encoding, projects.delimiter,
                       projects.columns, missing[:MAX_NAMED])
    more = _(" and {count} more").format(count=f"{len(missing) - MAX_NAMED:,}") if len(missing) > MAX_NAMED else ""
    said = (_("--projects: {places}{more} has no project_id and was not used") if len(missing) == 1
            else _("--projects: {places}{more} have no project_id and were not used"))
    return said.format(places=places, more=more)


def meaning_of(canon: str, text: str) -> str:
    """What a project's kind, sector or code cell (stripped) means, as the scorer reads it: cells
    that mean the same (增资 and capital_increase, services and Services, c3670 and C3670) agree.
    A value the scorer cannot read stands for itself (it is the project-year's error there)."""
    from .errors import InputError
    from .industry import normalise_code, normalise_name, sector_meaning
    from .policy import KIND_NAMES

    if canon == "kind":
        kind = KIND_NAMES.get(normalise_name(text))
        return f"kind:{kind}" if kind else f"as written:{text}"
    if canon == "sector":
        meant = sector_meaning(text)  # (its category, and the GB/T code a section or division name stands for)
        return f"sector:{meant[0]}:{meant[1] or ''}" if meant else f"as written:{text}"
    try:
        return f"code:{normalise_code(text)[0]}"
    except InputError:
        return f"as written:{text}"


def meanings(frame: pl.DataFrame, column: str, canon: str, known: dict[tuple[str, str], int]) -> pl.Expr:
    """A column of kind, sector or code cells as what each means (`meaning_of`), a number for
    each meaning (cells that mean the same, the same number), each distinct value worked out once
    (``known`` keeps them across calls: (canon, cell) and ("meaning", meaning) -> its number)."""
    import polars as pl

    values = frame[column].drop_nulls().unique().to_list()
    for v in values:
        if (canon, v) not in known:
            known[(canon, v)] = known.setdefault(("meaning", meaning_of(canon, v)), len(known))
    return pl.col(column).replace_strict({v: known[(canon, v)] for v in values}, default=None, return_dtype=pl.UInt32)


LISTED_TWICE = N_("project_id: {id} is listed on {places} of --projects with different {columns}; keep one of them")
NOT_LISTED = N_("project_id: {id} is not in --projects, so its sector is missing")


def listed_differently(projects: Source, rows: pl.DataFrame, listed: list[str], lang: str,
                       shown: dict[str, str]) -> dict[str, str]:
    """The projects --projects lists on several rows that differ in what their kind, sector or code
    means -> the
    error of their project-years, naming the rows (a ledger's row and --projects that differ are one
    too); ``shown`` gains each error as ``lang`` says it."""
    import polars as pl

    from .io.lines import where_all

    cells = [c for c in rows.columns if c != PARSE_ERROR]
    if not listed or not cells:
        return {}
    numbered = (rows.filter(pl.any_horizontal(stripped(c).is_not_null() for c in cells)).with_row_index("__n", offset=1)
                .select("__n", stripped(projects.mapping["project_id"]).alias("__id"),
                        *(stripped(projects.mapping[c]).alias(c) for c in listed))
                .filter(pl.col("__id").is_not_null()))
    if not numbered["__id"].is_duplicated().any():
        return {}
    known: dict[tuple[str, str], int] = {}  # (compared as they are read: services and Services alike)
    numbered = numbered.with_columns(meanings(numbered, c, c, known) for c in listed)
    groups = numbered.group_by("__id", maintain_order=True).agg(pl.col("__n"), *(pl.col(c).n_unique() for c in listed))
    said = {}
    for group in groups.filter(pl.any_horizontal(pl.col(c) > 1 for c in listed)).iter_rows(named=True):
        said[group["__id"]] = said_both(shown, lang, LISTED_TWICE, id=quoted(group["__id"]), columns=_(", ").join(
            c for c in listed if group[c] > 1), places=lambda: where_all(
                projects.format, projects.converted_from, projects.path, projects.encoding, projects.delimiter,
                projects.columns, group["__n"][:MAX_NAMED]))
    return said
