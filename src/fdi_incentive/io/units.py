"""Units named in a header: 实际到位外资（万美元）, 利润再投资（万元）, paid_in (USD 10k).

Chinese sheets put an amount's unit in its column's header, in full- or half-width brackets.
The header is matched with its unit taken off, and the column is read in that unit.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from ..errors import InputError
from ..i18n import _
from ..text import quoted

# a unit is a currency and a scale, in either order (万美元, 人民币万元, 万元人民币, USD 10k, 1k CNY):
# the currency's words, and the scale's (after `_unit_key`) -> how many of the currency one unit is
CURRENCY_WORDS: dict[str, str] = {"美元": "USD", "usd": "USD", "us$": "USD", "$": "USD",
                                  "元": "CNY", "人民币": "CNY", "人民币元": "CNY", "元人民币": "CNY", "cny": "CNY", "rmb": "CNY"}
SCALE_WORDS: dict[str, int] = {
    "": 1, "1": 1,
    "千": 10**3, "k": 10**3, "1k": 10**3, "thousand": 10**3, "thousands": 10**3, "1000": 10**3, "000": 10**3,
    "万": 10**4, "10k": 10**4, "10000": 10**4, "tenthousand": 10**4, "10thousand": 10**4,
    "百万": 10**6, "m": 10**6, "mn": 10**6, "mm": 10**6, "million": 10**6, "millions": 10**6, "1m": 10**6, "1mn": 10**6,
    "1million": 10**6, "1000000": 10**6,
    "亿": 10**8, "100m": 10**8, "100mn": 10**8, "100million": 10**8, "100000000": 10**8,
}
# the spellings README names, for a message
KNOWN_UNITS = "万, 百万, 亿, 千; USD, CNY, RMB, 美元, 元, 人民币"


_UNIT_SAID = re.compile(r"^(?:单位|units?|in)[:]?")  # 单位：万元, unit: USD 10k, in USD m


def read_unit(words: str) -> tuple[str, int] | None:
    """(currency, scale) of a unit as a header writes it, or None: a currency and a scale in either
    order (千元, 万人民币, 人民币千元, 万元人民币, CNY 1k, 10k USD, USD million), after 单位： or unit: if
    the header says so."""
    key = _UNIT_SAID.sub("", _unit_key(words))
    if key in CURRENCY_WORDS:
        return CURRENCY_WORDS[key], 1
    for word, currency in sorted(CURRENCY_WORDS.items(), key=lambda w: -len(w[0])):
        if key.endswith(word) and key[:-len(word)] in SCALE_WORDS:
            return currency, SCALE_WORDS[key[:-len(word)]]
        if key.startswith(word) and key[len(word):] in SCALE_WORDS:
            return currency, SCALE_WORDS[key[len(word):]]
    if key.startswith("人民币") and key.endswith("元") and key[3:-1] in SCALE_WORDS:  # 人民币万元
        return "CNY", SCALE_WORDS[key[3:-1]]
    return None


# what the amount columns are in (a header naming another currency contradicts the column)
COLUMN_CURRENCY = {"paid_in_usd": "USD", "shareholder_loans_usd": "USD", "reinvested_profit": "CNY"}
_BRACKETED = re.compile(r"^(.*?)\s*[(\[【]\s*([^()\[\]【】]+?)\s*[)\]】]\s*$")


@dataclass(frozen=True)
class HeaderUnit:
    """An amount column's unit, as its header names it."""

    column: str  # the header as the file has it
    words: str  # the unit as the header writes it: 万美元, USD 10k
    currency: str
    scale: int  # of the currency: 10000 for 万美元

    def describe(self) -> str:
        times = f" × {self.scale:,}" if self.scale != 1 else ""
        return _("{currency}{times} ({words}, from the header)").format(currency=self.currency, times=times, words=self.words)


def _unit_key(words: str) -> str:
    return re.sub(r"[\s_\-'’,]+", "", unicodedata.normalize("NFKC", words).lower())


def bracketed(header: str) -> tuple[str, str] | None:
    """A header ending in a bracketed text (实际到位外资（万美元）, paid_in (USD 10k)): the name before
    it and the text; None for a header with no such ending. Full- and half-width brackets alike."""
    m = _BRACKETED.match(unicodedata.normalize("NFKC", str(header)).strip())
    return (m.group(1), m.group(2)) if m and m.group(1) else None


def split_unit(header: str) -> tuple[str, tuple[str, str, int] | None]:
    """A header without its bracketed unit, and the unit (words, currency, scale); the header
    unchanged and None when it ends in no unit we know (`read_unit`)."""
    found = bracketed(header)
    unit = read_unit(found[1]) if found else None
    if unit is None:
        return str(header), None
    return found[0], (found[1], *unit)


def header_units(columns: list[str], mapping: dict[str, str], map_columns) -> dict[str, HeaderUnit]:
    """The units the headers name, by canonical column; ``mapping`` (canonical -> column) gains the
    columns matched once their unit is taken off (实际到位外资（万美元） -> paid_in_usd).
    ``map_columns`` is the reader's matcher (headers -> canonical)."""
    units: dict[str, HeaderUnit] = {}
    for col in columns:
        base, unit = split_unit(col)
        if unit is None:
            continue
        canon = next((c for c, name in mapping.items() if name == col), None)
        if canon is None:
            canon = next(iter(map_columns([base])), None)
            if canon is None or canon in mapping:
                continue
            mapping[canon] = col
        if canon not in ("paid_in_usd", "paid_in", "shareholder_loans_usd", "reinvested_profit", "amount"):
            continue
        words, currency, scale = unit
        units[canon] = HeaderUnit(col, words, currency, scale)
    return units


SPELT = {1: "1", 10**4: "10k", 10**6: "1m"}  # --unit as it is written, for a unit given without its text


def check_units(units: dict[str, HeaderUnit], option_unit: Decimal | None, currencies: set[str],
                typed: str | None = None) -> None:
    """A header's unit against --unit (when given; ``typed``: as the user typed it) and against the
    currency its column is in (``currencies``: the canonical currency columns the file has, which decide instead)."""
    for canon, u in units.items():
        if option_unit is not None and Decimal(u.scale) != option_unit:
            said = typed if typed is not None else SPELT.get(int(option_unit), f"{int(option_unit):,}")
            raise InputError("--unit", said, _("the unit the header {header} names ({words}: {scale}), or no --unit: the header says how the column is written").format(
                                 header=repr(u.column), words=u.words, scale=f"{u.scale:,}"))
        per_row = ROW_CURRENCY.get(canon)  # (its currency column absent: every row is in its default)
        fixed = COLUMN_CURRENCY.get(canon) or (per_row[1] if per_row else None)
        if fixed and u.currency != fixed and not (per_row and per_row[0] in currencies):
            raise InputError("INPUT", u.column, _("a unit in {currency}").format(currency=fixed), _("{field}: {value} is not valid; expected a unit in {currency} for {column} "
                                                      "({words} is {unit})").format(
                field="INPUT", value=quoted(u.column), currency=fixed, column=canon, words=u.words, unit=u.currency))


# an amount whose currency each row's currency cell gives (empty: the default), and that column
ROW_CURRENCY = {"paid_in": ("currency", "USD"), "amount": ("currency", "USD"),
                "reinvested_profit": ("reinvested_profit_currency", "CNY")}


def check_row_currencies(mapping: dict[str, str], df, before: int) -> None:
    """A header unit naming a currency (paid_in（万元）) on an amount whose currency is each row's
    currency cell: the first row whose cell names another currency stops the run (the header
    contradicts it), as a unit contradicting a USD column does. ``before``: the rows read so far."""
    import polars as pl

    for canon, (cur, default) in ROW_CURRENCY.items():
        if canon not in mapping or cur not in mapping:
            continue
        _base, unit = split_unit(mapping[canon])
        if unit is None:
            continue
        words, currency, _scale = unit
        cells = pl.col(mapping[cur]).cast(pl.String).str.strip_chars().str.to_uppercase()
        said = pl.when(cells.is_null() | (cells == "")).then(pl.lit(default)).otherwise(cells)
        # (a cell that is no currency code is that row's own error, said by the scorer)
        bad = df.with_row_index("__n", offset=before + 1).filter(said.str.contains(r"^[A-Z]{3}$") & (said != currency)).head(1)
        if bad.height:
            raise InputError("INPUT", mapping[canon], _("a unit in {currency}").format(currency=currency), _(
                "{field}: {value} is not valid; expected a unit in the currency of every row's {column}: row {row} says {cell}, "
                "the header {words} ({unit}); give the amounts of other currencies in a column without a unit").format(
                field="INPUT", value=quoted(mapping[canon]), column=mapping[cur], row=bad["__n"][0],
                cell=repr(str(bad[mapping[cur]][0]).strip() or default), words=words, unit=currency))
