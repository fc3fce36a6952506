"""JSON Lines in: each line an object, converted to a UTF-8 CSV the columnar engine scans.

Numbers are kept as the text they were written as, so amounts stay exact. A line that is not an
object, or names a key twice, is that row's error (every other row still read); a key a line
does not give is an empty cell of that row, never a disagreement with a column naming the same
thing in other lines (`Source.blank_is_absent`)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from ..i18n import N_, get_language
from ..language import said_both
from . import csvfile
from .headers import map_columns, unique
from .source import PARSE_ERROR, Note, Source, temp_file

LINE_TOO_LONG = N_("line {line} is longer than {mib} MiB, the longest record read")
KEY_TWICE = N_("line {line}: the key {key} is given more than once ({values}); give each key once")


class _Object(dict):
    """A JSON object, with the keys it gave more than once and their values."""

    twice: dict[str, list[object]]


def _pairs(items: list[tuple[str, object]]) -> _Object:
    obj = _Object(items)
    obj.twice = {}
    if len(obj) != len(items):
        for key, value in items:
            obj.twice.setdefault(key, []).append(value)
        obj.twice = {k: v for k, v in obj.twice.items() if len(v) > 1}
    return obj


def from_jsonl(path: Path) -> Source:
    """One pass, a line at a time (memory does not grow with the file): each record is written
    with the keys met so far, a key first met later adds a column at the end (earlier rows are
    read with it empty), and the header goes in front at the end."""
    keys: dict[str, None] = {}
    shown: dict[str, str] = {}
    body = temp_file(".csv")
    with path.open(encoding="utf-8-sig", errors="replace") as f, body.open("w", encoding="utf-8", newline="") as b:
        writer = csv.writer(b, lineterminator="\r\n")  # \r\n: a cell holding \r or \n gets quoted
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            if len(line) > csvfile.LONGEST:  # (its cells would make a CSV record past the limit: that row's error, the file read on)
                writer.writerow([said_both(shown, get_language(), LINE_TOO_LONG, line=n, mib=f"{csvfile.LONGEST / (1 << 20):g}")])
                continue
            try:
                obj = json.loads(line, parse_float=str, parse_int=str, object_pairs_hook=_pairs)
                if not isinstance(obj, dict):
                    raise ValueError("not an object")
                keys.update(dict.fromkeys(obj))
                twice = getattr(obj, "twice", {})
                cells = [_json_cell(obj.get(k)) if k not in twice else "" for k in keys]
            except ValueError as exc:
                writer.writerow([f"line {n} is not a JSON object ({exc})"])
                continue
            except RecursionError:
                writer.writerow([f"line {n} is not a JSON object fdi can read (nested too deeply)"])
                continue
            error = "; ".join(said_both(shown, get_language(), KEY_TWICE, line=n, key=repr(k),
                                        values=", ".join(_json_cell(v)[:40] for v in values))
                              for k, values in twice.items())
            writer.writerow([error, *cells])
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
                  conversions=(Note.of("JSON Lines"),), temp_files=[out], shown=shown, blank_is_absent=True)


def _json_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
