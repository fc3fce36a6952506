"""What a file's header says: which column means what, and so which shape of file it is.

Every rule about header names lives here: the accepted names of each column (`ALIASES`), how
names are compared (`normalise_header`), when a row of names is the header (`HEADER_TESTS`),
what shape of rows the file holds (`SHAPES`), and which columns name the same thing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from ..errors import InputError
from ..i18n import N_, _

# canonical column -> accepted header names (compared after normalise_header)
ALIASES: dict[str, list[str]] = {
    "project_id": ["project_id", "project", "id", "项目编号", "项目代码", "项目id", "项目名称编号"],
    "year": ["year", "年份", "年度"],
    "kind": ["kind", "project_kind", "项目类型", "类型(新设/增资)", "新设/增资"],
    "sector": ["sector", "industry", "行业", "行业类别", "产业"],
    "industry_code": ["industry_code", "gbt_code", "gb_code", "code", "行业代码", "国民经济行业代码"],
    "paid_in_usd": ["paid_in_usd", "实际到位外资", "实际到位外资金额", "实际到位外资(美元)", "实际到位外资金额(美元)", "到位外资(美元)"],
    "paid_in": ["paid_in", "实际到位金额", "到位金额"],
    "currency": ["currency", "币种", "币别"],
    "shareholder_loans_usd": ["shareholder_loans_usd", "shareholder_loans", "loans_usd", "外方股东贷款", "股东贷款"],
    "reinvested_profit": ["reinvested_profit", "reinvested_profit_cny", "利润再投资", "再投资利润"],
    "reinvested_profit_currency": ["reinvested_profit_currency", "利润再投资币种"],
    # reinvested profits in USD: the column of `fdi sql`'s table and of --engine spark
    "reinvested_profit_usd": ["reinvested_profit_usd"],
    "fx_rate": ["fx_rate", "fx", "汇率"],
    # where the project is and what it is, for the policies that ask (issue: other jurisdictions)
    "location": ["location", "place", "所在地", "地区", "所在地区", "项目所在地"],
    "high_tech": ["high_tech", "高技术", "高技术产业"],
    "hnte": ["hnte", "高新技术企业"],
    "priority": ["priority", "priority_project", "重点项目"],
    "spent_usd": ["spent_usd", "实际支出", "实际支出金额", "实际支出(美元)"],
    # the ledger shape
    "date": ["date", "arrival_date", "日期", "到位日期"],
    "type": ["type", "contribution_type", "出资类型", "资金类型"],
    "amount": ["amount", "金额"],
}


def normalise_header(name: str) -> str:
    text = unicodedata.normalize("NFKC", str(name)).strip().lower()
    return re.sub(r"[\s_\-]+", "", text)


_ALIAS_INDEX = {normalise_header(a): canon for canon, names in ALIASES.items() for a in names}


def canonical(name: str) -> str | None:
    """The column a header name stands for (None: a column fdi only carries through); an amount's
    header may end in its unit (实际到位外资（万美元）: see `units.split_unit`)."""
    found = _ALIAS_INDEX.get(normalise_header(name))
    if found is None:
        from .units import split_unit

        base, unit = split_unit(name)
        if unit is not None:
            found = _ALIAS_INDEX.get(normalise_header(base))
    return found


AMOUNTS = ("paid_in_usd", "paid_in", "shareholder_loans_usd", "reinvested_profit", "amount", "spent_usd")


def check_brackets(columns: list[str]) -> None:
    """A header naming a known column with a bracketed text after it that is no unit we read
    (利润再投资（千克）, 汇率（美元/元）) stops the run naming it (InputError): never a column ignored
    whose money is then missing."""
    from .units import KNOWN_UNITS, bracketed

    for col in columns:
        if canonical(col) is not None or (found := bracketed(col)) is None:
            continue
        canon = _ALIAS_INDEX.get(normalise_header(found[0]))
        if canon is None:
            continue
        if canon in AMOUNTS:
            expected = _("a unit we read after {column} ({units}: 万美元, 千元, 人民币万元, USD 10k, CNY 1k), or none").format(
                column=canon, units=KNOWN_UNITS)
        else:
            expected = _("{column} with no bracketed text after it (a unit is read after an amount only): rename the column").format(
                column=canon)
        raise InputError("INPUT", col, expected)


def map_columns(columns: list[str]) -> dict[str, str]:
    """Canonical name -> the file's column, by forgiving match (case, spaces, underscores, Chinese
    aliases): the first column of each name (see `collisions` for the others)."""
    mapping: dict[str, str] = {}
    for col in columns:
        canon = canonical(col)
        if canon and canon not in mapping:
            mapping[canon] = col
    return mapping


def collisions(columns: list[str]) -> dict[str, list[str]]:
    """Canonical name -> every column naming it, where more than one does (`year, 年份, Year`, or
    the same name twice: `repeats`): their cells must agree row by row (see
    `readers.check_collisions`), else the run stops."""
    named: dict[str, list[str]] = {}
    again = repeats(columns)
    for col in columns:
        if (canon := canonical(again.get(col, col))) is not None:
            named.setdefault(canon, []).append(col)
    return {canon: cols for canon, cols in named.items() if len(cols) > 1}


def repeats(columns: list[str]) -> dict[str, str]:
    """The columns `unique` renamed (a header naming a known column twice, exactly: the second
    `paid_in_usd` read as ``paid_in_usd_1``) -> the name the header gives them. (A header that
    itself writes ``paid_in_usd_1`` beside ``paid_in_usd`` is read alike: the two must agree.)"""
    present = set(columns)
    found: dict[str, str] = {}
    for col in columns:
        m = _REPEAT.match(col)
        if m and m.group(1) in present and canonical(m.group(1)) is not None:
            found[col] = m.group(1)
    return found


def shown_name(col: str, columns: list[str]) -> str:
    """A column as a message names it: its name, and its place where the header gives the name twice."""
    again = repeats(columns)
    name = again.get(col, col)
    if name in again.values():
        return _("{name} (column {n})").format(name=name, n=columns.index(col) + 1)
    return col


_REPEAT = re.compile(r"^(.*\S)_([1-9][0-9]*)$")


def unique(header: list[str]) -> list[str]:
    """Header names made unique (a blank one named by its place): a repeated name gets _1, _2, ...,
    skipping any the header already holds."""
    taken: set[str] = set()
    out = []
    for i, cell in enumerate(header):
        base = cell.strip() or f"column_{i + 1}"
        name, n = base, 0
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        out.append(name)
    return out


def names_a_header(mapping: dict[str, str]) -> bool:
    """Whether a row of column names is a header fdi can score from: it names a year, or a
    ledger's date and amount."""
    return "year" in mapping or ("date" in mapping and "amount" in mapping)


def names_a_project_list(mapping: dict[str, str]) -> bool:
    """Whether a row of column names is the header of a ledger's project file (``--projects``):
    a project id and the project's kind, sector or industry code."""
    return "project_id" in mapping and any(c in mapping for c in ("kind", "sector", "industry_code"))


# what a file is read for -> the test a row of names passes to be its header
HEADER_TESTS: dict[str, Callable[[dict[str, str]], bool]] = {"data": names_a_header, "projects": names_a_project_list}
LEDGER_NEEDS = ("project_id", "date", "type", "amount")


def shape_of(role: str, mapping: dict[str, str], columns: list[str], path: str) -> str:
    """The shape of rows a header says its file holds: "ledger" (arrivals: a date and an amount),
    "project-years" (a year), or "projects" (a ledger's --projects file); InputError if none."""
    if role == "projects":
        if "project_id" not in mapping:
            raise InputError("--projects", path, _("a project file with a project_id column and kind, sector or industry_code"))
        return "projects"
    if "date" in mapping and "amount" in mapping:
        for need in LEDGER_NEEDS:
            if need not in mapping:
                raise InputError("INPUT", need, _("a ledger with project_id, date, type, amount and currency columns"))
        return "ledger"
    missing = [(what, names) for what, canon, names in REQUIRED if not any(c in mapping for c in canon)]
    if missing:  # (before scoring: one message, not one error per row)
        seen = _(", ").join(repr(c) for c in columns[:30]) + (_(" … ({n} in all)").format(n=f"{len(columns):,}") if len(columns) > 30 else "")
        what = _(" and ").join(_(w) for w, _n in missing)
        raise InputError("INPUT", path, _("a header naming {what} ({names}; a unit may follow in brackets: 实际到位外资（万美元）); "
                                          "the header has {seen}").format(what=what, names=_("; ").join(_(n) for _w, n in missing), seen=seen))
    return "project-years"


# what a project-year file must have: each as one of its canonical names, and as the message names it
REQUIRED = [(N_("year"), ["year"], "year / 年份"),
            (N_("the amount paid in"), ["paid_in_usd", "paid_in", "reinvested_profit"],
             N_("paid_in_usd / 实际到位外资 (or paid_in + currency, or reinvested_profit / 利润再投资)")),
            (N_("the sector"), ["sector", "industry_code"], N_("sector / 行业 or industry_code / 行业代码"))]
