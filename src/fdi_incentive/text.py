"""Text a user gave, made safe to show: quoted in a message at a bounded length, without the
control characters a terminal would obey, and neutralised where a spreadsheet would run it."""

from __future__ import annotations

import re
from decimal import Decimal

from .i18n import _

# A text cell a spreadsheet would run as a formula starts with one of these, after any blanks.
FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r"]
# what a spreadsheet passes over before a formula start: whitespace (NBSP and the ideographic
# space too), a byte-order mark, zero-width spaces and joiners
BLANKS = r" \t\n\r\x{b}\x{c}\x{85}\x{a0}\x{1680}\x{2000}-\x{200d}\x{2028}\x{2029}\x{202f}\x{205f}\x{2060}\x{3000}\x{feff}"
_BLANKS_PY = re.sub(r"\\x\{([0-9a-f]+)\}", lambda m: f"\\u{int(m.group(1), 16):04x}", BLANKS)
_FORMULA = re.compile(rf"[{_BLANKS_PY}]*[=+\-@\t\r]")
# (polars' regex, for a column: the same test)
FORMULA_PATTERN = rf"^[{BLANKS}]*[=+\-@\t\r]"

QUOTED_AT_MOST = 80  # characters of a bad value quoted in a message (the rest is counted, not copied)

# C0 and C1 controls (a terminal obeys ESC, CSI, OSC ...), DEL, and the marks that reorder or
# hide text (bidirectional overrides and isolates); a line end and a tab are kept
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_C1 = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def is_formula(text: str) -> bool:
    """Whether a spreadsheet would run ``text`` as a formula (a formula start, after any blanks)."""
    return _FORMULA.match(text) is not None


def neutral(text: str | None) -> str | None:
    """Text a spreadsheet would run as a formula gets a leading quote; any other is as it was."""
    return "'" + text if text is not None and is_formula(text) else text


def printable(text: str) -> str:
    """``text`` without the control characters a terminal would obey (line ends and tabs kept)."""
    return _CONTROLS.sub("", text)


def json_safe(text: str) -> str:
    """JSON text with the controls JSON leaves raw (DEL, C1, bidirectional marks) escaped as \\uXXXX."""
    return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def quoted(value: object, at_most: int = QUOTED_AT_MOST) -> str:
    """A value as a message quotes it: its repr (controls escaped), cut to ``at_most`` characters
    with how many more there were, so a 50 MB cell makes a short message."""
    if isinstance(value, Decimal):  # (a number as it is written, never the Python type around it)
        value = format(value, "f")
    if isinstance(value, str) and len(value) > at_most:
        return _("{text}… ({count} more characters)").format(text=repr(value[:at_most]), count=f"{len(value) - at_most:,}")
    text = repr(value)
    return text if len(text) <= at_most + 2 else _("{text}… ({count} more characters)").format(
        text=text[:at_most], count=f"{len(text) - at_most:,}")


def quoted_expr(text):
    """`quoted` for a polars column of text (single quotes, cut to QUOTED_AT_MOST characters)."""
    import polars as pl

    more = text.str.len_chars().cast(pl.Int64) - QUOTED_AT_MOST
    return (pl.lit("'") + text.str.slice(0, QUOTED_AT_MOST) + pl.lit("'")
            + pl.when(more > 0).then(pl.lit("… (") + more.cast(pl.String) + pl.lit(" more characters)")).otherwise(pl.lit("")))
