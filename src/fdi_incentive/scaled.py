"""Integers of money and rates for the columnar engines (polars): an amount as whole USD cents, a rate
as a whole count of 10^-8, their products in 128 bits; and text as polars writes it in a CSV field.

Below the engines and the file writers (beside money.py, whose bounds these are): frame.py scores with
them, ledger.py adds a ledger's arrivals up with them, io/writers.py quotes a header with `csv_field`.
"""

import decimal
from decimal import Decimal

import polars as pl

from .errors import InputError, PolicyError
from .i18n import _
from .money import EXACT, FX_RATE_DECIMALS, MAX_AMOUNT

__all__ = ["FX_DECIMALS", "E8", "MAX_AMOUNT", "MAX_CENTS", "CNY_SCALE", "GROSS_SCALE", "I128", "CSV_SPECIAL",
           "unit_digits", "csv_field", "csv_field_expr", "decimal_text", "decimal_value", "round_div"]

FX_DECIMALS = FX_RATE_DECIMALS  # (the bounds are money.py's: every amount below MAX_AMOUNT, rates as money.parse_rate reads them)
E8 = 10**FX_DECIMALS
MAX_CENTS = int(MAX_AMOUNT.scaleb(2))  # an amount converted to USD cents must stay below it
CNY_SCALE = 2 + FX_DECIMALS  # base in CNY: USD cents x CNY-per-USD x 10^8
GROSS_SCALE = CNY_SCALE + FX_DECIMALS  # times the rate x 10^8
I128 = pl.Int128


def unit_digits(unit: Decimal) -> int:
    """--unit as a power of ten: 1 -> 0, 10000 -> 4, 1000000 -> 6."""
    digits = len(str(int(unit))) - 1
    if unit != Decimal(10) ** digits:
        raise InputError("--unit", str(unit), _("1, 10k or 1m"))
    return digits


CSV_SPECIAL = [",", '"', "\n", "\r"]  # what makes polars quote a CSV field (and an empty text)


def csv_field(text: str | None) -> str | None:
    """Text as polars writes it as one CSV field (quote style "necessary"): quoted where it holds a
    comma, a quote or a line end, or is empty. Pre-quoted text is written with quote style "never"."""
    if text is None or (text and not any(ch in text for ch in CSV_SPECIAL)):
        return text
    return '"' + text.replace('"', '""') + '"'


def csv_field_expr(text: pl.Expr) -> pl.Expr:
    """`csv_field` for a column."""
    quoted = pl.lit('"') + text.str.replace_all('"', '""', literal=True) + pl.lit('"')
    return pl.when(text.str.contains_any(CSV_SPECIAL) | (text == "")).then(quoted).otherwise(text)


def decimal_text(value: pl.Expr, scale: int, least: int = 2) -> pl.Expr:
    """A non-negative integer count of 10^-scale as text with at least ``least`` decimals (money:
    two; a rate as `rate_str` writes it: none), never rounded.

    (polars writes a Decimal with all its scale's digits; trailing zeros past the least go.)
    """
    def as_decimal(v: pl.Expr, s: int) -> pl.Expr:
        unit = pl.lit(f"{Decimal(1).scaleb(-s):f}").cast(pl.Decimal(38, s))  # (a Decimal literal would import numpy)
        return (v.cast(pl.Decimal(38, 0)) * unit).cast(pl.Decimal(38, s)).cast(pl.String)

    if least == 0:
        return as_decimal(value, scale).str.strip_chars_end("0").str.strip_chars_end(".")
    if scale <= least:
        return as_decimal(value * (10 ** (least - scale)) if scale < least else value, least)
    text = as_decimal(value, scale)
    # trailing zeros go, then back to the least decimals: the whole part is len - scale - 1 long
    return text.str.strip_chars_end("0").str.pad_end(text.str.len_bytes() - (scale - least), "0")


def decimal_value(value: pl.Expr, scale: int, least: int = 2) -> pl.Expr:
    """`decimal_text`'s number as a Decimal with ``max(scale, least)`` decimals, for a typed output (exact)."""
    if scale < least:
        value, scale = value * (10 ** (least - scale)), least
    unit = pl.lit(f"{Decimal(1).scaleb(-scale):f}").cast(pl.Decimal(38, scale))
    return (value.cast(pl.Decimal(38, 0)) * unit).cast(pl.Decimal(38, scale))


def round_div(num: pl.Expr, den: pl.Expr | int, mode: str) -> pl.Expr:
    """Integer division of non-negative integers, rounded as a policy says."""
    den = pl.lit(den, dtype=I128) if isinstance(den, int) else den
    if mode == "half_up":
        return (num * 2 + den) // (den * 2)
    if mode == "down":
        return num // den
    if mode == "up":
        return (num + den - 1) // den
    q, r = num // den, num % den
    return pl.when(r * 2 > den).then(q + 1).when(r * 2 < den).then(q).otherwise(q + q % 2)


def _units(amount: Decimal, scale: int, comparator: str) -> int:
    """The least whole count of 10^-scale that passes `amount` with `comparator` (gt or ge)."""
    with decimal.localcontext(EXACT):
        scaled = amount.scaleb(scale)
        whole = int(scaled.to_integral_value(decimal.ROUND_FLOOR))
        if comparator == "gt":
            return whole + 1
        return whole if whole == scaled else whole + 1


def _scale_of(quantum: Decimal) -> int:
    exp = quantum.normalize().as_tuple().exponent
    if quantum.normalize() != Decimal(1).scaleb(exp):  # type: ignore[arg-type]
        raise PolicyError(_("rounding: the batch engine needs a power of ten as quantum, not {quantum}").format(quantum=quantum))
    return -int(exp)  # type: ignore[arg-type]  (negative for tens of yuan and coarser)


def _zeros(n: int) -> int:
    """How many zeros a positive integer ends in."""
    text = str(n)
    return len(text) - len(text.rstrip("0"))


def _e8(rate: Decimal) -> int | None:
    """A rate as a whole count of 10^-8, or None when it has more decimals than that."""
    scaled = rate.scaleb(FX_DECIMALS)
    return int(scaled) if scaled == scaled.to_integral_value() else None
