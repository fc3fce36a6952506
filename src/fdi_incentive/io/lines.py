"""Where a data row sits as the analyst sees it: the CSV file's line, or the sheet and the row
number Excel shows (title rows counted), rather than its place among the data rows."""

from __future__ import annotations

import codecs
import csv
import re
from pathlib import Path

from ..i18n import _
from .csvfile import after_bom

_SHEET = re.compile(r"Excel sheet '(.*)'(?:, header on row (\d+))?")  # (`Source.converted_from`, in English)


def _is_blank(record: list[str]) -> bool:
    return not any(record)


def csv_lines(path: Path, encoding: str, delimiter: str, header: list[str], rows: set[int]) -> dict[int, int]:
    """Data row (1 = the first after the header, blank rows not counted, as the batch counts them)
    -> the line of the file its record starts on. One pass, up to the last row asked for."""
    found: dict[int, int] = {}
    if not rows:
        return found
    last = max(rows)
    want = [c.strip() for c in header]
    with path.open("rb") as raw:
        if raw.read(3) == codecs.BOM_UTF8 and not codecs.lookup(encoding).name.startswith(("utf-8", "utf-16", "utf-32")):
            encoding = after_bom(encoding)  # (GBK behind a UTF-8 BOM, as `--encoding gbk` names it: read as describe read it)
    with path.open(encoding=encoding, errors="replace", newline="") as f:
        reader = csv.reader(f, delimiter=delimiter)
        start, seen_header, n = 1, False, 0
        for record in reader:
            line, start = start, reader.line_num + 1
            if not seen_header:
                seen_header = [c.strip() for c in record] == want or [c.strip() for c in record][:len(want)] == want
                continue
            if _is_blank(record):
                continue
            n += 1
            if n in rows:
                found[n] = line
                if n >= last:
                    break
    return found


def where(fmt: str, converted_from: str | None, path: Path | None, encoding: str, delimiter: str,
          header: list[str], rows: set[int]) -> dict[int, str]:
    """Data row -> "line 6" (a CSV), "sheet 'Sheet1' row 6" (an Excel sheet) or "row 4" (Parquet,
    JSON Lines: rows with no lines of their own), in the interface's language. ``path``: the CSV as
    the user gave it, or the sheet's rows as the reader wrote them, one record a row (blank ones included)."""
    sheet = _SHEET.match(converted_from or "")
    if sheet and path is not None:
        first = int(sheet.group(2) or 1)  # the header's row in the sheet
        numbers = _sheet_rows(path, rows)
        return {r: _("sheet '{sheet}' row {row}").format(sheet=sheet.group(1), row=first + numbers[r]) if r in numbers
                else _row(r) for r in rows}
    if fmt == "csv" and path is not None:
        lines = csv_lines(path, encoding, delimiter, header, rows)
        return {r: _line(lines[r]) if r in lines else _row(r) for r in rows}
    return {r: _row(r) for r in rows}


def where_all(fmt: str, converted_from: str | None, path: Path | None, encoding: str, delimiter: str,
              header: list[str], rows: list[int]) -> str:
    """Several data rows as one phrase: "lines 2, 4" of a CSV, else each row's place (`where`)."""
    if len(rows) > 1 and fmt == "csv" and path is not None and not _SHEET.match(converted_from or ""):
        lines = csv_lines(path, encoding, delimiter, header, set(rows))
        if all(r in lines for r in rows):
            return _("lines {lines}").format(lines=", ".join(str(lines[r]) for r in rows))
    found = where(fmt, converted_from, path, encoding, delimiter, header, set(rows))
    return _(", ").join(found[r] for r in rows)


def _line(n: int) -> str:
    return _("line {line}").format(line=n)


def _row(n: int) -> str:
    return _("row {row}").format(row=n)


def _sheet_rows(path: Path, rows: set[int]) -> dict[int, int]:
    """Data row -> how many sheet rows below the header it is (blank sheet rows counted, as Excel counts them)."""
    found: dict[int, int] = {}
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader, None)  # the header
        n = 0
        for k, record in enumerate(reader, start=1):
            if _is_blank(record):
                continue
            n += 1
            if n in rows:
                found[n] = k
                if len(found) == len(rows):
                    break
    return found
