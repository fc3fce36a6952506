"""What a scored batch is: the result columns, the columns a reader or the ledger adds and nobody
sees, the summary's keys, the total rows' words, and `Scored`, one batch's rows and counts.

Shared by the scorer (frame.py and its parts) and the modules that read its batches (batch.py, summary.py).
"""

from dataclasses import dataclass, field

import polars as pl

from .i18n import N_
from .io.readers import PARSE_ERROR  # a reader's per-row error (a ragged line, a line that is not JSON)
from .text import FORMULA_STARTS
from .totals import TOTAL_WORDS, total_rows  # noqa: F401 (the scorer's, from here too)

RESULT_COLUMNS = [
    "policy", "policy_status", "eligible", "tier", "rate", "base_usd", "fx_rate", "fx_source", "base_cny", "gross_cny",
    "capped", "incentive_cny", "reason", "error",
]
LEDGER_ERROR = "__ledger_error"  # a ledger project-year's error (an arrival that cannot be read)
# what a reader or the ledger adds to the input's columns, never shown (a column of the user's own is, whatever its name)
# a ledger's project-year: its CNY at the arrivals' own rates (x 10^10), its rate (x 10^8, and as text) and source
HIDDEN = {PARSE_ERROR, LEDGER_ERROR, "__equity_cny", "__profit_cny", "__fx_rate_e8", "__fx_rate_text", "__fx_source_text"}
SUMMARY_KEYS = ("__tier", "__class", "__year", "__policy", "__source")
ROW_RATE_SOURCE = N_("fx_rate column")  # the source stated for a row's own fx_rate
AS_PATTERN = {"=": "=", "+": r"\+", "-": r"\-", "@": "@", "\t": r"\t", "\r": r"\r"}  # a formula start in a regex
AFTER_BLANKS = "after blanks"  # in a list of starts: a start may follow blanks in a cell
ALL_STARTS = [*FORMULA_STARTS, AFTER_BLANKS]
# the bytes the blanks of text.BLANKS begin with (in UTF-8; a line holds no line end): one byte each, as
# a search for one byte is ~50 times faster than for two (a block without them needs no search by pattern)
BLANK_HINTS = (b" ", b"\t", b"\x0b", b"\x0c", b"\xc2", b"\xe1", b"\xe2", b"\xe3", b"\xef")
LINE = "__line"  # the input record's own text, in a batch scored for CSV from its lines
TOTAL_REASON = "total row: not scored; its amounts are checked against the rows above (see the summary)"



@dataclass
class Scored:
    """One batch scored: its rows (input columns, then results), the summary's counts grouped by
    `SUMMARY_KEYS` (name them with `Scorer.label`), which rows are errors and their messages, the
    scale of the grouped incentive sums (10^-scale yuan), and the FX sources that rows state
    themselves (a ledger's project-years, each at its arrivals' rates).

    ``csv_ready``: the rows are CSV text already (the input record as it was, then the results,
    each quoted where CSV needs it): write them with quote style "never".
    """

    rows: pl.DataFrame
    groups: pl.DataFrame
    is_error: pl.Series
    errors: pl.Series
    scale: int
    csv_ready: bool = False
    own_sources: list[str] = field(default_factory=list)
    totals: pl.DataFrame | None = None  # the batch's total rows: `_i` (row), the cell named, amounts and sums above
    amounts: dict[str, int | None] = field(default_factory=dict)  # per amount column: sum, max, rows read, unreadable


def formula_starts(text: bytes, start: int = 0) -> list[str]:
    """The characters of `FORMULA_STARTS` that occur in ``text`` from ``start`` on: a cell of it
    can begin with no other; and AFTER_BLANKS where one may follow blanks (the text holds a byte
    a blank begins with). (A search for a byte is ~0.1 ms per 6 MiB; a search of every record
    for a comma and each of them, ~15 ms; for a start after blanks, by a pattern, as much again.)"""
    found = [c for c in FORMULA_STARTS if text.find(c.encode(), start) != -1]
    if found and any(text.find(hint, start) != -1 for hint in BLANK_HINTS):
        found.append(AFTER_BLANKS)
    return found
