"""A total row (合计, 总计, 小计, Total), in a file of project-years or a ledger of arrivals: the words
that mark it, how a row is told to be one, whether it adds up every row above it or only those since
the previous total row, and the check of its amounts that the summary reports.

Below the scorer (frame.py), the ledger (ledger_totals.py) and the summary, which all use it.
"""

import polars as pl
from pydantic import BaseModel, Field

from .io.columns import named
from .money import Money

TOTAL_WORDS = ["合计", "总计", "小计", "Total"]  # the project id or first cell of a total row (see `total_rows`)


def total_rows(columns: list[str]) -> pl.Expr:
    """A total row: its cell in one of ``columns`` (a project id, a first column) is 合计, 总计, 小计 or
    Total (spaces and a colon aside). The scorer's test (`Cells._is_total`) and a ledger's (`ledger_totals`)."""
    if not columns:
        return pl.lit(False)
    words = [w.casefold() for w in TOTAL_WORDS]
    return pl.any_horizontal([
        named(c).cast(pl.String).str.replace_many([" ", "\u3000", "\t", ":", "："], [""] * 5).str.to_lowercase()
        .is_in(words).fill_null(False)
        for c in columns])


def total_word(label: str) -> str:
    """A total row's word as it is compared: 合计, 总计, 小计, total."""
    return "".join(label.split()).rstrip(":：").casefold()


def is_subtotal(word: str, data_follows: bool) -> bool:
    """Whether a total row adds up only the rows since the previous total row (小计, and a 合计 data
    rows follow), not every row above it (总计, Total, a 合计 that ends the data)."""
    return word == "小计" or (word == "合计" and data_follows)


class AmountCheck(BaseModel):
    total: Money | None = Field(description="the total row's amount (at the column's unit: in currency units), None if empty or unreadable")
    rows_above: Money = Field(description="the sum of the data rows above it (a subtotal's: since the previous total row)")
    rows: int = Field(description="the rows added up")
    unreadable: int = Field(description="rows above whose amount could not be read (left out of the sum)")
    equal: bool | None = Field(description="whether the total equals the sum; None when the total row has no amount")
    unit: int = Field(1, description="how many currency units one of the column's is (10000 for 万美元 or --unit 10k): "
                                     "the sheet writes the amounts divided by it")


class TotalCheck(BaseModel):
    """A total row (合计, Total): kept, not scored, its amounts checked against the rows above it
    (a grand total: 总计, Total, a 合计 that ends the data; a subtotal: 小计, a 合计 data rows follow)."""

    row: int = Field(description="data row number, 1 = the first row after the header")
    line: str | None = Field(None, description="where the analyst finds it: 'line 6' of a CSV, \"sheet 'Sheet1' row 6\"")
    label: str = Field(description="what the row calls itself: 合计, 总计, 小计, Total")
    checks: dict[str, AmountCheck] = Field(description="amount column -> the check")
