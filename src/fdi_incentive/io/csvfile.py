"""A CSV file's text: which encoding it is in, where its records end, and its rows read one by one.

How a CSV is read, the same on both of its paths (polars a block at a time, and row by row):
a record ends at a line feed (CR LF too) outside quotes; a lone CR is a character of its cell;
a quote opens a quoted cell only as a cell's first character, and a quote anywhere else is a
literal. polars is handed only blocks it reads that way (their quotes well placed); a file
with a quote elsewhere, a row longer than the header, or bytes that are not in its encoding is
read row by row instead (`rows_of`), each row that needed it carrying its parse error.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import InputError
from ..i18n import N_, _


UTF8 = ("utf-8", "utf8", "utf-8-sig")
STRAYS_AT_MOST = 1000  # bytes that are not UTF-8 in a file read as UTF-8 all the same (more: it is GB18030)
UTF8_CHARS_PER_STRAY = 3  # ... each beside at least this many UTF-8 characters beyond ASCII (fewer: GB18030)


class Unreadable(Exception):
    """polars cannot read a block of the CSV as it is (a row longer than the header, a stray
    quote, bytes that are not in its encoding): the file is to be read row by row."""


# --- the encoding -------------------------------------------------------------------------------

AFTER_BOM = "_after_utf8_bom"  # a codec's name + this: that codec, a UTF-8 BOM in front of the text passed over


def after_bom(encoding: str) -> str:
    """The codec that reads a file in ``encoding`` behind a UTF-8 BOM (some tools put one in front
    of GBK text): the BOM passed over, not read as the first character of its first cell."""
    return encoding if encoding.endswith(AFTER_BOM) else encoding + AFTER_BOM


def encoding_label(encoding: str, bom: bool = True) -> str:
    """An encoding as a person reads it: gb18030, or (``bom``) "gb18030 after a UTF-8 BOM"."""
    if not encoding.endswith(AFTER_BOM):
        return encoding
    return encoding[:-len(AFTER_BOM)] + (_(" after a UTF-8 BOM") if bom else "")


def _search_after_bom(name: str) -> codecs.CodecInfo | None:
    if not name.endswith(AFTER_BOM):
        return None
    base = codecs.lookup(name[:-len(AFTER_BOM)])

    class Decoder(codecs.IncrementalDecoder):
        def __init__(self, errors: str = "strict") -> None:
            super().__init__(errors)
            self._inner = base.incrementaldecoder(errors)
            self._head: bytes | None = b""  # (None: the start is passed)

        def decode(self, data: bytes, final: bool = False) -> str:
            if self._head is not None:
                head = self._head + bytes(data)
                if len(head) < 3 and codecs.BOM_UTF8.startswith(head) and not final:
                    self._head = head
                    return ""
                self._head, data = None, head[3:] if head.startswith(codecs.BOM_UTF8) else head
            return self._inner.decode(data, final)

        def reset(self) -> None:
            self._inner.reset()
            self._head = b""

    def decode(data: bytes, errors: str = "strict") -> tuple[str, int]:
        return Decoder(errors).decode(data, final=True), len(data)

    return codecs.CodecInfo(base.encode, decode, incrementalencoder=base.incrementalencoder, incrementaldecoder=Decoder,
                            name=name)


codecs.register(_search_after_bom)

HEAD = 1 << 20  # bytes of a file whose decoding decides its encoding before it is read (the rest: see `detect_encoding`)


def detect_encoding(path: Path, whole: bool = False) -> tuple[str, int, bool]:
    """The file's encoding, how many byte sequences in it are not in that encoding, and whether
    all of the file was looked at: UTF-8 (with or without BOM) if it decodes as such, or is UTF-8
    but for a few stray bytes (`utf8_strays`, over the whole file); UTF-16 after its BOM (Excel's
    "Unicode text"); else GB18030 (a superset of GBK).

    Only the first `HEAD` bytes are decoded when they are UTF-8 (``whole``: all of them): polars
    checks the rest as it reads, and a file it finds not UTF-8 further on is read row by row,
    its encoding decided then from all of it (`readers.row_by_row`). So the answer never depends
    on the file's size: UTF-8 but for a few bytes is UTF-8, those rows in error, small or large."""
    with path.open("rb") as f:
        start = f.read(3)
        if start == codecs.BOM_UTF8:
            encoding = "utf-8-sig"
        elif start[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return "utf-16", 0, True
        else:
            encoding = "utf-8"
        f.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        read, head = 0, None if whole else HEAD
        try:
            while (head is None or read < head) and (chunk := f.read(1 << 22 if head is None else head - read)):
                decoder.decode(chunk)
                read += len(chunk)
            all_read = not f.read(1)
            if all_read:
                decoder.decode(b"", final=True)
            return encoding, 0, all_read
        except UnicodeDecodeError:
            pass
    strays = utf8_strays(path)
    if strays is not None:
        return encoding, strays, True
    # GBK text, behind a UTF-8 BOM where a tool put one in front of it (the BOM passed over)
    return ("gb18030" if encoding == "utf-8" else after_bom("gb18030")), 0, True


_STRAY_RUN = re.compile("[\udc80-\udcff]+")


def utf8_strays(path: Path, most: int = STRAYS_AT_MOST) -> int | None:
    """How many runs of bytes that are not UTF-8 a file holds that is UTF-8 but for those (a stray
    byte pasted from elsewhere, the pieces of a character it broke); None when the file is no such
    file: more than ``most`` of them, or fewer than `UTF8_CHARS_PER_STRAY` UTF-8 characters beyond
    ASCII for each (then it is read as GB18030). GBK text read as UTF-8 is mostly such runs, with a
    character that happens to be valid UTF-8 between some (about 0.7 of one a run over Chinese
    text, at most 2 in a line); UTF-8 text with a stray byte or two has its characters intact."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
    strays = chars = 0

    def count(text: str) -> tuple[int, int]:
        runs = len(_STRAY_RUN.findall(text))
        beyond = len(text) - len(text.encode("ascii", "ignore")) if not text.isascii() else 0
        return runs, beyond - len("".join(_STRAY_RUN.findall(text)))

    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            runs, beyond = count(decoder.decode(chunk))
            strays, chars = strays + runs, chars + beyond
            if strays > most:
                return None
        runs, beyond = count(decoder.decode(b"", final=True))
        strays, chars = strays + runs, chars + beyond
    return strays if 0 < strays <= most and chars >= UTF8_CHARS_PER_STRAY * strays else None


# codecs that rewrite text (escapes, a second alphabet) rather than decode a charset: they read a
# CSV's backslashes or `+` as something else (unicode_escape read `C:\\N\\x` as `C:��`)
REWRITES_TEXT = {"unicode-escape", "raw-unicode-escape", "utf-7", "idna", "punycode"}
_ASCII_PROBE = b'project_id,year;\t|"\r\n 0123456789.-'
EXPECTED_ENCODING = N_("a text encoding the file is written in, such as utf-8, gbk, gb18030 or utf-16 (with its BOM)")


def check_encoding(name: str, path: Path) -> str:
    """The ``--encoding`` a user gave, if the file can be read in it: a text encoding (not a codec
    such as rot13, base64 or zlib) that reads the CSV's own characters as ASCII does, or UTF-16/32
    whose decoder accepts the file's start (plain utf-16 needs the BOM). Else InputError."""
    try:
        info = codecs.lookup(name.strip())
    except LookupError:
        raise InputError("--encoding", name, _(EXPECTED_ENCODING)) from None
    if not getattr(info, "_is_text_encoding", True) or info.name in REWRITES_TEXT:
        raise InputError("--encoding", name, _("{expected} ({name} is not a text encoding)").format(expected=_(EXPECTED_ENCODING), name=info.name))
    with path.open("rb") as f:
        start = f.read(1 << 16)
    try:
        wide = info.name.startswith(("utf-16", "utf-32"))
        if not wide and _ASCII_PROBE.decode(info.name) != _ASCII_PROBE.decode("ascii"):
            raise ValueError(f"{info.name} does not read a CSV's commas, quotes and line ends as they are")
        codecs.getincrementaldecoder(info.name)(errors="replace").decode(start)
    except (UnicodeError, ValueError) as exc:
        raise InputError("--encoding", name, "{expected} ({reason})".format(expected=_(EXPECTED_ENCODING), reason=str(exc).splitlines()[0][:200])) from None
    if start.startswith(codecs.BOM_UTF8) and not info.name.startswith(("utf-8", "utf-16", "utf-32")):
        return after_bom(info.name)  # (GBK behind a UTF-8 BOM: the BOM is no character of the text)
    return "utf-8-sig" if info.name == "utf-8" and start.startswith(codecs.BOM_UTF8) else info.name


# --- where records end --------------------------------------------------------------------------

def _quoted_cell(delimiter: bytes) -> re.Pattern[bytes]:
    """A well-placed quoted cell: its quote first in the cell, every quote inside it doubled, the
    cell ending at its closing quote."""
    d = re.escape(delimiter)
    return re.compile(rb'(?<![^' + d + rb'\n])"[^"]*(?:""[^"]*)*"(?=' + d + rb'|\r?\n|\Z)')


_QUOTED: dict[bytes, re.Pattern[bytes]] = {}
_RECORDS: dict[bytes, re.Pattern[bytes]] = {}


def _records_pattern(delimiter: bytes) -> re.Pattern[bytes]:
    """Whole records whose quotes are well placed: each cell quoted (its quote first, every quote
    inside it doubled, a delimiter or line end after its closing quote) or holding no quote at all.
    (Possessive: one pass, no backtracking.)"""
    d = re.escape(delimiter)
    cell = rb'(?:"[^"]*+(?:""[^"]*+)*+"|[^"' + d + rb'\n]*+)'
    record = cell + rb'(?:' + d + cell + rb')*+'
    return re.compile(rb'(?:' + record + rb'\r?\n)*+(?:' + record + rb')?+\Z')


def well_quoted(buf: bytes | memoryview, delimiter: bytes = b",") -> bool:
    """Whether every quote in ``buf`` (whole records) is well placed: then polars reads its cells
    as the row-by-row reader does, and its line ends outside quotes are its records' ends."""
    pattern = _RECORDS.get(delimiter) or _RECORDS.setdefault(delimiter, _records_pattern(delimiter))
    return pattern.match(buf) is not None


def lone_cr(buf: bytes, delimiter: bytes = b",") -> bool:
    """Whether ``buf`` (whole, well-quoted records) holds a CR that is not part of a line end, outside
    a quoted cell: polars drops such a CR where it ends a cell or begins a line."""
    cr = buf.count(b"\r")
    if not cr or cr == buf.count(b"\r\n"):
        return False
    if b'"' in buf:  # (inside a quoted cell, a CR is read as it is)
        pattern = _QUOTED.get(delimiter) or _QUOTED.setdefault(delimiter, _quoted_cell(delimiter))
        buf = pattern.sub(b"", buf)
        cr = buf.count(b"\r")
    return cr != buf.count(b"\r\n")


def _record_end(buf: bytes, end: int) -> int:
    """The position just after the last line end in ``buf[:end]`` that lies outside quotes, or -1.

    ``buf`` starts at a record's start, so a position is outside quotes when the number of
    quote characters before it is even (an escaped quote, "", counts twice): true when its quotes
    are well placed (see `well_quoted`, which the caller checks).
    """
    cut = buf.rfind(b"\n", 0, end)
    # (most files hold no quote at all: finding none is several times faster than counting them)
    quotes = buf.count(b'"', 0, cut) if cut >= 0 and buf.find(b'"', 0, cut) >= 0 else 0
    while cut >= 0 and quotes % 2:
        previous = buf.rfind(b"\n", 0, cut)
        quotes -= buf.count(b'"', previous + 1 if previous >= 0 else 0, cut)
        cut = previous
    return cut + 1 if cut >= 0 else -1


def _open_quote_end(buf: bytes, delimiter: bytes) -> int:
    """For a buffer with no record end outside quotes: -1 if it is a record whose quoted cell is
    still open (a long cell: read on); else raises Unreadable (a quote placed elsewhere). A scan
    of its quotes, one at a time (rare: only for a record longer than a block)."""
    d = delimiter[0]
    pos, inside, outside_from = 0, False, 0
    while (q := buf.find(b'"', pos)) >= 0:
        if not inside:
            if q > 0 and buf[q - 1] not in (d, 10):
                raise Unreadable(f"a quote inside a cell at byte {q:,} of a block")
            inside, pos = True, q + 1
        elif q == len(buf) - 1:
            return -1  # (a closing quote, or the first of two: the next block says)
        elif buf[q + 1:q + 2] == b'"':
            pos = q + 2
        else:
            after = buf[q + 1:q + 3]
            if after[:1] and after[:1] not in (delimiter, b"\n") and after != b"\r\n" and after != b"\r":
                raise Unreadable(f"text after a closing quote at byte {q:,} of a block")
            inside, pos = False, q + 1
            outside_from = pos
    if not inside and buf.find(b"\n", outside_from) >= 0:  # (a record end the count of quotes missed: not well placed)
        raise Unreadable("a line end the quotes do not account for")
    return -1


def _first_record_end(buf: bytes) -> int:
    """The position just after the first line end outside quotes (the header's end), or -1."""
    cut, quotes = buf.find(b"\n"), 0
    while cut >= 0:
        quotes = buf.count(b'"', 0, cut)
        if quotes % 2 == 0:
            return cut + 1
        cut = buf.find(b"\n", cut + 1)
    return -1


class Utf8Reader:
    """A file in another encoding read as UTF-8 bytes (`read` as a binary file has it): decoded
    a MiB or more at a time by the codec. Bytes it cannot read raise Unreadable: the file is
    then read row by row, each row holding such bytes in error (`readers.row_by_row`)."""

    def __init__(self, raw, encoding: str):
        self._raw, self._buf, self._eof = raw, b"", False
        self._encoding = encoding
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="surrogateescape")

    def read(self, size: int) -> bytes:
        while len(self._buf) < size and not self._eof:
            chunk = self._raw.read(max(size, 1 << 20))
            self._eof = not chunk
            text = self._decoder.decode(chunk, final=self._eof)
            try:
                self._buf += text.encode("utf-8")
            except UnicodeEncodeError:  # (a byte escaped as a lone surrogate: not in the encoding)
                raise Unreadable(f"bytes that are not {self._encoding}") from None
        out, self._buf = self._buf[:size], self._buf[size:]
        return out


def _not_blank(buf: bytes) -> bool:
    """Whether ``buf`` holds more than line ends (LF, CR LF): a lone CR is a cell's character."""
    return bool(buf.replace(b"\r\n", b"").strip(b"\n"))


LONGEST = 64 << 20  # the longest record (in UTF-8 bytes) a CSV may hold: past it, the file is refused naming its line
csv.field_size_limit(LONGEST)  # (so in the row-by-row reading: `records`)


class TooLong(Exception):
    """A record longer than `LONGEST`: the line it starts on (of the lines read), whether a quoted cell is open."""

    def __init__(self, line: int, quoted: bool = True) -> None:
        super().__init__(line)
        self.line, self.quoted = line, quoted


def too_long(path: Path | str, line: int, quoted: bool, longest: int | None = None) -> InputError:
    """The error for a record longer than the limit: the file, the record's line and the limit."""
    longest = LONGEST if longest is None else longest
    if quoted:
        said = _("a CSV whose records are at most {mib} MiB: the quoted cell of the record on line {line} runs on past "
                 "{mib} MiB (a cell that long, or a quote that never closes?)")
    else:
        said = _("a CSV whose records are at most {mib} MiB: the record on line {line} is longer")
    return InputError("INPUT", str(path), said.format(line=f"{line:,}", mib=f"{longest / (1 << 20):g}"))


def _line_of(path: Path, encoding: str, offset: int) -> int:
    """The line of the file on which the byte ``offset`` of its UTF-8 text lies (an error's path: read again)."""
    lines = 1
    with path.open("rb") as raw:
        f = raw if encoding in UTF8 else Utf8Reader(raw, encoding)
        while offset > 0 and (chunk := f.read(min(offset, 1 << 22))):
            lines += chunk.count(b"\n")
            offset -= len(chunk)
    return lines


def _read_on(f, buf: bytes, block: int, longest: int, delimiter: bytes) -> tuple[bytes, bool, int, bool]:
    """A record longer than a block: ``buf`` (from the record's start, holding no record end outside
    quotes) read on, a block at a time, until a record end outside quotes or the end of the file.
    Returns the bytes, whether the file ended, the record's length, and whether it ends inside a
    quoted cell; past ``longest`` bytes it stops (no bytes, the length so far). Each block is looked
    at once, quote to quote, so a long cell costs one pass."""
    if b'"' in buf:
        _open_quote_end(buf, delimiter)  # (its quotes well placed so far, else Unreadable: read row by row)
    inside = buf.count(b'"') % 2 == 1
    parts, size = [buf], len(buf)
    while True:
        if size > longest:
            return b"", False, size, inside
        more = f.read(block)
        if not more:
            return b"".join(parts), True, size, inside
        parts.append(more)
        size += len(more)
        pos = 0
        while True:  # (the first line end outside quotes in this block, hopping from quote to quote)
            quote = more.find(b'"', pos)
            if inside:
                if quote < 0:
                    break
                inside, pos = False, quote + 1
                continue
            end = more.find(b"\n", pos)
            if end >= 0 and (quote < 0 or end < quote):
                return b"".join(parts), False, size - len(more) + end, False
            if quote < 0:
                break
            inside, pos = True, quote + 1


def csv_blocks(path: Path, block: int = 6 << 20, longest: int | None = None, encoding: str = "utf-8",
               delimiter: str = ",", lines_above: int = 0, name: Path | None = None) -> Iterator[tuple[bytes, int]]:
    """A CSV as blocks of whole records in UTF-8 (about ``block`` bytes each), each led by the
    header line, with the bytes of the file read so far: memory stays bounded however large the
    file, and no record is cut. A file in another ``encoding`` is transcoded as it is read (as
    `transcode_csv` does, in the thread that reads). A block whose quotes are not all well placed
    raises Unreadable (the file is then read row by row); a record longer than ``longest`` bytes
    (`LONGEST`) is refused naming its line (of the user's file ``name``, where ``path`` is a copy of
    it without its ``lines_above`` title lines)."""
    longest = LONGEST if longest is None else longest

    def refused(at: int, quoted: bool) -> InputError:
        return too_long(name or path, _line_of(path, encoding, at) + lines_above, quoted, longest)

    d = delimiter.encode()
    with path.open("rb") as raw:
        f = raw if encoding in UTF8 else Utf8Reader(raw, encoding)

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
                raise refused(0, buf.count(b'"') % 2 == 1)
        header, buf, done = buf[:start], buf[start:], start
        if b'"' in header and not well_quoted(header, d):
            raise Unreadable("a quote inside a header cell")
        eof = False
        while True:
            while not eof and len(buf) < block:
                more = f.read(block - len(buf))
                eof = not more
                buf += more
            if eof:
                if b'"' in buf and not well_quoted(buf, d):
                    raise Unreadable("a quote inside a cell")
                if _not_blank(buf):  # (a line of spaces is a row: its cell holds a space)
                    yield header + buf, read_so_far(done + len(buf))
                return
            cut = _record_end(buf, len(buf))
            if cut > 0 and b'"' in buf and not well_quoted(memoryview(buf)[:cut], d):
                raise Unreadable("a quote inside a cell")
            if cut <= 0:  # one record longer than a block: read on (if its quotes are well placed so far)
                buf, eof, length, inside = _read_on(f, buf, block, longest, d)
                if length > longest:
                    raise refused(done, inside)
                continue
            if cut > 4096 or _not_blank(buf[:cut]):  # (blank lines in a big block are skipped later)
                yield b"".join((header, memoryview(buf)[:cut])), read_so_far(done + cut)
            done += cut
            buf = buf[cut:]  # the rest of a line: short


# --- rows, one at a time ------------------------------------------------------------------------

def physical_lines(f, newline: str = "\n") -> Iterator[str]:
    """A text file's lines as the CSV reads them (``f`` opened with that ``newline``), NULs left out.
    Lines end at LF (CR LF too), a lone CR kept as a character; or, in a file that holds no LF
    (``newline`` CR: as old Mac programs save them), at CR, a lone LF kept as a character. The
    character kept comes out as NUL, which `records` turns back once the cells are read
    (Python's csv reader would end the row there)."""
    for line in f:
        if "\0" in line:
            line = line.replace("\0", "")
        if newline == "\n":
            if "\r" in line:
                end = "\r\n" if line.endswith("\r\n") else "\r" if line.endswith("\r") and not line.endswith("\n") else ""
                line = line[:len(line) - len(end)].replace("\r", "\0") + end
        elif "\n" in line:
            line = line.replace("\n", "\0")
        yield line


def records(lines: Iterable[str], delimiter: str, newline: str = "\n") -> Iterator[list[str]]:
    """The CSV records of `physical_lines`, each a list of its cells (the character kept back in its cell)."""
    kept = "\r" if newline == "\n" else "\n"
    reader = csv.reader(lines, delimiter=delimiter, strict=False)
    start = 1
    try:
        for row in reader:
            yield [c.replace("\0", kept) if "\0" in c else c for c in row]
            start = reader.line_num + 1
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):  # (a cell past `LONGEST`)
            raise TooLong(start) from None
        raise
