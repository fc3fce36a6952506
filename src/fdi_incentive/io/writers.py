"""Writing results: the format follows the output's extension; files appear whole or not at all."""

import errno
import itertools
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import InputError
from .scratch import remove_stale

OUTPUT_FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}
EXCEL_MAX_ROWS = 1_048_576
EXCEL_OPTIONS = {"constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False}
EXCEL_MAX_CHARS = 32_767  # a cell's text, in UTF-16 units
SHEET = "results"


def output_format(path: Path) -> str:
    fmt = OUTPUT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError("-o", str(path), "a file ending in .csv, .xlsx, .parquet or .jsonl")
    return fmt


# --- files appear whole or not at all, never in place of a file the run reads ---------------------

DISK_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}  # a write that failed for want of room


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same inode where both exist (a hard link, a symlink,
    any spelling of the path), else the same path once symlinks and ``..`` are resolved."""
    try:
        sa, sb = os.stat(a), os.stat(b)
        return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()


def _part_name(path: Path) -> re.Pattern:
    """The names of the temporary files beside ``path`` (.NAME.PID.RANDOM.part), the process id in group 1."""
    return re.compile(rf"\.{re.escape(path.name)}\.(\d+)\.[A-Za-z0-9_]+\.part")


def _new_part(path: Path, folder: Path, option: str) -> Path:
    """A new empty hidden file beside ``path``, named by this process (see `_part_name`)."""
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise InputError(option, str(path), f"a file in a folder that can be written ({exc.strerror})") from None
    os.close(fd)
    return Path(name)


def check_target(path: Path, option: str = "-o", *others: Path | None) -> Path:
    """A file to write, refused before any work if it could not be written where it is (a file is
    made in its folder and removed), or if it is one of ``others`` (a file the run reads, another
    output of the run) by any name; its folder."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(option, str(path), f"a file in an existing folder ({folder} does not exist)")
    if path.is_dir():  # (found before the work, not when the result is renamed into place)
        raise InputError(option, str(path), "a file, not a folder")
    for other in others:
        if other is not None and same_file(path, Path(other)):
            raise InputError(option, str(path), f"a file other than the input and the other files the run reads or "
                                                f"writes ({other} is one)")
    _new_part(path, folder, option).unlink()
    return folder


def check_outputs(outputs: dict[str, Path | None], reads: Iterable[Path | None]) -> None:
    """Every output of a run, checked before any work: each can be written in its folder, and none
    is a file the run reads (the input, --projects, --fx-table, --policy) or another output."""
    reads = [r for r in reads if r is not None]
    given = [(option, path) for option, path in outputs.items() if path is not None]
    for i, (option, path) in enumerate(given):
        check_target(path, option, *reads, *(p for _, p in given[:i]))


@contextmanager
def atomic_output(path: Path, option: str = "-o") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; put it in place of ``path`` only if the block
    succeeds, by one rename (``path`` names the old file or the new one at every instant, also
    when the run is stopped in between). An error for want of room, or one naming the temporary
    file, names ``path``. The parts that ended runs left beside ``path`` go first."""
    folder = check_target(path, option)
    remove_stale(folder, _part_name(path))
    tmp = _new_part(path, folder, option)
    tmp.unlink()  # the writer creates it
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        if _error_number(exc) in DISK_FULL or exc.filename in (str(tmp), tmp):
            raise InputError(option, str(path), f"a file that can be written ({exc.strerror or exc})") from None
        raise
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def writing(path: Path, option: str = "-o") -> Iterator[None]:
    """A write that fails for want of room (in Python, or in polars, whose error is a
    ComputeError naming the OS error) is an error of the output ``path``, in one line."""
    import polars as pl

    try:
        yield
    except (OSError, pl.exceptions.PolarsError) as exc:
        code = _error_number(exc)
        if code not in DISK_FULL:
            raise
        raise InputError(option, str(path), f"a file that can be written ({os.strerror(code)})") from None


def _error_number(exc: Exception) -> int | None:
    """The OS error number of an error, also where polars gives it only in its text ("... (os error 28)")."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return exc.errno
    found = re.search(r"\(os error (\d+)\)", str(exc))
    return int(found.group(1)) if found else None


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
                 name: Path | None = None):
        self.path, self.fmt, self.work, self.columns = path, fmt, work, columns
        self.header = header or columns  # the names as the header shows them (neutralised for CSV and Excel)
        self.name = name or path  # the output as the user named it (``path`` may be a temporary file)
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

            from ..frame import csv_field

            # the header (written here: neutralised names may coincide, which a DataFrame's would not)
            self._file.write((",".join(csv_field(name) for name in self.header) + "\n").encode("utf-8"))
            self._started = True

    def write(self, df, csv_ready: bool = False) -> None:
        """Append a batch with the columns given at the start (``csv_ready``: CSV text already,
        see `frame.Scored`)."""
        with writing(self.name):
            self._write(df, csv_ready)

    def _write(self, df, csv_ready: bool) -> None:
        if self.fmt == "csv":
            df.write_csv(self._file, include_header=False, quote_style="never" if csv_ready else "necessary")
        elif self.fmt == "jsonl":
            df.write_ndjson(self._file)
        elif self.fmt == "parquet":
            part = self.work / f"part-{len(self._parts):06d}.arrow"
            df.write_ipc(part)
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
                yield df if with_columns is None else df.select(with_columns)

        with writing(self.name):
            register_io_source(io_source=source, schema=first[0].schema).sink_parquet(
                self.path, compression="zstd", compression_level=PARQUET_ZSTD_LEVEL)

    def _write_xlsx(self, df) -> None:
        import polars as pl

        if self.rows + len(df) >= EXCEL_MAX_ROWS:
            raise InputError("-o", str(self.name), f"at most {EXCEL_MAX_ROWS - 1:,} rows in an Excel sheet; write .csv or .parquet")
        if not self._started:
            self._xml = SheetRows(self.work / "sheet-rows.xml", len(df.columns))
            self._xml.write(pl.DataFrame([pl.Series(self.header, dtype=pl.String)]).transpose(), 0)
        # (the batch writes every cell as text or true/false; a column of another type is written as its text)
        self._xml.write(df.with_columns(pl.col(c).cast(pl.String) for c, t in df.schema.items()
                                        if t not in (pl.String, pl.Boolean, pl.Null)), self.rows + 1)

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
    """

    CONTROL = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20))] + ["\ufffe", "\uffff"]

    def __init__(self, path: Path, width: int):
        self.path, self.width, self.rows = path, width, 0
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
            [pl.col(c).str.contains_any(["&", "<", ">", "_x", "_X", *self.CONTROL]).any().alias(f"e{i}") for i, c in enumerate(texts)]
            + [pl.col(c).str.contains(r"^\s|\s$").any().alias(f"p{i}") for i, c in enumerate(texts)]
            + [(pl.col(c).str.len_chars() > EXCEL_MAX_CHARS // 2).any().alias(f"l{i}") for i, c in enumerate(texts)]
        ).row(0, named=True) if texts else {}
        long = [c for i, c in enumerate(texts) if flags[f"l{i}"]]
        if long:  # a text past Excel's limit is cut to it, as xlsxwriter cuts it (a rare cell: in Python)
            df = df.with_columns(pl.col(c).map_elements(_excel_text, return_dtype=pl.String) for c in long)
        row = pl.col(number)
        cells = []
        for j, (name, dtype) in enumerate(zip(df.columns, df.dtypes)):
            ref = pl.lit(f'<c r="{self.letter(j)}')
            value = pl.col(name)
            if dtype == pl.Boolean:
                cells.append(pl.when(value.is_not_null()).then(
                    pl.concat_str([ref, row, pl.lit('" t="b"><v>'), value.cast(pl.UInt8).cast(pl.String), pl.lit("</v></c>")])))
                continue
            if dtype != pl.String:  # (nulls only)
                continue
            i = texts.index(name)
            text, space = value, pl.lit("")
            if flags[f"e{i}"]:  # as xlsxwriter: the escape escaped, control characters as _xHHHH_, then & < >
                text = text.str.replace_all(r"(_x[0-9a-fA-F]{4}_)", "_x005F${1}").str.replace_many(
                    self.CONTROL, [f"_x{ord(c):04X}_" for c in self.CONTROL])
            if flags[f"p{i}"]:
                space = pl.when(text.str.contains(r"^\s|\s$")).then(pl.lit(' xml:space="preserve"')).otherwise(pl.lit(""))
            if flags[f"e{i}"]:
                text = text.str.replace_many(["&", "<", ">"], ["&amp;", "&lt;", "&gt;"])
            cells.append(pl.when(value.is_not_null() & (value != "")).then(
                pl.concat_str([ref, row, pl.lit('" t="inlineStr"><is><t'), space, pl.lit(">"), text, pl.lit("</t></is></c>")])))
        xml = pl.concat_str(cells, ignore_nulls=True) if cells else pl.lit("")
        # (a row without a cell is left out, as xlsxwriter leaves it out)
        rows = df.lazy().with_columns((pl.int_range(pl.len(), dtype=pl.Int64) + first + 1).cast(pl.String).alias(number)) \
            .select(row.alias("row"), xml.alias("xml")).filter(pl.col("xml") != "").collect()
        if len(rows):
            rows.select(pl.concat_str([pl.lit('<row r="'), pl.col("row"), pl.lit('">'), pl.col("xml"), pl.lit("</row>")])) \
                .write_csv(self._file, include_header=False, quote_style="never", line_terminator="")
            self.rows = int(rows["row"][-1])

    def close(self) -> None:
        self._file.close()

    def workbook(self, path: Path, work: Path) -> None:
        """The .xlsx file: xlsxwriter's parts for a workbook of one empty sheet, the sheet's rows put in."""
        import zipfile

        import xlsxwriter

        empty = work / "empty.xlsx"
        book = xlsxwriter.Workbook(str(empty), EXCEL_OPTIONS)
        book.add_worksheet(SHEET)
        book.close()
        size = self.path.stat().st_size
        # deflate level 1 for the sheet: 1M rows (1 GB of XML) in 4 s instead of 14 s at zlib's 6, 30 % larger
        with zipfile.ZipFile(empty) as parts, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as out:
            for info in parts.infolist():
                if info.filename != "xl/worksheets/sheet1.xml":
                    out.writestr(info, parts.read(info))
                    continue
                head, tail = parts.read(info).decode("utf-8").split("<sheetData/>")
                last = f"{self.letter(self.width - 1)}{self.rows}"
                head = head.replace('<dimension ref="A1"/>', f'<dimension ref="{"A1" if last == "A1" else "A1:" + last}"/>')
                # (by name: the archive's compression level, 1; the other parts keep xlsxwriter's)
                with out.open(info.filename, "w", force_zip64=size > (1 << 31)) as f, self.path.open("rb") as rows:
                    f.write(f"{head}<sheetData>".encode())
                    shutil.copyfileobj(rows, f, 1 << 20)
                    f.write(f"</sheetData>{tail}".encode())


def _excel_text(text: str) -> str:
    """A text cut to Excel's limit of UTF-16 units, never inside a character above U+FFFF (which takes two)."""
    units = len(text.encode("utf-16-le")) // 2
    if units <= EXCEL_MAX_CHARS:
        return text
    return text.encode("utf-16-le")[:2 * EXCEL_MAX_CHARS].decode("utf-16-le", errors="ignore")
