"""Exact money: parsing amounts, one named rounding step, and the text form used in every output."""

from __future__ import annotations

import decimal
import re
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import PlainSerializer

from .errors import InputError

ROUNDING_MODES = {
    "half_up": decimal.ROUND_HALF_UP,
    "half_even": decimal.ROUND_HALF_EVEN,
    "down": decimal.ROUND_DOWN,
    "up": decimal.ROUND_UP,
}
CENT = Decimal("0.01")
GROUPING = (",", "_", " ")  # what may group an amount's thousands
GROUPED_PATTERN = r"[+-]?[0-9]{1,3}(?:[,_ ][0-9]{3})*(?:\.[0-9]*)?"  # how they group it (the whole text)
GROUPED = re.compile(GROUPED_PATTERN)
# Working precision for the engine, used through ``decimal.localcontext(EXACT)``:
# far more digits than any amount times any rate needs, so products are exact and
# only the named rounding step ever rounds. The caller's own context is untouched.
EXACT = decimal.Context(prec=80, rounding=decimal.ROUND_HALF_EVEN, traps=[InvalidOperation, decimal.Overflow])
MAX_AMOUNT = Decimal(10**14)
FX_RATE_DECIMALS = 8
# The rounding quanta every engine applies alike (calc's Decimals, batch's integers, the plan):
# powers of ten from the fen to ten thousand yuan. A policy may name no other.
QUANTA = tuple(Decimal(10) ** e for e in range(-2, 5))


def parse_amount(value: object, field: str, *, scale: Decimal = Decimal(1)) -> Decimal:
    """A non-negative amount to the cent ('15000000', '15,000,000.00', 15_000_000), times ``scale``."""
    if isinstance(value, bool):
        raise InputError(field, value, "an amount such as 15000000 or 15,000,000.00")
    if isinstance(value, float):
        value = repr(value)
    text = str(value).strip()
    if any(sep in text for sep in GROUPING) and not GROUPED.fullmatch(text):
        # a comma, underscore or space only groups thousands: 15000000,50 is not fifteen million
        raise InputError(field, value, "an amount such as 15000000 or 15,000,000.00 (a comma groups thousands; "
                                       "decimals follow a point)")
    for sep in GROUPING:
        text = text.replace(sep, "")
    try:
        with decimal.localcontext(EXACT):
            amount = Decimal(text) * scale
    except (InvalidOperation, decimal.Overflow):
        raise InputError(field, value, "an amount such as 15000000 or 15,000,000.00") from None
    if not amount.is_finite():
        raise InputError(field, value, "a finite amount")
    if amount < 0:
        raise InputError(field, value, "an amount of zero or more")
    try:
        with decimal.localcontext(EXACT):
            to_the_cent = amount == amount.quantize(CENT, decimal.ROUND_DOWN)
    except decimal.InvalidOperation:  # more digits than any amount has (1e400)
        raise InputError(field, value, "an amount such as 15000000 or 15,000,000.00") from None
    if not to_the_cent:
        raise InputError(field, value, "an amount to the cent (at most two decimal places)")
    return amount + 0  # normalise -0


def round_money(value: Decimal, quantum: Decimal, mode: str) -> Decimal:
    """The one rounding step, to a multiple of ``quantum`` (one of `QUANTA`), in the mode a policy
    names; written to the fen. (``quantize`` alone would take "100" as a quantum of one yuan: its
    exponent is 0.)"""
    step = quantum.normalize()
    rounded = value.quantize(step, ROUNDING_MODES[mode])
    return rounded.quantize(CENT) if step >= CENT else rounded


def money_str(value: Decimal) -> str:
    """Money as text: at least two decimals, never scientific notation, never rounded."""
    with decimal.localcontext(EXACT):  # (normalize rounds to the context's precision: 28 digits by default)
        if value == value.quantize(CENT):
            return f"{value:.2f}"
        return format(value.normalize(), "f")


def rate_str(value: Decimal) -> str:
    """A rate or FX rate as plain decimal text ('0.02', '7.1')."""
    with decimal.localcontext(EXACT):
        return format(value.normalize(), "f")


def money_fmt(value: Decimal, currency: str = "") -> str:
    """Money for people: thousands separators, at least two decimals."""
    text = money_str(value)
    whole, _, frac = text.partition(".")
    out = f"{int(whole):,}.{frac}"
    return f"{currency} {out}" if currency else out


def usd(amount: Decimal) -> str:
    return money_fmt(amount, "USD")


def cny(amount: Decimal) -> str:
    return money_fmt(amount, "CNY")


def percent_fmt(rate: Decimal) -> str:
    return format((rate * 100).normalize(), "f") + "%"


# money and rates in the pydantic models: Decimals in Python, exact decimal text in JSON (never floats)
Money = Annotated[Decimal, PlainSerializer(money_str, return_type=str, when_used="json")]
Rate = Annotated[Decimal, PlainSerializer(rate_str, return_type=str, when_used="json")]
