"""Turn an input file into something the columnar engine can scan, and say what it holds.

`describe` is the one place that decides, for every input (the file to score, a ledger's
``--projects``): its format, its encoding (from the whole file), its delimiter, which line is
its header (title lines above it passed over), which column means what, and the shape of its
rows (project-years, a ledger's arrivals, a project list). `frames` then reads its rows as text,
a block at a time, for `batch` and `ledger` alike.

A UTF-8 CSV with commas is scanned as it is (the fast path). GBK/GB18030 is transcoded as it
is read, Excel and JSON Lines are converted, and a CSV whose rows polars cannot read as they
are (a row longer than the header, a quote inside a cell, bytes that are not UTF-8) is read
row by row into a temporary file with a per-row parse error (`row_by_row`): no row is ever
dropped.
"""

import csv
import dataclasses
import functools
import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .columns import named
from ..errors import InputError
from ..i18n import N_, _, get_language
from ..language import said_both
from ..text import quoted
from .csvfile import (AFTER_BOM, UTF8, Unreadable, Utf8Reader, check_encoding, csv_blocks, detect_encoding, encoding_label,
                      TooLong, lone_cr, physical_lines, records, too_long, well_quoted)
from .headers import (ALIASES, HEADER_TESTS, check_brackets, collisions, map_columns, names_a_header, names_a_project_list,
                      normalise_header, shape_of, shown_name, unique)
from .jsonl import from_jsonl
from .sheets import HEADER_SEARCH, from_excel, from_parquet, as_text, needs_text
from .source import PARSE_ERROR, Note, Source, temp_file

__all__ = ["ALIASES", "PARSE_ERROR", "Source", "Unreadable", "as_text", "csv_blocks", "describe", "frames", "map_columns",
           "names_a_header", "names_a_project_list", "needs_text", "normalise_header", "row_by_row", "whole_text"]


def describe(path: str | Path, *, encoding: str | None = None, role: str = "data") -> Source:
    """What kind of file this is, in a form polars can scan: format, encoding, delimiter, header,
    column mapping and shape, all decided here. ``role``: "data" (the file to score: project-years
    or a ledger) or "projects" (a ledger's project file)."""
    path = Path(path)
    if not path.is_file():
        raise InputError("INPUT" if role == "data" else "--projects", str(path),
                         _("an existing CSV, Excel, Parquet or JSON Lines file"))
    suffix = path.suffix.lower()
    is_header = HEADER_TESTS[role]
    if suffix in (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"):
        src = from_excel(path, is_header)
    elif suffix == ".parquet":
        src = from_parquet(path)
    elif suffix in (".jsonl", ".ndjson"):
        src = from_jsonl(path)
    elif suffix in (".csv", ".txt", ".tsv"):
        src = _from_csv(path, encoding, is_header)
    else:
        raise InputError("INPUT", str(path), _("a .csv, .tsv, .xlsx, .parquet or .jsonl file"))
    try:
        check_brackets(src.columns)
        src.shape = shape_of(role, src.mapping, src.columns, str(path))
    except InputError:
        src.cleanup()
        raise
    src.collisions = collisions([c for c in src.columns if c != PARSE_ERROR])
    return src


def _sniff_delimiter(line: str) -> str:
    counts = {d: line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _first_record(lines: list[str], delimiter: str, newline: str) -> list[str]:
    try:
        return next(records(iter(lines), delimiter, newline), [])
    except csv.Error:  # (a line end the reader cannot place: not a header)
        return []


def _from_csv(path: Path, encoding: str | None, is_header) -> Source:
    strays, sure = 0, True
    if encoding is not None:
        enc = check_encoding(encoding, path)
    else:
        enc, strays, sure = detect_encoding(path)
    with path.open(encoding=enc, errors="replace", newline="\n") as f:
        sample = f.read(1 << 16)
    # a file with CRs and no LF at all ends its lines in CR (as old Mac programs save them): read row by row
    newline = "\r" if "\r" in sample and "\n" not in sample else "\n"
    text = io.StringIO(sample.lstrip("\ufeff"), newline=newline)
    lines = list(physical_lines(text, newline))
    if sample and len(sample) == 1 << 16 and len(lines) > 1:
        lines.pop()  # (whole lines: the sample may end inside one)
    # the header: the first line, or the first of the first HEADER_SEARCH lines that `is_header`
    # (a report's name, who filed it may stand above it; a title is taken to be one line)
    tsv = path.suffix.lower() == ".tsv"
    for above in range(min(HEADER_SEARCH, max(len(lines), 1))):
        delimiter = "\t" if tsv else _sniff_delimiter(lines[above] if lines else "")
        header = unique(_first_record(lines[above:], delimiter, newline))
        if is_header(map_columns(header)):
            break
    else:
        above, delimiter = 0, "\t" if tsv else _sniff_delimiter(lines[0] if lines else "")
        header = unique(_first_record(lines, delimiter, newline))
        if not any(_first_record(lines, delimiter, newline)):
            raise InputError("INPUT", str(path), _("a CSV file whose first line is a header naming the columns"))
    src = Source(path=path, format="csv", columns=header, mapping=map_columns(header), encoding=enc,
                 delimiter=delimiter, conversions=() if enc in UTF8 else (_transcoded(enc),), skip=above,
                 encoding_sure=sure, newline=newline)
    header_line = lines[above].encode("utf-8") if lines else b""
    if strays or newline == "\r" or (b'"' in header_line and not well_quoted(header_line, delimiter.encode())):
        return row_by_row(src)  # (bytes that are not UTF-8, a quote inside a header cell: polars would misread them)
    # polars reads UTF-8 (any delimiter): another encoding is transcoded as the file is read, a block
    # at a time (`csv_blocks`), keeping the user's values as they were
    return src if above == 0 else _lines_passed_over(src, above)


def _transcoded(encoding: str) -> Note:
    """"transcoded from gbk", and where a UTF-8 BOM stood in front of the text, that it was passed over."""
    note = Note.of(N_("transcoded from {encoding}"), encoding=encoding_label(encoding, bom=False))
    return note + Note.of(N_(" (a UTF-8 BOM in front of it passed over)")) if encoding.endswith(AFTER_BOM) else note


def _lines_passed_over(src: Source, above: int) -> Source:
    """A UTF-8 CSV from its header on: the ``above`` lines before it are left out of a copy (in
    UTF-8, whatever the file's encoding)."""
    out = temp_file(".csv")
    try:
        _copy_from_line(src, above, out)
    except Unreadable:  # (bytes that are not in the file's encoding: each such row in error)
        out.unlink(missing_ok=True)
        return row_by_row(src)
    note = Note.of(N_("header on line {line}, 1 title line above it passed over") if above == 1 else
                   N_("header on line {line}, {above} title lines above it passed over"), line=above + 1, above=above)
    return dataclasses.replace(src, path=out, encoding="utf-8", temp_files=[*src.temp_files, out], skip=0, lines_above=above, origin=src.path,
                               conversions=(*src.conversions, note) if src.conversions else (Note.of(N_("CSV, ")) + note,))


def _copy_from_line(src: Source, above: int, out: Path) -> None:
    with src.path.open("rb") as raw, out.open("wb") as f_out:
        f_in = raw if src.encoding in UTF8 else Utf8Reader(raw, src.encoding)
        head = f_in.read(1 << 20)
        if head.startswith(b"\xef\xbb\xbf"):
            head = head[3:]
        start = 0
        for _ in range(above):  # (the lines are in the first MiB: the sample they were found in is smaller)
            start = head.index(b"\n", start) + 1
        f_out.write(head[start:])
        shutil.copyfileobj(f_in, f_out, 1 << 20)


FIELDS_DIFFER = N_("the row has {fields} fields, the header has {width}")
STRAY_BYTES = N_("bytes that are not {encoding} in {columns} (shown as U+FFFD)")


def row_by_row(src: Source) -> Source:
    """Rewrite a CSV row by row as clean UTF-8, as Python's CSV reader reads it (a quote inside a
    cell a literal, a lone CR a character of its cell): short rows padded, long rows cut, and cells
    holding bytes that are not UTF-8 (shown as U+FFFD), each such row with its parse error."""
    if not src.encoding_sure:  # (UTF-8 from the file's start; polars found it not UTF-8 further on: decide from all of it)
        encoding, _, _ = detect_encoding(src.path, whole=True)
        src = dataclasses.replace(src, encoding=encoding if encoding not in UTF8 else src.encoding, encoding_sure=True)
    out = temp_file(".csv")
    width = len(src.columns)
    utf8 = src.encoding in UTF8
    strays = ragged = 0
    label = "UTF-8" if utf8 else encoding_label(src.encoding, bom=False)
    with src.path.open(encoding=src.encoding, errors="surrogateescape", newline=src.newline) as f_in, \
            out.open("w", encoding="utf-8", newline="") as f_out:
        lines = physical_lines(f_in, src.newline)
        for _ in range(src.skip):
            next(lines, None)
        reader = records(lines, src.delimiter, src.newline)
        writer = csv.writer(f_out, lineterminator="\r\n")  # \r\n: a cell holding \r or \n gets quoted
        try:
            next(reader, None)
        except TooLong:
            raise too_long(src.origin or src.path, src.skip + src.lines_above + 1, False) from None
        writer.writerow([*src.columns, PARSE_ERROR])
        for row in _until_too_long(reader, src):
            if not any(row):
                continue  # a blank line, or a row of empty cells, holds no project (the fast path skips it too)
            problems = []
            if len(row) != width:
                problems.append(said_both(src.shown, get_language(), FIELDS_DIFFER, fields=len(row), width=width))
                row = (row + [""] * width)[:width]
                ragged += 1
            if any(_has_strays(c) for c in row):
                bad = [name for name, c in zip(src.columns, row) if _has_strays(c)]
                row = [_STRAYS.sub("\ufffd", c) for c in row]
                strays += 1
                problems.append(said_both(src.shown, get_language(), STRAY_BYTES, encoding=label, columns=", ".join(bad)))
            writer.writerow([*row, "; ".join(problems)])
    found = [Note.of(N_("{count} row(s) with more or fewer fields than the header"), count=f"{ragged:,}")] if ragged else []
    if strays:
        found.append(Note.of(N_("{count} row(s) holding bytes that are not {encoding} replaced by U+FFFD"),
                             count=f"{strays:,}", encoding=label))
    note = (Note.of(N_("read row by row as UTF-8")) if utf8 else
            _transcoded(src.encoding) + Note.of(N_(", read row by row")))
    if src.newline == "\r":
        note += Note.of(N_(", its lines ending in CR"))
    if found:
        note += Note.of(N_(": ")) + functools.reduce(lambda a, b: a + Note.of(N_(", ")) + b, found) + Note.of(N_(", each with its error"))
    return dataclasses.replace(src, path=out, columns=[*src.columns, PARSE_ERROR], encoding="utf-8", delimiter=",",
                               skip=0, newline="\n", conversions=(*src.conversions, note),
                               temp_files=[*src.temp_files, out], note=note)


def _until_too_long(reader: Iterator[list[str]], src: Source) -> Iterator[list[str]]:
    """The rows of `records`, a record past the limit refused naming its line in the user's file."""
    try:
        yield from reader
    except TooLong as exc:
        raise too_long(src.origin or src.path, src.skip + src.lines_above + exc.line, False) from None


_STRAYS = re.compile("[\udc80-\udcff]+")


def _has_strays(cell: str) -> bool:
    return not cell.isascii() and _STRAYS.search(cell) is not None


# --- reading the rows -----------------------------------------------------------------------------

def frames(src: Source, *, block: int | None = None, rows: int = 100_000, text: bool = False,
           at_least_one: bool = False) -> Iterator[tuple[Any, bytes | None, float]]:
    """The rows of a CSV or Parquet Source as polars DataFrames, in order, a bounded number at a
    time: a CSV's cells as text, a block of about ``block`` bytes of whole records at a time
    (`csv_blocks`; by default its size), each with the block itself; a Parquet file ``rows`` rows at a time, its
    types kept (``text``: as text), with None. Each with the share of the file read. Raises
    Unreadable where polars cannot read a block of a CSV as it is (then read `row_by_row`), and
    InputError where columns that name the same thing disagree (`check_collisions`).
    ``at_least_one``: an empty frame for a file of no rows."""
    import polars as pl

    seen = 0
    if src.format == "parquet":
        def unreadable(exc: Exception) -> InputError:  # (a file damaged past its header is found only here)
            return InputError("INPUT", str(src.path), _("a readable Parquet file ({reason})").format(reason=str(exc).splitlines()[0]))

        lf = pl.scan_parquet(src.path)
        try:
            total = lf.select(pl.len()).collect().item()
            schema = lf.collect_schema()
        except pl.exceptions.PolarsError as exc:
            raise unreadable(exc) from None
        odd = [c for c, dtype in schema.items() if needs_text(dtype)]
        for start in range(0, max(total, 1 if at_least_one else 0), rows):
            try:
                df = lf.slice(start, rows).collect()
            except pl.exceptions.PolarsError as exc:
                raise unreadable(exc) from None
            df = df.with_columns(as_text(df[c]) for c in odd)
            if text:
                df = df.with_columns(pl.all().cast(pl.String))
            check_collisions(src, df, seen)
            seen += df.height
            yield df, None, min(1.0, (start + rows) / max(total, 1))
        return
    size = src.path.stat().st_size or 1
    sized = {"block": block} if block is not None else {}
    for chunk, done in csv_blocks(src.path, encoding=src.encoding, delimiter=src.delimiter, lines_above=src.lines_above,
                                  name=src.origin, **sized):
        if lone_cr(chunk, src.delimiter.encode()):  # (polars would drop it where it ends a cell or begins a line)
            raise Unreadable("a CR that does not end a line")
        try:
            df = pl.read_csv(chunk, has_header=True, new_columns=src.columns, infer_schema=False, separator=src.delimiter,
                             quote_char='"', encoding="utf8", raise_if_empty=False)
        except pl.exceptions.ComputeError as exc:  # a row longer than the header, bytes that are not UTF-8
            raise Unreadable(str(exc).splitlines()[0]) from None
        check_collisions(src, df, seen)
        seen += df.height
        yield df, chunk, done / size
    if not seen and at_least_one:
        yield pl.DataFrame({c: pl.Series([], dtype=pl.String) for c in src.columns}), None, 1.0


def check_collisions(src: Source, df, before: int) -> None:
    """Columns that name the same thing (`year, 年份, Year`) must hold the same value in every
    row (spaces around it aside): the first row where they do not stops the run, naming them;
    so does a row whose currency contradicts its amount's header unit (`units.check_row_currencies`)."""
    import polars as pl

    from .units import check_row_currencies

    check_row_currencies(src.mapping, df, before)

    for canon, cols in src.collisions.items():
        cells = [named(c).cast(pl.String).str.strip_chars().fill_null("") for c in cols]
        if src.blank_is_absent:  # (a JSON line without one of the keys: only the values given must agree)
            differ = pl.any_horizontal((a != b) & (a != "") & (b != "") for i, a in enumerate(cells) for b in cells[i + 1:])
        else:
            differ = pl.any_horizontal(a != cells[0] for a in cells[1:])
        bad = df.with_row_index("__n", offset=before + 1).filter(differ).head(1)
        if bad.height:
            shown = [shown_name(c, src.columns) for c in cols]
            values = _(", ").join(_("{column} empty").format(column=s) if _blank(bad[c][0]) else f"{s} = {quoted(bad[c][0])}"
                                  for c, s in zip(cols, shown))
            raise InputError("columns", ", ".join(shown), _("one column for {canon}").format(canon=canon), _(
                "{field}: {value} is not valid; expected one column for {canon}: they differ on row {row} read ({values}); "
                "remove or rename all but one").format(field="columns", value=quoted(", ".join(shown)), canon=canon,
                                                       row=bad['__n'][0], values=values))


def _blank(cell) -> bool:
    """A cell with nothing in it (a JSON line without the key, an empty or spaces-only cell)."""
    return cell is None or not str(cell).strip()


def whole_text(src: Source):
    """A file's cells as text, whole, as one DataFrame (a ledger's --projects file): read row by
    row if polars cannot read it as it is."""
    import polars as pl

    try:
        return pl.concat([df for df, _, _ in frames(src, text=True, at_least_one=True)])
    except Unreadable:
        if src.format != "csv" or src.has_parse_errors_column:
            raise InputError("INPUT", str(src.path), _("a file that can be read")) from None
    again = row_by_row(src)
    try:
        return pl.concat([df for df, _, _ in frames(again, text=True, at_least_one=True)])
    finally:
        for path in again.temp_files[len(src.temp_files):]:
            path.unlink(missing_ok=True)
