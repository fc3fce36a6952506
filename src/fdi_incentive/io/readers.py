"""Turn an input file into something the columnar engine can scan: a UTF-8 CSV or a Parquet file,
its header, and which of its columns mean what.

A UTF-8 CSV with commas is scanned as it is (the fast path). GBK/GB18030 is transcoded,
Excel and JSON Lines are converted, and a CSV whose rows polars cannot read as they are
(a row longer than the header) is normalised row by row into a temporary file with a
per-row parse error: no row is ever dropped.
"""

import codecs
import csv
import dataclasses
import io
import json
import re
import shutil
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError

PARSE_ERROR = "__parse_error"
csv.field_size_limit(2**31 - 1)  # very long cells are kept, not refused

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
    "fx_rate": ["fx_rate", "fx", "汇率"],
    # the ledger shape
    "date": ["date", "arrival_date", "日期", "到位日期"],
    "type": ["type", "contribution_type", "出资类型", "资金类型"],
    "amount": ["amount", "金额"],
}


def normalise_header(name: str) -> str:
    text = unicodedata.normalize("NFKC", str(name)).strip().lower()
    return re.sub(r"[\s_\-]+", "", text)


_ALIAS_INDEX = {normalise_header(a): canon for canon, names in ALIASES.items() for a in names}


@dataclass
class Source:
    """A scannable form of the user's file and what its columns mean."""

    path: Path
    format: str  # "csv" or "parquet", or "frames": rows made on the way (a ledger's project-years)
    columns: list[str]
    mapping: dict[str, str]  # canonical -> column name in the file
    encoding: str = "utf-8"
    delimiter: str = ","
    converted_from: str | None = None
    temp_files: list[Path] = field(default_factory=list)
    frame: Any = None  # the rows of format "frames": polars DataFrames of text, each with the share done after it

    def cleanup(self) -> None:
        for p in self.temp_files:
            p.unlink(missing_ok=True)

    @property
    def has_parse_errors_column(self) -> bool:
        return PARSE_ERROR in self.columns


def map_columns(columns: list[str]) -> dict[str, str]:
    """Canonical name -> the file's column, by forgiving match (case, spaces, underscores, Chinese aliases)."""
    mapping: dict[str, str] = {}
    for col in columns:
        canon = _ALIAS_INDEX.get(normalise_header(col))
        if canon and canon not in mapping:
            mapping[canon] = col
    return mapping


def _temp(suffix: str) -> Path:
    from .scratch import scratch_file  # (in the run's folder: removed however the run ends)

    return scratch_file(suffix)


def detect_encoding(path: Path, head: int | None = 1 << 20) -> str:
    """UTF-8 (with or without BOM) if the file's first ``head`` bytes (None: all of it) decode as
    such; UTF-16 after its BOM (Excel's "Unicode text"); else GB18030 (a superset of GBK). A
    UTF-8 guess the rest of the file belies is caught when the file is read, and the whole
    file is checked then (see batch.score_file)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as f:
        start = f.read(3)
        if start == codecs.BOM_UTF8:
            return "utf-8-sig"
        if start[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return "utf-16"
        try:
            decoder.decode(start)
            read = len(start)
            while (head is None or read < head) and (chunk := f.read(1 << 22 if head is None else head)):
                decoder.decode(chunk)
                read += len(chunk)
            if head is None or read < head:
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "gb18030"
    return "utf-8"


def _sniff_delimiter(sample: str) -> str:
    first = sample.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def open_input(path: str | Path, *, encoding: str | None = None,
               is_header: Callable[[dict[str, str]], bool] | None = None) -> Source:
    """Read what kind of file this is and make it scannable. ``is_header``: whether a row's
    column mapping makes it the header (below title rows); by default `names_a_header`."""
    is_header = is_header or names_a_header
    path = Path(path)
    if not path.is_file():
        raise InputError("INPUT", str(path), "an existing CSV, Excel, Parquet or JSON Lines file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"):
        return _from_excel(path, is_header)
    if suffix == ".parquet":
        return _from_parquet(path)
    if suffix in (".jsonl", ".ndjson"):
        return _from_jsonl(path)
    if suffix not in (".csv", ".txt", ".tsv"):
        raise InputError("INPUT", str(path), "a .csv, .tsv, .xlsx, .parquet or .jsonl file")
    return _from_csv(path, encoding, is_header)


def _from_csv(path: Path, encoding: str | None, is_header: Callable[[dict[str, str]], bool]) -> Source:
    enc = (encoding or detect_encoding(path)).lower().replace("_", "-")
    try:
        codecs.lookup(enc)
    except LookupError:
        raise InputError("--encoding", encoding, "an encoding such as utf-8, gbk or gb18030") from None
    with path.open(encoding=enc, errors="replace", newline="") as f:
        sample = f.read(1 << 16)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else _sniff_delimiter(sample.lstrip("\ufeff"))
    try:
        header = next(csv.reader(io.StringIO(sample.lstrip("\ufeff")), delimiter=delimiter), [])
    except csv.Error:  # (a NUL, a line end the reader cannot place: not a header)
        header = []
    blank = not any(h.strip() for h in header)
    titled = None if not blank and is_header(map_columns(_unique(header))) else _header_below_titles(sample, is_header)
    if titled is not None:
        header, delimiter, above = titled
    elif blank:
        raise InputError("INPUT", str(path), "a CSV file whose first line is a header naming the columns")
    header = _unique(header)
    src = Source(path=path, format="csv", columns=header, mapping=map_columns(header), encoding=enc,
                 delimiter=delimiter, converted_from=None if enc in UTF8 else f"transcoded from {enc}")
    # polars reads UTF-8 (any delimiter): another encoding is transcoded as the file is read, a block
    # at a time (`csv_blocks`), keeping the user's values as they were; what reads the file as a
    # whole gets a UTF-8 copy (`utf8_file`)
    return src if titled is None else _lines_passed_over(utf8_file(src), above)


UTF8 = ("utf-8", "utf8", "utf-8-sig")


def utf8_file(src: Source) -> Source:
    """``src`` as a UTF-8 file on disk (a transcoded copy, if it is a CSV in another encoding), for
    what reads a file as a whole rather than through `csv_blocks`: the title lines' copy."""
    return transcode_csv(src) if src.format == "csv" and src.encoding not in UTF8 else src


def names_a_header(mapping: dict[str, str]) -> bool:
    """Whether a row of column names is a header fdi can score from: it names a year, or a
    ledger's date and amount."""
    return "year" in mapping or ("date" in mapping and "amount" in mapping)


def names_a_project_list(mapping: dict[str, str]) -> bool:
    """Whether a row of column names is the header of a ledger's project file (``--projects``):
    a project id and the project's kind, sector or industry code."""
    return "project_id" in mapping and any(c in mapping for c in ("kind", "sector", "industry_code"))


def _header_below_titles(sample: str, is_header: Callable[[dict[str, str]], bool]) -> tuple[list[str], str, int] | None:
    """A CSV's header below a title line or two (a report's name, who filed it): the first of the
    first `HEADER_SEARCH` lines that ``is_header``, with its delimiter and the number of
    lines above it; None if there is none. (A title is taken to be one line.)"""
    lines = sample.lstrip("\ufeff").split("\n")[:-1]  # (whole lines: the sample may end inside one)
    for above in range(1, min(HEADER_SEARCH, len(lines))):
        delimiter = _sniff_delimiter(lines[above])
        try:
            header = next(csv.reader((line + "\n" for line in lines[above:]), delimiter=delimiter), [])
        except csv.Error:
            continue
        header = _unique(header)
        if is_header(map_columns(header)):
            return header, delimiter, above
    return None


def _lines_passed_over(src: Source, above: int) -> Source:
    """A UTF-8 CSV from its header on: the ``above`` lines before it are left out of a copy."""
    out = _temp(".csv")
    with src.path.open("rb") as f_in, out.open("wb") as f_out:
        head = f_in.read(1 << 20)
        start = 0
        for _ in range(above):  # (the lines are in the first MiB: the sample they were found in is smaller)
            start = head.index(b"\n", start) + 1
        f_out.write(head[start:])
        shutil.copyfileobj(f_in, f_out, 1 << 20)
    kept = [p for p in src.temp_files if p != src.path]
    if len(kept) < len(src.temp_files):  # a transcoded copy: no longer needed (the disk holds one copy, not two)
        src.path.unlink(missing_ok=True)
    note = f"header on line {above + 1}, {above} title line{'s' if above > 1 else ''} above it passed over"
    return dataclasses.replace(src, path=out, encoding="utf-8", temp_files=[*kept, out],
                               converted_from=f"{src.converted_from}; {note}" if src.converted_from else f"CSV, {note}")


def utf8_strays(path: Path, most: int = 1000) -> int | None:
    """How many byte sequences are not UTF-8 in a file that is UTF-8 but for those (a stray byte
    pasted from elsewhere); None when the file is no such file: more than ``most`` of them, or
    too few UTF-8 characters beyond ASCII to tell it from GBK (then it is read as GB18030)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    ascii_bytes = bytes(range(128))
    strays = beyond_ascii = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            strays += decoder.decode(chunk).count("\ufffd") - chunk.count("\ufffd".encode())
            beyond_ascii += len(chunk.translate(None, ascii_bytes))
            if strays > most:
                return None
        strays += decoder.decode(b"", final=True).count("\ufffd")
    return strays if 0 < strays <= most and beyond_ascii >= 20 * strays else None


def transcode_csv(src: Source, note: str | None = None) -> Source:
    """The CSV in UTF-8, a block at a time by the codec (no row is parsed here): bytes the
    encoding cannot read become U+FFFD, as when the file is rewritten row by row."""
    out = _temp(".csv")
    with src.path.open("rb") as f_in, out.open("wb") as f_out:
        shutil.copyfileobj(_Utf8Reader(f_in, src.encoding), f_out, 1 << 22)
    return Source(path=out, format="csv", columns=src.columns, mapping=src.mapping, encoding="utf-8",
                  delimiter=src.delimiter, converted_from=note or f"transcoded from {src.encoding}",
                  temp_files=[*src.temp_files, out])


def _unique(header: list[str]) -> list[str]:
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


def normalise_csv(src: Source) -> Source:
    """Rewrite a CSV row by row as clean UTF-8: short rows padded, long rows cut, each with its parse error."""
    out = _temp(".csv")
    width = len(src.columns)
    with src.path.open(encoding=src.encoding, errors="replace", newline="") as f_in, \
            out.open("w", encoding="utf-8", newline="") as f_out:
        lines = (line.replace("\0", "") for line in f_in)
        reader = csv.reader(lines, delimiter=src.delimiter, strict=False)
        writer = csv.writer(f_out, lineterminator="\r\n")  # \r\n: a cell holding \r or \n gets quoted
        next(reader, None)
        writer.writerow([*src.columns, PARSE_ERROR])
        for row in reader:
            if not any(row):
                continue  # a blank line, or a row of empty cells, holds no project (the fast path skips it too)
            problem = ""
            if len(row) != width:
                problem = f"the row has {len(row)} fields, the header has {width}"
                row = (row + [""] * width)[:width]
            writer.writerow([*row, problem])
    return Source(path=out, format="csv", columns=[*src.columns, PARSE_ERROR], mapping=src.mapping,
                  encoding="utf-8", converted_from=src.converted_from, temp_files=[*src.temp_files, out])


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value).removesuffix(".0") if value.is_integer() and abs(value) < 1e15 else repr(value)
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    return str(value)


HEADER_SEARCH = 20  # rows of a sheet or lines of a CSV looked at for its header (title rows above it)


def _from_excel(path: Path, is_header: Callable[[dict[str, str]], bool]) -> Source:
    try:
        from python_calamine import CalamineWorkbook

        book = CalamineWorkbook.from_path(str(path))

        def header_of(index: int, search: int):
            """The sheet's header (its first row, or the first of ``search`` rows that ``is_header``,
            by default one naming a year or a ledger's date and amount: a title row or two may stand
            above it) and the rows after it."""
            rows = iter(book.get_sheet_by_index(index).iter_rows())
            for number in range(1, search + 1):
                header = _unique([_cell(v) for v in next(rows, [])])
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
            rows = iter(book.get_sheet_by_index(0).iter_rows())
            header = _unique([_cell(v) for v in next(rows, [])])
    except Exception as exc:  # calamine raises its own error types for unreadable workbooks
        raise InputError("INPUT", str(path), f"a readable Excel workbook ({exc})") from None
    out = _temp(".csv")
    width = len(header)
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")  # \r\n: a cell holding \r or \n gets quoted
        writer.writerow(header)
        for row in rows:
            cells = [v if type(v) is str else _cell(v) for v in row]  # (most cells are text already)
            writer.writerow(cells if len(cells) == width else (cells + [""] * width)[:width])
    return Source(path=out, format="csv", columns=header, mapping=map_columns(header),
                  converted_from=f"Excel sheet '{book.sheet_names[index]}'" + (f", header on row {number}" if number > 1 else ""),
                  temp_files=[out])


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


def _from_parquet(path: Path) -> Source:
    import polars as pl

    try:
        cols = pl.read_parquet_schema(path).names()
    except Exception as exc:  # polars raises its own error types for unreadable files
        raise InputError("INPUT", str(path), f"a readable Parquet file ({str(exc).splitlines()[0]})") from None
    return Source(path=path, format="parquet", columns=cols, mapping=map_columns(cols))


def _from_jsonl(path: Path) -> Source:
    """JSON Lines: numbers are kept as the text they were written as, so amounts stay exact.

    One pass, a line at a time (memory does not grow with the file): each record is written
    with the keys met so far, a key first met later adds a column at the end (earlier rows are
    read with it empty), and the header goes in front at the end."""
    keys: dict[str, None] = {}
    body = _temp(".csv")
    with path.open(encoding="utf-8-sig", errors="replace") as f, body.open("w", encoding="utf-8", newline="") as b:
        writer = csv.writer(b, lineterminator="\r\n")  # \r\n: a cell holding \r or \n gets quoted
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line, parse_float=str, parse_int=str)
                if not isinstance(obj, dict):
                    raise ValueError("not an object")
            except ValueError as exc:
                writer.writerow([f"line {n} is not a JSON object ({exc})"])
                continue
            keys.update(dict.fromkeys(obj))
            writer.writerow(["", *(_json_cell(obj.get(k)) for k in keys)])
    header = _unique(list(keys))
    out = _temp(".csv")
    try:
        with out.open("w", encoding="utf-8", newline="") as f:
            csv.writer(f, lineterminator="\r\n").writerow([PARSE_ERROR, *header])
            with body.open(encoding="utf-8", newline="") as b:
                shutil.copyfileobj(b, f, 1 << 20)
    finally:
        body.unlink(missing_ok=True)
    return Source(path=out, format="csv", columns=[PARSE_ERROR, *header], mapping=map_columns(header),
                  converted_from="JSON Lines", temp_files=[out])


def _json_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _record_end(buf: bytes, end: int) -> int:
    """The position just after the last line end in ``buf[:end]`` that lies outside quotes, or -1.

    ``buf`` starts at a record's start, so a position is outside quotes when the number of
    quote characters before it is even (an escaped quote, "", counts twice).
    """
    cut = buf.rfind(b"\n", 0, end)
    # (most files hold no quote at all: finding none is several times faster than counting them)
    quotes = buf.count(b'"', 0, cut) if cut >= 0 and buf.find(b'"', 0, cut) >= 0 else 0
    while cut >= 0 and quotes % 2:
        previous = buf.rfind(b"\n", 0, cut)
        quotes -= buf.count(b'"', previous + 1 if previous >= 0 else 0, cut)
        cut = previous
    return cut + 1 if cut >= 0 else -1


def _first_record_end(buf: bytes) -> int:
    """The position just after the first line end outside quotes (the header's end), or -1."""
    cut, quotes = buf.find(b"\n"), 0
    while cut >= 0:
        quotes = buf.count(b'"', 0, cut)
        if quotes % 2 == 0:
            return cut + 1
        cut = buf.find(b"\n", cut + 1)
    return -1


class _Utf8Reader:
    """A file in another encoding read as UTF-8 bytes (`read` as a binary file has it): decoded
    a MiB or more at a time by the codec, bytes it cannot read becoming U+FFFD."""

    def __init__(self, raw, encoding: str):
        self._raw, self._buf, self._eof = raw, b"", False
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")

    def read(self, size: int) -> bytes:
        while len(self._buf) < size and not self._eof:
            chunk = self._raw.read(max(size, 1 << 20))
            self._eof = not chunk
            self._buf += self._decoder.decode(chunk, final=self._eof).encode("utf-8")
        out, self._buf = self._buf[:size], self._buf[size:]
        return out


def csv_blocks(path: Path, block: int = 6 << 20, longest: int = 64 << 20,
               encoding: str = "utf-8") -> Iterator[tuple[bytes, int]]:
    """A CSV as blocks of whole records in UTF-8 (about ``block`` bytes each), each led by the
    header line, with the bytes of the file read so far: memory stays bounded however large the
    file, and no record is cut. A file in another ``encoding`` is transcoded as it is read (as
    `transcode_csv` does, in the thread that reads). A record longer than ``longest`` bytes is
    taken for a quote that never closes (the rest of the file would be one cell) and refused."""

    def runaway(at: int) -> InputError:
        return InputError("INPUT", str(path), f"a CSV whose quotes close: a record from byte {at:,} runs on for more than "
                          f"{longest >> 20} MiB (a quote that never closes?)")

    with path.open("rb") as raw:
        f = raw if encoding in UTF8 else _Utf8Reader(raw, encoding)

        def read_so_far(done: int) -> int:  # (of the file: the UTF-8 bytes' count where it is UTF-8)
            return done if f is raw else raw.tell()

        buf = f.read(block)
        start = _first_record_end(buf)
        while start == -1:  # a header longer than a block
            more = f.read(block)
            if not more:
                return
            buf += more
            start = _first_record_end(buf)
            if start == -1 and len(buf) > longest:
                raise runaway(0)
        header, buf, done = buf[:start], buf[start:], start
        eof = False
        while True:
            while not eof and len(buf) < block:
                more = f.read(block - len(buf))
                eof = not more
                buf += more
            if eof:
                if buf.strip(b"\r\n"):  # (a line of spaces is a row: its cell holds a space)
                    yield header + buf, read_so_far(done + len(buf))
                return
            cut = _record_end(buf, len(buf))
            if cut <= 0:  # one record longer than a block: read on
                if len(buf) > longest:
                    raise runaway(done)
                more = f.read(block)
                eof = not more
                buf += more
                continue
            if cut > 4096 or buf[:cut].strip(b"\r\n"):  # (blank lines in a big block are skipped later)
                yield b"".join((header, memoryview(buf)[:cut])), read_so_far(done + cut)
            done += cut
            buf = buf[cut:]  # the rest of a line: short
