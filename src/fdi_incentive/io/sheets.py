"""Inputs that are not CSV text: Excel workbooks and JSON Lines (converted to a UTF-8 CSV) and
Parquet (scanned as it is)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

from ..errors import InputError
from ..i18n import N_, _, get_language
from ..language import said_both
from .headers import map_columns, unique
from .source import PARSE_ERROR, Note, Source, temp_file

HEADER_SEARCH = 20  # rows of a sheet or lines of a CSV looked at for its header (title rows above it)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value).removesuffix(".0") if value.is_integer() and abs(value) < 1e15 else repr(value)
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    return str(value)


# a formula cell whose value the file does not hold: its row's error (in English; said again in the summary)
FORMULA_NO_VALUE = N_("{field}: cell {cell} holds the formula {formula} without its value; open and save the workbook "
                      "in Excel, or write the value")
FORMULA_RECALC = N_("{field}: cell {cell} holds the formula {formula}, whose value the workbook says is to be calculated "
                    "again (a program wrote it, with no value it can be trusted for); open and save the workbook in "
                    "Excel, or write the value")
SHARED_NO_VALUE = N_("{field}: cell {cell} holds a formula without its value; open and save the workbook in Excel, or "
                     "write the value")
NOT_READ = N_("sheets {sheets} of the workbook also have a header and were not read (only sheet '{sheet}' was); "
              "give each its own file to score them")
SHEET = N_("'{sheet}'")
HIDDEN = N_("'{sheet}' (hidden)")


def from_excel(path: Path, is_header) -> Source:
    """The first visible sheet whose header `is_header` (hidden sheets are passed over), as a UTF-8
    CSV; a row holding a formula whose value the file does not hold carries that as its error
    (`workbook`), and the note names the other sheets that have a header too."""
    from .workbook import Workbook

    checked = Workbook(path)  # (a zip bomb is refused here, before calamine inflates anything)
    try:
        return _from_excel(path, is_header, checked)
    finally:
        checked.close()


def _from_excel(path: Path, is_header, checked) -> Source:
    try:
        from python_calamine import CalamineWorkbook, SheetVisibleEnum

        book = CalamineWorkbook.from_path(str(path))
        names = list(book.sheet_names)
        shown = [i for i, m in enumerate(book.sheets_metadata) if m.visible == SheetVisibleEnum.Visible] or [0]
    except Exception as exc:  # calamine raises its own error types for unreadable workbooks
        raise _unreadable(path, exc) from None

    def sheet(index: int):
        facts = checked.scan(names[index])  # (Excel's limits, before its cells are read)
        try:
            return book.get_sheet_by_index(index), facts
        except Exception as exc:
            raise _unreadable(path, exc) from None

    def header_of(index: int, search: int):
        """The sheet's header (the first of ``search`` rows that ``is_header``, by default one
        naming a year or a ledger's date and amount: a title row or two may stand above it), the
        rows after it, its row number, the sheet's first column and its formulas; or None."""
        s, facts = sheet(index)
        rows = _merged_filled(s)
        for number in range(1, search + 1):
            header = unique([_cell(v) for v in next(rows, [])])
            if is_header(map_columns(header)):
                return header, rows, number, (s.start[1] if s.start else 0), facts
        return None

    # the first visible sheet with such a header: a workbook may open with a sheet of notes or a blank
    # one; with none, the first visible sheet's first row (which the error then shows)
    looked = []
    for index in shown:
        looked.append(index)
        if (found := header_of(index, HEADER_SEARCH)) is not None:
            break
    else:
        index = shown[0]
        s, facts = sheet(index)
        rows = _merged_filled(s)
        found = unique([_cell(v) for v in next(rows, [])]), rows, 1, (s.start[1] if s.start else 0), facts
    header, rows, number, col0, facts = found
    mapping = map_columns(header)
    out, numeric_columns, errors, said = _write_rows(header, rows, number, col0, facts, mapping)
    del rows, found
    # the other sheets with a header (hidden ones too): named, never read without a word
    others = [i for i in range(len(names)) if i not in looked and header_of(i, HEADER_SEARCH) is not None]
    note = None
    if others:
        listed = _(", ").join(_(SHEET if i in shown else HIDDEN).format(sheet=names[i]) for i in others)
        note = Note.of(NOT_READ, sheets=listed, sheet=names[index])
    columns = [*header, PARSE_ERROR] if errors else header
    return Source(path=out, format="csv", columns=columns, mapping=mapping, number_columns=numeric_columns,
                  conversions=(Note.of(N_("Excel sheet '{sheet}'"), sheet=names[index])
                               + (Note.of(N_(", header on row {row}"), row=number) if number > 1 else Note()),),
                  temp_files=[out], note=note, shown=said)


def _unreadable(path: Path, exc: Exception) -> InputError:
    return InputError("INPUT", str(path), _("a readable Excel workbook ({reason})").format(reason=exc))


def _write_rows(header: list[str], rows, number: int, col0: int, facts, mapping: dict[str, str]):
    """The sheet's rows below its header into a UTF-8 CSV: its path, the columns whose every cell
    is a number, whether a row carries an error, and those errors as the interface's language says them.

    A formula whose value the file does not hold: in a column fdi reads, its row's error naming
    the cell (the cell left empty); in another column, the formula's text in the cell."""
    out = temp_file(".csv")
    width = len(header)
    canon = {name: c for c, name in mapping.items()}
    lang = get_language()
    shown: dict[str, str] = {}
    # (row in the file, column index in the header) -> the formula, for the rows below the header
    formulas = {(r, c - 1 - col0): f for (r, c), f in facts.formulas.items() if 0 <= c - 1 - col0 < width}
    by_row: dict[int, list] = {}
    for (r, j), f in sorted(formulas.items()):
        by_row.setdefault(r, []).append((j, f))
    errors = bool(by_row)
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")  # \r\n: a cell holding \r or \n gets quoted
        writer.writerow([*header, PARSE_ERROR] if errors else header)
        # the columns whose every cell is a number in the sheet (an Excel output writes them as numbers again)
        numeric, filled = [True] * width, [False] * width
        for k, row in enumerate(rows, start=number + 1):  # (k: the row's number in the sheet, 1 the first)
            cells = [v if type(v) is str else _cell(v) for v in row]  # (most cells are text already)
            cells = cells if len(cells) == width else (cells + [""] * width)[:width]
            problems = []
            for j, formula in by_row.get(k, ()):
                if header[j] in canon:
                    problems.append(said_both(shown, lang, _formula_message(formula), field=canon[header[j]],
                                              cell=f"{_letters(col0 + j + 1)}{k}", formula=_formula_text(formula)))
                    cells[j] = ""
                elif formula.text is not None:
                    cells[j] = "=" + formula.text
            for j in range(width):
                if cells[j] != "":  # (a formula's text in it, where the sheet holds no value: text)
                    filled[j] = True
                    numeric[j] = numeric[j] and j < len(row) and type(row[j]) in (int, float)
            writer.writerow([*cells, "; ".join(problems)] if errors else cells)
    return out, [c for c, n, fl in zip(header, numeric, filled) if n and fl], errors, shown


def _formula_message(formula) -> str:
    if formula.text is None:
        return SHARED_NO_VALUE
    return FORMULA_RECALC if formula.recalc else FORMULA_NO_VALUE


def _formula_text(formula) -> str:
    text = "=" + (formula.text or "")
    return text if len(text) <= 80 else text[:79] + "\u2026"


def _letters(column: int) -> str:
    """A column's letters as Excel shows them: 1 -> A, 28 -> AB."""
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _merged_filled(sheet) -> Iterator[list]:
    """A sheet's rows as the sheet shows them: a merged cell's value in every cell it spans (a
    project id merged down the rows of its arrivals applies to each of them)."""
    rows = sheet.iter_rows()
    merged = sheet.merged_cell_ranges or []
    if not merged:
        yield from rows
        return
    col0 = sheet.start[1] if sheet.start else 0  # (rows are given from the sheet's first row, cells from its first used column)
    covering: dict[int, list[tuple[int, int, int]]] = {}  # row -> (first row, first column, last column) of each merge over it
    for (r0, c0), (r1, c1) in merged:
        for r in range(r0, r1 + 1):
            covering.setdefault(r, []).append((r0, c0 - col0, c1 - col0))
    values: dict[tuple[int, int], object] = {}
    for r, row in enumerate(rows):
        if r in covering:
            row = list(row)
            for r0, c0, c1 in covering[r]:
                if not 0 <= c0 < len(row):
                    continue
                if r == r0:
                    values[(r0, c0)] = row[c0]
                row[c0:c1 + 1] = [values.get((r0, c0))] * (min(c1 + 1, len(row)) - c0)
        yield row


def needs_text(dtype) -> bool:
    """A Parquet column type polars cannot turn into text itself (lists, arrays, structs, bytes, durations)."""
    import polars as pl

    return dtype.is_nested() or dtype in (pl.Binary, pl.Object) or isinstance(dtype, pl.Duration)


def as_text(series):
    """Such a column as text, a value at a time: lists and structs as JSON, bytes as UTF-8 (else hex)."""
    import polars as pl

    def text(value: object) -> str | None:
        if value is None:
            return None
        if isinstance(value, pl.Series):
            value = value.to_list()
        if isinstance(value, (list, tuple, dict)):
            return json.dumps(value, ensure_ascii=False, default=str)
        if isinstance(value, bytes):
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                return value.hex()
        return str(value)

    return pl.Series(series.name, [text(v) for v in series.to_list()], dtype=pl.String)


def from_parquet(path: Path) -> Source:
    import polars as pl

    try:
        cols = pl.read_parquet_schema(path).names()
    except Exception as exc:  # polars raises its own error types for unreadable files
        raise InputError("INPUT", str(path), _("a readable Parquet file ({reason})").format(reason=str(exc).splitlines()[0])) from None
    return Source(path=path, format="parquet", columns=cols, mapping=map_columns(cols))
