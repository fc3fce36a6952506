"""Exact money: parsing amounts, one named rounding step, and the text form used in every output."""

from __future__ import annotations

import decimal
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Annotated

from pydantic import PlainSerializer

from .errors import InputError
from .i18n import N_, _

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
# The rounding quanta every engine applies alike (calc's Decimals, batch's integers, the plan):
# powers of ten from the fen to ten thousand yuan. A policy may name no other.
QUANTA = tuple(Decimal(10) ** e for e in range(-2, 5))

# Where exactness ends: the bounds every path (calc, batch, plan, the API) enforces alike.
# The batch counts USD in cents in 64 bits and multiplies cents x rate x 10^8 x tier rate x 10^8
# in 128 bits: with amounts below 10^14 (10^16 cents) and rates below 10^4 (10^12 x 10^-8),
# a base (two amounts) x FX x rate stays below 2 x 10^36 < 1.7 x 10^38.
MAX_AMOUNT = Decimal(10) ** 14  # every amount, as given and converted to USD, is strictly below it
FX_RATE_DECIMALS = 8  # an exchange rate (CNY per unit) has at most this many decimals (the batch scales by 10^8)
MIN_FX_RATE = Decimal(1).scaleb(-FX_RATE_DECIMALS)  # the least rate: 0.00000001 CNY per unit
MAX_FX_RATE = Decimal(10) ** 4  # every rate is strictly below it: 10,000 CNY per unit
YEARS = range(1900, 2201)  # the calendar years a project-year may name

# A number as every path reads it: ASCII digits after NFKC (so full-width ７．１ is 7.1), an optional
# sign, point and exponent; nothing else (no inner blank, no "Infinity", no digits of other scripts).
# (written so that no text can be matched two ways: a failed match costs time linear in its length,
# where "[0-9]+\.?[0-9]*" was quadratic and a long bad cell held a batch for minutes)
NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# A year: four digits (1900-2200), as spreadsheets write it too: 2024.0 (zeros only after the point)
# and 2024年 as Chinese sheets do.
YEAR = re.compile(r"([0-9]{4})(?:\.0+)?\s*年?")
NO_FLOATS = N_("a float is refused (it cannot hold every decimal exactly): give a str, an int or a Decimal")
AMOUNT_WORDS = N_("an amount such as 15000000 or 15,000,000.00")  # (messages: `_()` them where they are used)


def _text(value: object, field: str, expected: str) -> str:
    """The text of a value, normalised (NFKC, stripped); a bool or a float is refused."""
    if isinstance(value, bool):
        raise InputError(field, value, _(expected))
    if isinstance(value, float):
        raise InputError(field, value, _("{expected}; {no_floats}").format(expected=_(expected), no_floats=_(NO_FLOATS)))
    if isinstance(value, Decimal):
        return str(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def _decimal(text: str) -> Decimal:
    """A number in the NUMBER grammar; InvalidOperation otherwise (and for an exponent no context holds)."""
    if not NUMBER.fullmatch(text):
        raise InvalidOperation
    value = Decimal(text)
    if not value.is_finite() or abs(value.adjusted()) > 10_000:
        raise InvalidOperation  # (1e999999: past every bound, refused before any arithmetic)
    return value


def parse_amount(value: object, field: str, *, scale: Decimal = Decimal(1)) -> Decimal:
    """A non-negative amount to the cent ('15000000', '15,000,000.00', 15_000_000), times ``scale``,
    below MAX_AMOUNT."""
    text = _text(value, field, AMOUNT_WORDS)
    if any(sep in text for sep in GROUPING) and not GROUPED.fullmatch(text):
        # a comma, underscore or space only groups thousands: 15000000,50 is not fifteen million
        raise InputError(field, value, _("an amount such as 15000000 or 15,000,000.00 (a comma groups thousands; "
                                         "decimals follow a point)"))
    for sep in GROUPING:
        text = text.replace(sep, "")
    try:
        with decimal.localcontext(EXACT):
            amount = _decimal(text) * scale
    except (InvalidOperation, decimal.Overflow):
        raise InputError(field, value, _(AMOUNT_WORDS)) from None
    if amount < 0:
        raise InputError(field, value, _("an amount of zero or more"))
    if amount >= MAX_AMOUNT:
        raise InputError(field, value, _("an amount below {most}").format(most=money_fmt(MAX_AMOUNT)))
    with decimal.localcontext(EXACT):
        if amount != amount.quantize(CENT, decimal.ROUND_DOWN):
            raise InputError(field, value, _("an amount to the cent (at most two decimal places)"))
    return amount + 0  # normalise -0


def parse_rate(value: object, field: str = "fx_rate", *, what: str = N_("a positive number of CNY per unit, such as 7.1"),
               below: Decimal = MAX_FX_RATE) -> Decimal:
    """A rate: at least MIN_FX_RATE, below ``below``, at most FX_RATE_DECIMALS decimals (by value:
    7.100000000 is 7.1). No rate needs its thousands grouped, so a comma is refused: 7,2 is a decimal
    comma and must not be read as 72; nor is a blank inside (7 1)."""
    text = _text(value, field, what)
    try:
        rate = _decimal(text)
    except InvalidOperation:
        raise InputError(field, value, _(what)) from None
    if rate <= 0:
        raise InputError(field, value, _(what))
    if rate >= below:
        raise InputError(field, value, _("a rate below {most}").format(most=rate_str(below)))
    if rate != rate.quantize(MIN_FX_RATE, decimal.ROUND_DOWN, context=EXACT):
        raise InputError(field, value, _("a rate of at least {least}, with at most {decimals} decimals").format(
            least=rate_str(MIN_FX_RATE), decimals=FX_RATE_DECIMALS))
    return rate


def converted_too_large(field: str) -> str:
    """The error of an amount that, converted to USD, is not below MAX_AMOUNT (calc's and batch's words)."""
    return _("{field}: converted to USD at the rates used, not below USD {most}; expected a smaller amount or rate").format(
        field=field, most=money_fmt(MAX_AMOUNT))


def parse_year(value: object, field: str = "year") -> int:
    """A calendar year: 2024, 2024.0 or 2024年, from 1900 to 2200."""
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    else:
        text = _text(value, field, N_("a calendar year such as 2024"))
    if not text:
        raise InputError(field, value, _("a calendar year such as 2024"))
    found = YEAR.fullmatch(text)
    if found is None:
        raise InputError(field, value, _("a calendar year such as 2024 (or 2024年)"))
    year = int(found.group(1))
    if year not in YEARS:
        raise InputError(field, value, _("a year from {first} to {last}").format(first=YEARS.start, last=YEARS.stop - 1))
    return year


_YES = {"true", "1", "yes", "y", "是", "有"}
_NO = {"false", "0", "no", "n", "否", "无", ""}


def parse_flag(value: object, field: str) -> bool:
    """A yes or no: true/false, 1/0, yes/no, 是/否 (an empty cell is no)."""
    if isinstance(value, bool):
        return value
    text = "" if value is None else str(value).strip().lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise InputError(field, value, _("yes or no: true/false, 1/0, yes/no, 是/否"))


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
    """Money for people: thousands separators, at least two decimals, the sign of a negative value
    kept (-0.07; a zero has none)."""
    text = money_str(value)
    sign = "-" if text.startswith("-") and value != 0 else ""
    whole, _, frac = text.lstrip("-").partition(".")
    out = f"{sign}{int(whole):,}.{frac}"
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
