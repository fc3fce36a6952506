"""Writing results: the format follows the output's extension; files appear whole or not at all."""

import codecs
import io
import itertools
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .columns import named
from ..errors import InputError
from ..i18n import _
from .outputs import (DISK_FULL, atomic_output, check_outputs, check_target, error_number,  # noqa: F401 (callers import them from here too)
                      is_node, same_file)

OUTPUT_FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}
EXCEL_MAX_ROWS = 1_048_576
EXCEL_OPTIONS = {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
EXCEL_MAX_CHARS = 32_767  # a cell's text, in UTF-16 units
SHEET = "results"
CSV_ENCODINGS = ("utf-8", "utf-8-sig", "gbk")  # --output-encoding
# how a column of numbers is shown in Excel (its cells are numbers where exact, else text)
NUMBER_FORMATS = {
    "money": "#,##0.00",                 # a payout, a base in USD: to the fen or cent
    "amount": "#,##0.00##########",      # a base or gross in CNY, which may have more decimals: all shown
    "rate": "0.00####%",                 # a tier's rate, 0.04 shown as 4.00%
    "fx": "0.0000####",                  # CNY per unit
    "year": "0",
    "count": "#,##0",
    "number": None,                      # a number of the input's own (a typed Parquet column): as Excel shows it
}
WIDTH_ROWS = 100_000  # rows a column's width is measured on
COLUMN_MAX_WIDTH = 50  # characters: a long reason wraps no further than this
EXCEL_DIGITS = 15  # significant digits a double holds exactly as a decimal: more, and the cell stays text
# an .xlsx file's time (docProps/core.xml's created and modified): fixed, so that the same input gives the
# same bytes; 1980-01-01, the date the archive's parts carry (xlsxwriter's, and zipfile's for the sheet)
WORKBOOK_TIME = (1980, 1, 1, 0, 0, 0)


def output_format(path: Path) -> str:
    """The format an output's extension names; a character device or a FIFO without one (/dev/null)
    takes CSV, as standard output does."""
    fmt = OUTPUT_FORMATS.get(path.suffix.lower())
    if fmt is None and is_node(path):
        return "csv"
    if fmt is None:
        raise InputError("-o", str(path), _("a file ending in .csv, .xlsx, .parquet or .jsonl"))
    return fmt


@contextmanager
def writing(path: Path, option: str = "-o") -> Iterator[None]:
    """A write that fails for want of room (in Python, or in polars, whose error is a
    ComputeError naming the OS error) is an error of the output ``path``, in one line."""
    import polars as pl

    try:
        yield
    except (OSError, pl.exceptions.PolarsError) as exc:
        code = error_number(exc)
        if code not in DISK_FULL:
            raise
        raise InputError(option, str(path), _("a file that can be written ({reason})").format(reason=os.strerror(code))) from None


PARQUET_ZSTD_LEVEL = 1  # 1M rows in 0.86 s instead of 1.17 s at polars' default level, and no larger


class BatchWriter:
    """Writes scored batches, in order, to one file in the output's format.

    CSV and JSON Lines are appended batch by batch; Parquet batches given all at once
    (`write_all`) are streamed into the Parquet file as they come, and batches given one at a
    time are kept as Arrow IPC files in ``work`` and streamed into one Parquet file at the end;
    an Excel sheet's rows are kept as XML in ``work`` and put into the workbook at the end
    (`SheetRows`).
    """

    def __init__(self, path: Path, fmt: str, work: Path, columns: list[str], header: list[str] | None = None,
                 name: Path | None = None, encoding: str = "utf-8", numbers: dict[str, str] | None = None,
                 types: dict | None = None):
        self.path, self.fmt, self.work, self.columns = path, fmt, work, columns
        self.header = header or columns  # the names as the header shows them (neutralised for CSV and Excel)
        self.name = name or path  # the output as the user named it (``path`` may be a temporary file)
        self.encoding = encoding  # a CSV's: utf-8, utf-8-sig (a BOM first, for Excel) or gbk
        self.numbers = numbers or {}  # an Excel sheet's columns of numbers: name -> a kind of NUMBER_FORMATS
        self.types = types or {}  # a Parquet file's typed columns: name -> polars type (see `_typed`)
        self.rows = 0
        self._parts: list[Path] = []
        self._file = None
        self._xml = None  # an Excel sheet's rows as XML (see `SheetRows`)
        self._started = False  # header written

    def __enter__(self) -> "BatchWriter":
        with writing(self.name):
            self._start()
        return self

    def _start(self) -> None:
        if self.fmt in ("csv", "jsonl"):
            self._file = self.path.open("wb")
        if self.fmt == "csv":
            import polars as pl

            from ..scaled import csv_field

            if self.encoding == "utf-8-sig":
                self._file.write(codecs.BOM_UTF8)
            # the header (written here: neutralised names may coincide, which a DataFrame's would not)
            line = ",".join(csv_field(name) for name in self.header) + "\n"
            try:
                self._file.write(line.encode("gbk" if self.encoding == "gbk" else "utf-8"))
            except UnicodeEncodeError:
                raise gbk_refusal(None, 0, self.header) from None
            self._started = True

    def _write_csv(self, df, header: bool, quote_style: str) -> None:
        """Rows as CSV in the output's encoding: UTF-8 as polars writes it, or those bytes in GBK
        (the record copied as it stands included), refused where a value has no GBK form."""
        if self.encoding != "gbk":
            df.write_csv(self._file, include_header=header, quote_style=quote_style)
            return
        buffer = io.BytesIO()
        df.write_csv(buffer, include_header=header, quote_style=quote_style)
        text = buffer.getvalue().decode("utf-8")
        try:
            self._file.write(text.encode("gbk"))
        except UnicodeEncodeError:
            raise gbk_refusal(df, self.rows, self.columns) from None

    def write(self, df, csv_ready: bool = False) -> None:
        """Append a batch with the columns given at the start (``csv_ready``: CSV text already,
        see `scored.Scored`)."""
        with writing(self.name):
            self._write(df, csv_ready)

    def _write(self, df, csv_ready: bool) -> None:
        if self.fmt == "csv":
            self._write_csv(df, False, "never" if csv_ready else "necessary")
        elif self.fmt == "jsonl":
            df.write_ndjson(self._file)
        elif self.fmt == "parquet":
            part = self.work / f"part-{len(self._parts):06d}.arrow"
            self._typed(df).write_ipc(part)
            self._parts.append(part)
        else:
            self._write_xlsx(df)
        self.rows += len(df)
        self._started = True

    def write_all(self, batches: Iterator[tuple]) -> None:
        """Write every batch of ``batches`` (each a DataFrame and its ``csv_ready``, as `write` takes
        them), in order. Parquet goes straight into one file: polars pulls the batches as it
        writes (an IO source), instead of each being written to an IPC file and read back (1M
        rows: ~0.7 s less)."""
        if self.fmt != "parquet":
            for df, csv_ready in batches:
                self.write(df, csv_ready=csv_ready)
            return
        from polars.io.plugins import register_io_source

        first = next(batches, None)
        if first is None:
            return

        pulled = []

        def source(with_columns, predicate, n_rows, batch_size):
            if pulled:  # (the batches can be given once)
                raise RuntimeError("a Parquet sink asked for the batches twice")
            pulled.append(True)
            for df, _ in itertools.chain([first], batches):
                self.rows += len(df)
                self._started = True
                df = self._typed(df)
                yield df if with_columns is None else df.select(with_columns)

        schema = {name: self.types.get(name, dtype) for name, dtype in first[0].schema.items()}
        with writing(self.name):
            register_io_source(io_source=source, schema=schema).sink_parquet(
                self.path, compression="zstd", compression_level=PARQUET_ZSTD_LEVEL)

    def _typed(self, df):
        """A batch for Parquet: the columns named in ``types`` cast to their type, from their text or
        a decimal of as many decimals or fewer. Exactly: polars would round a text with more decimals
        than the type's scale, so such a text (or a decimal of a finer scale), which the scorer never
        makes, stops the write rather than being rounded; so does a value too large for the type."""
        import polars as pl

        cast = {c: t for c, t in self.types.items() if c in df.columns and df.schema[c] != t}
        if any(isinstance(df.schema[c], pl.Decimal) and df.schema[c].scale > t.scale for c, t in cast.items()
               if isinstance(t, pl.Decimal)):
            raise AssertionError("a Parquet column's decimals are finer than its type holds")
        decimals = [named(c).str.contains(rf"\.[0-9]{{{t.scale}}}0*[1-9][0-9]*$").any() for c, t in cast.items()
                    if isinstance(t, pl.Decimal) and df.schema[c] == pl.String]
        if decimals and any(df.select(decimals).row(0)):
            raise AssertionError("a Parquet column's decimal text has more decimals than its type holds")
        return df.with_columns(named(c).cast(t, strict=True) for c, t in cast.items()) if cast else df

    def _write_xlsx(self, df) -> None:
        import polars as pl

        if self.rows + len(df) >= EXCEL_MAX_ROWS:
            raise InputError("-o", str(self.name), _("at most {rows} rows in an Excel sheet; write .csv or .parquet").format(
                rows=f"{EXCEL_MAX_ROWS - 1:,}"))
        if not self._started:
            kinds = {j: self.numbers[c] for j, c in enumerate(df.columns) if c in self.numbers}
            # (a column of the input's that has numbers of its own, such as a typed Parquet column, keeps them)
            kinds |= {j: "number" for j, t in enumerate(df.dtypes) if t.is_numeric() and j not in kinds}
            self._xml = SheetRows(self.work / "sheet-rows.xml", len(df.columns), kinds)
            self._xml.write(pl.DataFrame([pl.Series(self.header, dtype=pl.String)]).transpose(), 0)
        # (the batch writes every cell as text or true/false; a column of another type is written as its text)
        self._xml.write(df.with_columns(named(c).cast(pl.String) for c, t in df.schema.items()
                                        if t not in (pl.String, pl.Boolean, pl.Null)), self.rows + 1)

    @property
    def text_numbers(self) -> int:
        """Cells of an Excel sheet's number columns kept as text: a double would not hold them exactly."""
        return self._xml.text_numbers if self._xml is not None else 0

    def __exit__(self, kind, value, traceback) -> None:
        with writing(self.name):
            self._finish(kind)

    def _finish(self, kind) -> None:
        if self._file is not None:
            self._file.close()
        if self._xml is not None:
            self._xml.close()
            if kind is None:
                self._xml.workbook(self.path, self.work)
        if kind is None and self._parts:
            import polars as pl

            pl.scan_ipc(self._parts).sink_parquet(self.path, compression="zstd", compression_level=PARQUET_ZSTD_LEVEL)


class SheetRows:
    """An Excel sheet's rows written as XML by polars, a batch at a time: the cells xlsxwriter writes
    in its constant-memory mode (inline strings, booleans), byte for byte, at column speed
    instead of a cell at a time (a test holds the two to the same bytes). `workbook` then
    takes every other part of the file from xlsxwriter itself.

    Text is escaped as xlsxwriter escapes it (_xHHHH_ for control characters, & < >, leading
    or trailing space kept), cut at Excel's 32,767 UTF-16 units; an empty cell is left out.

    ``kinds`` (column index -> a kind of NUMBER_FORMATS): columns of numbers, written as number
    cells with the kind's format where the decimal text has at most 15 significant digits (a
    double then reads back as exactly that decimal), else as text (counted in `text_numbers`).
    The header row is frozen, an autofilter spans the sheet, columns are as wide as their text.
    """

    CONTROL = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20))] + ["\ufffe", "\uffff"]

    def __init__(self, path: Path, width: int, kinds: dict[int, str] | None = None):
        self.path, self.width, self.rows = path, width, 0
        self.kinds = kinds or {}
        # a format's style index, as xlsxwriter gives them: in the order of the first column of each (see `workbook`)
        formatted = [self.kinds[j] for j in sorted(self.kinds) if NUMBER_FORMATS[self.kinds[j]]]
        self.styles = {kind: i for i, kind in enumerate(dict.fromkeys(formatted), start=1)}
        self.text_numbers = 0
        self.height = 0  # sheet rows, the header's included
        self.widths = [0] * width  # in characters, a CJK character counted as two
        self._file = path.open("wb")

    @staticmethod
    def letter(col: int) -> str:
        name = ""
        col += 1
        while col:
            col, rest = divmod(col - 1, 26)
            name = chr(65 + rest) + name
        return name

    def write(self, df, first: int) -> None:
        """The rows of ``df`` as sheet rows ``first``, ``first`` + 1, ... (0 = the header)."""
        self.height = max(self.height, first + len(df))  # (rows of empty cells too: the autofilter spans them)
        for start in range(0, len(df), 20_000):  # (the XML of a slice at a time: memory stays small)
            self._write(df.slice(start, 20_000), first + start)

    def _write(self, df, first: int) -> None:
        import polars as pl

        number = "__row"  # the sheet's row number (a name no column of this slice has)
        while number in df.columns:
            number += "_"
        texts = [c for c, t in zip(df.columns, df.dtypes) if t == pl.String]
        # which text columns of this slice need escaping, or keep a leading or trailing space
        flags = df.select(
            [named(c).str.contains_any(["&", "<", ">", "_x", "_X", *self.CONTROL]).any().alias(f"e{i}") for i, c in enumerate(texts)]
            + [named(c).str.contains(r"^\s|\s$").any().alias(f"p{i}") for i, c in enumerate(texts)]
            + [(named(c).str.len_chars() > EXCEL_MAX_CHARS // 2).any().alias(f"l{i}") for i, c in enumerate(texts)]
        ).row(0, named=True) if texts else {}
        # columns as wide as their widest text in the first rows (a character of three UTF-8 bytes, CJK, counts two)
        if texts and first < WIDTH_ROWS:
            wide = df.select(((named(c).str.len_bytes() + named(c).str.len_chars()) // 2).max().alias(c) for c in texts).row(0)
            for c, w in zip(texts, wide):
                j = df.columns.index(c)
                self.widths[j] = max(self.widths[j], w or 0)
        long = [c for i, c in enumerate(texts) if flags[f"l{i}"]]
        if long:  # a text past Excel's limit is cut to it, as xlsxwriter cuts it (a rare cell: in Python)
            df = df.with_columns(named(c).map_elements(_excel_text, return_dtype=pl.String) for c in long)
        row = pl.col(number)
        cells, inexact = [], []
        for j, (name, dtype) in enumerate(zip(df.columns, df.dtypes)):
            ref = pl.lit(f'<c r="{self.letter(j)}')
            value = named(name)
            if dtype == pl.Boolean:
                cells.append(pl.when(value.is_not_null()).then(
                    pl.concat_str([ref, row, pl.lit('" t="b"><v>'), value.cast(pl.UInt8).cast(pl.String), pl.lit("</v></c>")])))
                continue
            if dtype != pl.String:  # (nulls only)
                continue
            i = texts.index(name)
            style = self.styles.get(self.kinds.get(j, ""))  # (text in a column with a format carries it too, as in xlsxwriter)
            if j in self.kinds and first > 0:
                decimal, exact = self._exact(value)
                inexact.append((decimal & ~exact).sum())
                as_number = pl.concat_str([ref, row, pl.lit(f'" s="{style}"><v>' if style else '"><v>'), _plain(value),
                                           pl.lit("</v></c>")])
                cells.append(pl.when(value.is_not_null() & (value != "") & exact).then(as_number)
                             .otherwise(self._text_cell(value, flags, i, ref, row, style)))
                continue
            cells.append(self._text_cell(value, flags, i, ref, row, style))
        if inexact:
            self.text_numbers += sum(df.select(inexact).row(0))
        xml = pl.concat_str(cells, ignore_nulls=True) if cells else pl.lit("")
        # (a row without a cell is left out, as xlsxwriter leaves it out)
        rows = df.lazy().with_columns((pl.int_range(pl.len(), dtype=pl.Int64) + first + 1).cast(pl.String).alias(number)) \
            .select(row.alias("row"), xml.alias("xml")).filter(pl.col("xml") != "").collect()
        if len(rows):
            rows.select(pl.concat_str([pl.lit('<row r="'), pl.col("row"), pl.lit('">'), pl.col("xml"), pl.lit("</row>")])) \
                .write_csv(self._file, include_header=False, quote_style="never", line_terminator="")
            self.rows = int(rows["row"][-1])

    @staticmethod
    def _exact(value):
        """Whether a text is a plain decimal, and whether a double holds it exactly as that decimal
        (at most EXCEL_DIGITS significant digits)."""
        digits = value.str.replace(".", "", literal=True).str.strip_chars("-0")
        decimal = value.str.contains(r"^-?[0-9]+(\.[0-9]+)?$").fill_null(False)
        return decimal, decimal & (digits.str.len_bytes() <= EXCEL_DIGITS)

    def _text_cell(self, value, flags: dict, i: int, ref, row, style: int | None = None):
        """A text cell (none for an empty text), escaped as xlsxwriter escapes it."""
        import polars as pl

        text, space = value, pl.lit("")
        if flags[f"e{i}"]:  # as xlsxwriter: the escape escaped, control characters as _xHHHH_, then & < >
            text = text.str.replace_all(r"(_x[0-9a-fA-F]{4}_)", "_x005F${1}").str.replace_many(
                self.CONTROL, [f"_x{ord(c):04X}_" for c in self.CONTROL])
        if flags[f"p{i}"]:
            space = pl.when(text.str.contains(r"^\s|\s$")).then(pl.lit(' xml:space="preserve"')).otherwise(pl.lit(""))
        if flags[f"e{i}"]:
            text = text.str.replace_many(["&", "<", ">"], ["&amp;", "&lt;", "&gt;"])
        return pl.when(value.is_not_null() & (value != "")).then(
            pl.concat_str([ref, row, pl.lit(f'" s="{style}" t="inlineStr"><is><t' if style else '" t="inlineStr"><is><t'), space, pl.lit(">"), text, pl.lit("</t></is></c>")]))

    def close(self) -> None:
        self._file.close()

    def workbook(self, path: Path, work: Path) -> None:
        """The .xlsx file: xlsxwriter's parts for a workbook of one empty sheet, the sheet's rows put in."""
        import datetime
        import zipfile

        import xlsxwriter

        empty = work / "empty.xlsx"
        book = xlsxwriter.Workbook(str(empty), EXCEL_OPTIONS)
        book.set_properties({"created": datetime.datetime(*WORKBOOK_TIME, tzinfo=datetime.timezone.utc)})
        sheet = book.add_worksheet(SHEET)
        formats = {kind: book.add_format({"num_format": NUMBER_FORMATS[kind]}) for kind in self.styles}
        for j, chars in enumerate(self.widths):
            kind = self.kinds.get(j)
            wide = min(max(chars + (chars // 3 if kind else 0), 6), COLUMN_MAX_WIDTH) + 2  # (numbers gain separators)
            sheet.set_column(j, j, wide, formats.get(kind))
        sheet.freeze_panes(1, 0)
        sheet.autofilter(0, 0, max(self.height - 1, 0), max(self.width - 1, 0))
        book.close()
        # the style indexes the rows were written with are those xlsxwriter gave the formats
        assert all(formats[kind].xf_index == i for kind, i in self.styles.items()), "xlsxwriter numbered its styles otherwise"
        size = self.path.stat().st_size
        # deflate level 1 for the sheet: 1M rows (1 GB of XML) in 4 s instead of 14 s at zlib's 6, 30 % larger
        with zipfile.ZipFile(empty) as parts, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
            for info in parts.infolist():
                if info.filename != "xl/worksheets/sheet1.xml":
                    out.writestr(info, parts.read(info))
                    continue
                head, tail = parts.read(info).decode("utf-8").split("<sheetData/>")
                last = f"{self.letter(self.width - 1)}{self.rows}"
                head = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="{"A1" if last == "A1" else "A1:" + last}"/>', head)
                # (by name: the archive's compression level, 1, and ZipInfo's date, 1980-01-01; the other parts keep xlsxwriter's)
                with out.open(info.filename, "w", force_zip64=size > (1 << 31)) as f, self.path.open("rb") as rows:
                    f.write(f"{head}<sheetData>".encode())
                    shutil.copyfileobj(rows, f, 1 << 20)
                    f.write(f"</sheetData>{tail}".encode())


def _plain(value):
    """A decimal text as xlsxwriter writes a number: no trailing zeros after the point, nor the point."""
    import polars as pl

    return pl.when(value.str.contains(".", literal=True)).then(
        value.str.strip_chars_end("0").str.strip_chars_end(".")).otherwise(value)


def _excel_text(text: str) -> str:
    """A text cut to Excel's limit of UTF-16 units, never inside a character above U+FFFF (which takes two)."""
    units = len(text.encode("utf-16-le")) // 2
    if units <= EXCEL_MAX_CHARS:
        return text
    return text.encode("utf-16-le")[:2 * EXCEL_MAX_CHARS].decode("utf-16-le", errors="ignore")


def gbk_refusal(df, before: int, columns: list[str]) -> InputError:
    """The error for a batch with a value GBK cannot hold: its data row (1 = the first after the
    header), column, value and character; ``df`` None: the header (``columns``) holds it. (A record
    copied as it stands is one text: split at its commas, which hold no quote, into the columns.)"""
    cells = []
    if df is None:
        cells = [(_("the header"), name, name) for name in columns]
    for i, row in enumerate([] if df is None else df.iter_rows()):
        for name, value in zip(df.columns, row):
            if name in columns or not isinstance(value, str):
                cells.append((_("row {row}").format(row=before + i + 1), name, value))
            else:
                cells += [(_("row {row}").format(row=before + i + 1), col, part) for col, part in zip(columns, value.split(","))]
    for where, name, value in cells:
        if isinstance(value, str):
            for ch in value:
                try:
                    ch.encode("gbk")
                except UnicodeEncodeError:
                    return InputError("--output-encoding", "gbk", _("values GBK can hold; {where}, column {name}, holds {char} (U+{code}) in {value}: write utf-8-sig instead").format(
                                          where=where, name=repr(name), char=repr(ch), code=f"{ord(ch):04X}", value=repr(value)))
    return InputError("--output-encoding", "gbk", _("values GBK can hold"))
