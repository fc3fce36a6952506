"""What an .xlsx workbook is checked for before a sheet's cells are read (calamine reads a whole
sheet into memory, and reads a formula without its value as an empty cell).

- Every part of the zip expands to at most `PART_MOST` bytes, and one larger than `RATIO_FROM`
  to at most `RATIO_MOST` times its compressed size (a zip bomb is refused, not inflated); the
  parts are inflated here a piece at a time, which stops at the size the zip states and checks
  their CRC, so a part that says less than it holds is refused too.
- A sheet is read only within Excel's own limits (`MAX_ROWS` rows, `MAX_COLUMNS` columns): its
  stated dimension, then its rows and cells as they stream by, are checked first.
- Its formula cells whose value the file does not hold are found on the way: a formula with no
  value (a workbook a program wrote, as openpyxl does), or any formula of a workbook that asks to
  be calculated again when opened (`fullCalcOnLoad`: xlsxwriter writes 0 as every formula's value).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

from ..errors import InputError
from ..i18n import _

MAX_ROWS = 1_048_576  # Excel's limits of a sheet
MAX_COLUMNS = 16_384
PART_MOST = 4 << 30  # what one part of a workbook may expand to
RATIO_FROM, RATIO_MOST = 1 << 20, 100  # a part larger than RATIO_FROM expands at most RATIO_MOST times its compressed size
PIECE = 4 << 20  # of a sheet inflated at a time

_P = rb"<(?:[\w.-]+:)?"  # an element's start, with or without a namespace prefix
_R = re.compile(rb'\br="(\d+)"')
_WIDE = re.compile(rb' r="([A-Z]{3,})\d')  # a cell past column ZZ (the only ones that can pass XFD)
_CELL_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_CELL_TYPE = re.compile(rb'\bt="([a-z]+)"')
_F = re.compile(_P + rb"f\b[^>]*?(?:/>|>(.*?)</(?:[\w.-]+:)?f>)", re.S)
_V = re.compile(_P + rb"v\b[^>]*?(?:/>|>(.*?)</(?:[\w.-]+:)?v>)", re.S)
_DIMENSION = re.compile(_P + rb'dimension\b[^>]*?\bref="([^"]*)"')
_SHEET = re.compile(_P + rb"sheet\b([^>]*?)/?>")
_ATTR = re.compile(rb'([\w:]+)="([^"]*)"')
_FULL_CALC = re.compile(_P + rb'calcPr\b[^>]*?\bfullCalcOnLoad="(?:1|true)"')


_DAMAGED = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, KeyError)


def column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


@dataclass
class Formula:
    """A formula cell whose value the file does not hold: its text (None: a shared formula's
    other cells, which hold none) and whether a value is stored but the workbook asks for it
    to be calculated again."""

    text: str | None
    recalc: bool = False


@dataclass
class SheetFacts:
    formulas: dict[tuple[int, int], Formula] = field(default_factory=dict)  # (row, column), from 1 -> its formula


class Workbook:
    """An .xlsx (.xlsm) file's zip, checked: each sheet by name -> its part, and whether it is visible."""

    def __init__(self, path: Path):
        self.path = path
        self.parts: dict[str, str] = {}  # sheet name -> the zip entry of its XML
        self.full_calc = False
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError):
            self.zip = None  # (an .xls or a damaged file: calamine says what it makes of it)
            return
        try:
            self._open()
        except BaseException as exc:
            self.close()
            if isinstance(exc, _DAMAGED):
                raise self._damaged(exc) from None
            raise

    def _damaged(self, exc: Exception) -> InputError:
        """A part that cannot be inflated as the zip states it (its size or CRC wrong, a method unknown)."""
        return self._refuse(_("a readable Excel workbook ({reason})").format(reason=exc))

    def _open(self) -> None:
        for info in self.zip.infolist():
            self._bounded(info)
        try:
            book = self._read("xl/workbook.xml")
            rels = self._read("xl/_rels/workbook.xml.rels")
        except KeyError:
            return
        targets = {}
        for attrs in re.findall(_P + rb"Relationship\b([^>]*?)/?>", rels):
            a = dict(_ATTR.findall(attrs))
            if b"Id" in a and b"Target" in a:
                target = unescape(a[b"Target"].decode("utf-8", "replace"))
                targets[a[b"Id"]] = target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)
        for attrs in _SHEET.findall(book):
            a = dict(_ATTR.findall(attrs))
            rid = next((v for k, v in a.items() if k.endswith(b":id")), None)
            if b"name" in a and rid in targets:
                self.parts[unescape(a[b"name"].decode("utf-8", "replace"))] = targets[rid]
        self.full_calc = _FULL_CALC.search(book) is not None
        for info in self.zip.infolist():  # (what calamine reads besides the sheets: inflated here first, within bounds)
            if info.filename not in self.parts.values() and not info.is_dir():
                with self.zip.open(info) as f:
                    while f.read(PIECE):
                        pass

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()

    def _refuse(self, expected: str) -> InputError:
        return InputError("INPUT", str(self.path), expected)

    def _bounded(self, info: zipfile.ZipInfo) -> None:
        size, packed = info.file_size, max(info.compress_size, 1)
        if size > PART_MOST or (size > RATIO_FROM and size > RATIO_MOST * packed):
            raise self._refuse(_(
                "a workbook whose parts expand to at most {most} times their compressed size and at most {limit} GiB: "
                "its part {part} expands from {packed} to {size} bytes (a zip bomb?)").format(
                    most=RATIO_MOST, limit=PART_MOST >> 30, part=info.filename, packed=f"{info.compress_size:,}",
                    size=f"{size:,}"))

    def _read(self, name: str) -> bytes:
        with self.zip.open(name) as f:
            return f.read()

    def _too_large(self, sheet: str, rows: int = 0, column: int = 0) -> InputError:
        what = (_("{rows} rows").format(rows=f"{rows:,}") if rows > MAX_ROWS else
                _("a cell in column {column}").format(column=f"{column:,}"))
        return self._refuse(_("a sheet within Excel's limits of {rows} rows and {columns} columns: sheet '{sheet}' has "
                              "{what}; it was not read").format(rows=f"{MAX_ROWS:,}", columns=f"{MAX_COLUMNS:,}",
                                                                sheet=sheet, what=what))

    def scan(self, sheet: str) -> SheetFacts:
        """A sheet's XML streamed through before its cells are read: within Excel's limits (else
        InputError), and its formula cells whose value the file does not hold."""
        facts = SheetFacts()
        part = self.parts.get(sheet)
        if self.zip is None or part is None:
            return facts
        try:
            return self._scan(sheet, part, facts)
        except _DAMAGED as exc:
            raise self._damaged(exc) from None

    def _scan(self, sheet: str, part: str, facts: SheetFacts) -> SheetFacts:
        rows = last = 0
        carry = b""
        tags: _Tags | None = None
        with self.zip.open(part) as f:
            while True:
                data = f.read(PIECE)
                buf = carry + data
                if tags is None:  # (the sheet's start: its elements' prefix, its stated dimension)
                    tags = _Tags(buf[:1 << 16])
                    if (m := _DIMENSION.search(buf[:1 << 16])) is not None:
                        end = m.group(1).split(b":")[-1].decode("ascii", "replace")
                        if (ref := re.fullmatch(r"\$?([A-Z]+)\$?(\d+)", end)) is not None:
                            if int(ref.group(2)) > MAX_ROWS or column_number(ref.group(1)) > MAX_COLUMNS:
                                raise self._too_large(sheet, int(ref.group(2)), column_number(ref.group(1)))
                cut = buf.rfind(tags.row_end) if data else len(buf)
                if cut <= 0 and data and len(buf) < (64 << 20):
                    carry = buf
                    continue
                cut = len(buf) if cut <= 0 else cut
                seg, carry = buf[:cut], buf[cut:]
                # (patterns that start with a literal: a regex trying every tag of a 100 MB sheet took
                # longer than calamine's reading of it)
                if found := len(tags.row.findall(seg)):
                    rows += found
                    at = seg.rfind(tags.row_start)
                    r = _R.search(seg, at, seg.find(b">", at) + 1)
                    last = max(last, int(r.group(1)) if r else 0)
                    if max(rows, last) > MAX_ROWS:
                        raise self._too_large(sheet, max(rows, last))
                for m in _WIDE.finditer(seg):
                    if column_number(m.group(1).decode("ascii")) > MAX_COLUMNS:
                        raise self._too_large(sheet, column=column_number(m.group(1).decode("ascii")))
                if self.full_calc or tags.formula.search(seg):
                    self._formulas(seg, tags, facts)
                if not data:
                    break
        return facts

    def _formulas(self, seg: bytes, tags: _Tags, facts: SheetFacts) -> None:
        for m in tags.formula.finditer(seg):
            p = m.start()
            start = max(seg.rfind(tags.cell + b" ", 0, p), seg.rfind(tags.cell + b">", 0, p))
            end = seg.find(tags.cell_end, p)
            if start < 0 or end < 0:
                continue
            cell = seg[start:end]
            opening = cell[:cell.find(b">") + 1]
            ref = _CELL_REF.search(opening)
            if ref is not None:
                where = (int(ref.group(2)), column_number(ref.group(1).decode("ascii")))
            else:  # (r is optional: the row's, and the cell's place in it)
                row_at = seg.rfind(tags.row_start, 0, start)
                r = _R.search(seg, row_at, seg.find(b">", row_at)) if row_at >= 0 else None
                before = seg[row_at:start]
                where = (int(r.group(1)) if r else 0, before.count(tags.cell + b" ") + before.count(tags.cell + b">") + 1)
            kind = _CELL_TYPE.search(opening)
            f, v = _F.search(cell), _V.search(cell)
            text = unescape(f.group(1).decode("utf-8", "replace")).strip() if f is not None and f.group(1) else None
            held = v is not None and (bool(v.group(1)) or (kind is not None and kind.group(1) == b"str"))
            if not held or self.full_calc:
                facts.formulas[where] = Formula(text, recalc=held)


class _Tags:
    """A sheet's elements as its XML writes them: with the prefix of its namespace (<x:row>), if any."""

    def __init__(self, head: bytes):
        m = re.search(rb"<([\w.-]+:)?worksheet\b", head)
        prefix = (m.group(1) or b"") if m else b""
        self.row_start, self.row_end = b"<" + prefix + b"row", b"</" + prefix + b"row>"
        self.row = re.compile(re.escape(self.row_start) + rb"[\s>]")
        self.formula = re.compile(b"<" + re.escape(prefix) + rb"f[\s>/]")
        self.cell, self.cell_end = b"<" + prefix + b"c", b"</" + prefix + b"c>"
