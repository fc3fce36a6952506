"""A batch's summary as it is added up: counts, errors named where the analyst finds them, total
rows checked against the rows above, hints about units; and what the file's columns mean (the
units its headers name, the columns it must have, those that match nothing)."""

import dataclasses
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, Field

from .errors import InputError
from .i18n import _
from .frame import SUMMARY_KEYS, Options, Scored, Scorer
from .io.readers import Source
from .money import Money
from .totals import TOTAL_WORDS, AmountCheck, TotalCheck, is_subtotal, total_word  # noqa: F401 (and from here)

FIRST_ERRORS = 10


class RowError(BaseModel):
    row: int = Field(description="data row number, 1 = the first row after the header")
    error: str
    line: str | None = Field(None, description="where the analyst finds it: 'line 6' of a CSV, \"sheet 'Sheet1' row 6\"")
    project_id: str | None = None
    project_name: str | None = Field(None, description="the row's project name (项目名称), where the file has no id column")


class Group(BaseModel):
    rows: int
    eligible: int
    incentive_cny: Money


# a column that names the projects (项目名称): it labels the rows where the file has no id column
NAME_HEADERS = {"项目名称", "项目", "名称", "project_name", "projectname", "project name", "name"}


def name_column(scorer: Scorer) -> str | None:
    """The input column that names the projects, if the file has one."""
    return next((c for c in scorer.inputs if "".join(str(c).split()).casefold().replace("_", "") in
                 {"".join(h.split()).replace("_", "") for h in NAME_HEADERS}), None)


def totals_that_differ(totals: list[TotalCheck]) -> list[TotalCheck]:
    """The total rows whose amount is not the sum of the rows above them: the batch exits 1 naming each."""
    return [t for t in totals if any(c.equal is False for c in t.checks.values())]


def cells_of(scored: Scored, scorer: Scorer, column: str | None, rows: list[int]) -> list[str]:
    """A column's cells in some rows of a scored batch (a record copied as it stands: its field)."""
    if column is None or column not in scorer.inputs:
        return ["" for _ in rows]
    if scored.csv_ready:
        at = scorer.inputs.index(column)
        texts = scored.rows[scored.rows.columns[0]]
        return [(str(texts[i]).split(",") + [""] * (at + 1))[at] for i in rows]
    return ["" if scored.rows[column][i] is None else str(scored.rows[column][i]) for i in rows]


def _total_label(scored: Scored, scorer: Scorer, i: int) -> str:
    """What a total row calls itself: the text of its project id or first cell that names it."""
    if scored.csv_ready:  # (the record as it stands: its first fields)
        cells = str(scored.rows[scored.rows.columns[0]][i]).split(",")
        named = [cells[scorer.inputs.index(c)] for c in scorer.total_columns if scorer.inputs.index(c) < len(cells)]
    else:
        named = [str(scored.rows[c][i]) for c in scorer.total_columns if c in scored.rows.columns]
    words = {w.casefold() for w in TOTAL_WORDS}
    return next((n.strip() for n in named if "".join(n.split()).rstrip(":：").casefold() in words), named[0] if named else "")


class Tally:
    """The summary's counts, added up batch by batch from the scorer's `__` columns."""

    def __init__(self) -> None:
        self.rows = self.errors = self.capped = self.assumed = 0
        self.total = Decimal(0)
        self.first: list[RowError] = []
        self.tiers: Counter[str] = Counter()
        self.groups: dict[str, dict[str, list]] = {"category": defaultdict(lambda: [0, 0, Decimal(0)]),
                                                   "year": defaultdict(lambda: [0, 0, Decimal(0)])}
        self.policies: set[str] = set()
        self.fx_sources: set[str] = set()
        self.totals: list[TotalCheck] = []
        self.total_rows = 0
        self.sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # per amount: sum, rows read, unreadable so far
        self.at_total: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # the same at the last total row
        self.largest: dict[str, int] = {}  # per amount column: the largest amount of any row, in cents
        self._open: TotalCheck | None = None  # a 合计 no data row has followed yet (a grand total unless one does)
        self._open_group: dict[str, AmountCheck] = {}  # its checks as a subtotal

    def add(self, scored: Scored, scorer: Scorer) -> None:
        import polars as pl

        errors = 0
        for row in scored.groups.iter_rows():
            tier, category, year, policy, source = (scorer.label(k, v) for k, v in zip(SUMMARY_KEYS, row))
            rows, bad, capped, incentive, totals = row[len(SUMMARY_KEYS):]
            self.total_rows += totals
            amount = Decimal(int(incentive or 0)).scaleb(-scored.scale)
            errors += bad
            self.capped += capped
            self.total += amount
            if tier is not None:
                self.tiers[tier] += rows
            for key, value in (("category", category), ("year", year)):
                if value is not None:
                    g = self.groups[key][str(value)]
                    g[0] += rows
                    g[1] += rows if tier is not None else 0
                    g[2] += amount
            if policy is not None:
                self.policies.add(policy)
                if year is not None and scorer.policies[policy].policy.status_in(year) == "assumed_continuation":
                    self.assumed += rows
            if source:
                self.fx_sources.add(source)
        self.fx_sources.update(scored.own_sources)
        if errors and len(self.first) < FIRST_ERRORS:
            bad_rows = pl.DataFrame({"row": pl.int_range(1, len(scored.rows) + 1, eager=True) + self.rows,
                                     "error": scored.errors}).filter(scored.is_error).head(FIRST_ERRORS - len(self.first))
            at = [r - self.rows - 1 for r, _ in bad_rows.iter_rows()]
            ids = cells_of(scored, scorer, scorer.m.get("project_id"), at)
            names = cells_of(scored, scorer, name_column(scorer), at) if scorer.m.get("project_id") is None else ids
            self.first += [RowError(row=r, error=e, project_id=i or None, project_name=(n or None) if not i else None)
                           for (r, e), i, n in zip(bad_rows.iter_rows(), ids, names)]
        self._check_totals(scored, scorer)
        self.rows += len(scored.rows)
        self.errors += errors

    def _check_totals(self, scored: Scored, scorer: Scorer) -> None:
        """Each total row's amounts against the sum of the data rows above it: a grand total (总计,
        Total; 合计 unless data rows follow it) against every one, a subtotal (小计; a 合计 data rows
        follow) against those since the previous total row; then the running sums and largest amounts go on."""
        keys = scorer.amount_columns()
        names = scorer.m
        found = list(scored.totals.iter_rows(named=True)) if scored.totals is not None else []
        at = {int(t["_i"]) for t in found}
        last_data = next((i for i in range(len(scored.rows) - 1, -1, -1) if i not in at), -1)  # the batch's last data row
        if self._open is not None and last_data >= 0:  # (a data row after an earlier batch's 合计: a subtotal)
            self._open.checks, self._open = self._open_group, None
        for t in found:
            group_checks, run_checks = {}, {}
            for key, canon in keys.items():
                run = [self.sums[key][j] + int(t[f"{f}:{key}"] or 0) for j, f in enumerate(("sum", "n", "bad"))]
                group = [a - b for a, b in zip(run, self.at_total[key])]
                total = t[f"total:{key}"]
                for checks, chosen in ((group_checks, group), (run_checks, run)):
                    checks[names[canon]] = AmountCheck(
                        total=None if total is None else Decimal(total).scaleb(-2), rows_above=Decimal(chosen[0]).scaleb(-2),
                        rows=chosen[1], unreadable=chosen[2], equal=None if total is None else total == chosen[0],
                        unit=int(scorer.unit_of(canon)))
                self.at_total[key] = run
            label = _total_label(scored, scorer, int(t["_i"]))
            word, follows = total_word(label), last_data > int(t["_i"])
            check = TotalCheck(row=self.rows + int(t["_i"]) + 1, label=label,
                               checks=group_checks if is_subtotal(word, follows) else run_checks)
            self.totals.append(check)
            if word == "合计" and not follows:  # a grand total if it ends the data, a subtotal if data rows follow
                self._open, self._open_group = check, group_checks
        for key in keys:
            a = scored.amounts
            for j, f in enumerate(("sum", "n", "bad")):
                self.sums[key][j] += int(a.get(f"{f}:{key}") or 0)
            if a.get(f"max:{key}") is not None:
                self.largest[key] = max(self.largest.get(key, 0), int(a[f"max:{key}"]))

    def by(self, key: str) -> dict[str, Group]:
        return {k: Group(rows=r, eligible=e, incentive_cny=i) for k, (r, e, i) in sorted(self.groups[key].items())}


def locate(tally: Tally, src: Source, input_path: Path, came_as: str | None) -> None:
    """Name the rows reported (errors, totals) as the analyst finds them: a CSV's line, a sheet's row."""
    rows = {e.row for e in tally.first} | {t.row for t in tally.totals}
    found = _places(src, input_path, came_as, rows)
    for item in [*tally.first, *tally.totals]:
        item.line = found.get(item.row)


def _places(src: Source, input_path: Path, came_as: str | None, rows: set[int]) -> dict[int, str]:
    from .io.lines import where

    if not rows:
        return {}
    sheet = (src.converted_from or "").startswith("Excel sheet")
    path = src.path if sheet else input_path
    return where(src.format, src.converted_from, path, came_as or src.encoding, src.delimiter, src.columns, rows)


def ledger_totals(tally: Tally, checks: list[tuple[int, dict]], ledger: Source, input_path: Path, came_as: str | None) -> None:
    """A ledger's total rows: their checks are the ledger's own, of its amount column against the
    arrivals above them (`ledger_totals`), and each is named where it stands in the ledger."""
    found = _places(ledger, input_path, came_as, {line for line, _ in checks})
    for total, (line, amounts) in zip(tally.totals, checks):
        total.checks, total.line = amounts, found.get(line)


UNIT_HINT_BELOW = 100_000  # USD: a column whose every amount is below this may be in 万美元 (a hint, not a rule)


def unit_hints(scorer: Scorer, options: Options, tally: Tally) -> list[str]:
    """A USD amount column read at unit 1 (no --unit, no unit in its header) whose every amount is
    below USD 100,000: the sheet may be in 万美元."""
    hints = []
    for key, canon in scorer.amount_columns().items():
        largest = tally.largest.get(key)
        if canon in ("paid_in_usd", "shareholder_loans_usd") and canon not in options.units and options.unit == 1 \
                and largest is not None and 0 < largest < UNIT_HINT_BELOW * 100:
            hints.append(_("every {column} amount is below USD {below}: if the sheet is in 万美元, give --unit 10k "
                           "(or name the unit in the header, as in 实际到位外资（万美元）)").format(
                column=scorer.m[canon], below=f"{UNIT_HINT_BELOW:,}"))
    return hints


MAX_UNKNOWN_NAMED = 10  # unknown sector names a summary names (the rest are counted)


def unknown_sectors_note(names: list[str]) -> str | None:
    """The sector names a batch did not know, each with the known names nearest to it (its rows'
    error cells say what `fdi sql` says of them; the suggestion is made here, once per name), sorted:
    the scorer meets them in polars' hash order, which changes from run to run."""
    from .industry import nearest_names
    from .text import quoted

    if not names:
        return None
    names = sorted(names)
    said = []
    for name in names[:MAX_UNKNOWN_NAMED]:
        near = nearest_names(name)
        said.append(_("{name} (nearest: {near})").format(name=quoted(name), near=_(", ").join(near)) if near else quoted(name))
    more = _(" and {count} more names").format(count=f"{len(names) - MAX_UNKNOWN_NAMED:,}") if len(names) > MAX_UNKNOWN_NAMED else ""
    return _("sector names not known (their rows are errors; give a known name or the 行业代码): {names}{more}").format(
        names=_("; ").join(said), more=more)


def header_units_of(src: Source, options: Options) -> tuple[Options, dict[str, str]]:
    """The units the amount columns' headers name (实际到位外资（万美元）): each such column read in
    its unit (a unit that contradicts --unit is an error); and every amount column's unit, for the summary."""
    from .io.readers import map_columns
    from .io.units import check_units, header_units

    units = header_units(src.columns, src.mapping, map_columns)  # (src.mapping gains the columns matched so)
    given = options.unit if options.unit_given or options.unit != 1 else None
    check_units(units, given, set(src.mapping), options.unit_text)
    if "amount" in units:  # a ledger's amounts: read at the header's unit
        options = dataclasses.replace(options, unit=Decimal(units["amount"].scale))
    options = dataclasses.replace(options, units={**options.units, **{c: Decimal(u.scale) for c, u in units.items()}})
    described = {}
    for canon in ("paid_in_usd", "paid_in", "shareholder_loans_usd", "reinvested_profit", "amount"):
        if canon in units:
            described[units[canon].column] = units[canon].describe()
        elif canon in src.mapping:
            currency = {"paid_in_usd": "USD", "shareholder_loans_usd": "USD", "reinvested_profit": "CNY"}.get(canon)
            unit = _(" × {scale} (--unit)").format(scale=f"{int(options.unit):,}") if options.unit != 1 else ""
            described[src.mapping[canon]] = (f"{currency}{unit}" if currency else _("its currency column's{unit}").format(unit=unit)) + \
                (_(" (or its currency column's)") if canon == "reinvested_profit" else "")
    return options, described


def ignored_columns(src: Source) -> list[str]:
    """The input's columns that mean nothing to the tool (kept in the output as they are): not one
    the scorer reads, nor one checked against it (`year` beside `年份`, a name given twice)."""
    from .frame import HIDDEN

    used = set(src.mapping.values()) | {c for cols in src.collisions.values() for c in cols}
    return [c for c in src.columns if c not in used and c not in HIDDEN]
