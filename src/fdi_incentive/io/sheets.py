"""Inputs that are not CSV text: Excel workbooks and JSON Lines (converted to a UTF-8 CSV) and
Parquet (scanned as it is)."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

from ..errors import InputError
from ..i18n import N_, _
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


def from_excel(path: Path, is_header) -> Source:
    try:
        from python_calamine import CalamineWorkbook

        book = CalamineWorkbook.from_path(str(path))

        def header_of(index: int, search: int):
            """The sheet's header (its first row, or the first of ``search`` rows that ``is_header``,
            by default one naming a year or a ledger's date and amount: a title row or two may stand
            above it) and the rows after it."""
            rows = _merged_filled(book.get_sheet_by_index(index))
            for number in range(1, search + 1):
                header = unique([_cell(v) for v in next(rows, [])])
                if is_header(map_columns(header)):
                    return header, rows, number
            return None

        # the first sheet with such a header: a workbook may open with a sheet of notes or a blank
        # one; with none, the first sheet's first row (which the error then shows)
        for index in range(len(book.sheet_names)):
            if (found := header_of(index, HEADER_SEARCH)) is not None:
                header, rows, number = found
                break
        else:
            index, number = 0, 1
            rows = _merged_filled(book.get_sheet_by_index(0))
            header = unique([_cell(v) for v in next(rows, [])])
    except Exception as exc:  # calamine raises its own error types for unreadable workbooks
        raise InputError("INPUT", str(path), _("a readable Excel workbook ({reason})").format(reason=exc)) from None
    out = temp_file(".csv")
    width = len(header)
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")  # \r\n: a cell holding \r or \n gets quoted
        writer.writerow(header)
        # the columns whose every cell is a number in the sheet (an Excel output writes them as numbers again)
        numeric, filled = [True] * width, [False] * width
        for row in rows:
            for j, v in enumerate(row[:width]):
                if v is not None and v != "":
                    filled[j] = True
                    numeric[j] = numeric[j] and type(v) in (int, float)
            cells = [v if type(v) is str else _cell(v) for v in row]  # (most cells are text already)
            writer.writerow(cells if len(cells) == width else (cells + [""] * width)[:width])
    return Source(path=out, format="csv", columns=header, mapping=map_columns(header),
                  number_columns=[c for c, n, f in zip(header, numeric, filled) if n and f],
                  conversions=(Note.of(N_("Excel sheet '{sheet}'"), sheet=book.sheet_names[index])
                               + (Note.of(N_(", header on row {row}"), row=number) if number > 1 else Note()),),
                  temp_files=[out])


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


def from_jsonl(path: Path) -> Source:
    """JSON Lines: numbers are kept as the text they were written as, so amounts stay exact.

    One pass, a line at a time (memory does not grow with the file): each record is written
    with the keys met so far, a key first met later adds a column at the end (earlier rows are
    read with it empty), and the header goes in front at the end."""
    keys: dict[str, None] = {}
    body = temp_file(".csv")
    with path.open(encoding="utf-8-sig", errors="replace") as f, body.open("w", encoding="utf-8", newline="") as b:
        writer = csv.writer(b, lineterminator="\r\n")  # \r\n: a cell holding \r or \n gets quoted
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line, parse_float=str, parse_int=str)
                if not isinstance(obj, dict):
                    raise ValueError("not an object")
                keys.update(dict.fromkeys(obj))
                cells = [_json_cell(obj.get(k)) for k in keys]
            except ValueError as exc:
                writer.writerow([f"line {n} is not a JSON object ({exc})"])
                continue
            except RecursionError:
                writer.writerow([f"line {n} is not a JSON object fdi can read (nested too deeply)"])
                continue
            writer.writerow(["", *cells])
    header = unique(list(keys))
    out = temp_file(".csv")
    try:
        with out.open("w", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\r\n").writerow([PARSE_ERROR, *header])
            with body.open(encoding="utf-8", newline="") as b:
                shutil.copyfileobj(b, f, 1 << 20)
    finally:
        body.unlink(missing_ok=True)
    return Source(path=out, format="csv", columns=[PARSE_ERROR, *header], mapping=map_columns(header),
                  conversions=(Note.of("JSON Lines"),), temp_files=[out])


def _json_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
