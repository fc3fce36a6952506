"""A ledger's total rows (合计, 总计, 小计, Total), as a file of project-years has them: kept in the
output as rows of their own, marked and not scored by the scorer (which knows them by their
project id), and each checked here against the amounts of the arrivals above it, as the sheet
writes them: a grand total (总计, Total, a 合计 no arrival follows) against every arrival above,
a subtotal (小计, a 合计 arrivals follow) against those since the previous total row."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from .io.columns import named

if TYPE_CHECKING:
    import polars as pl


def is_total(columns: list[str]) -> pl.Expr:
    """A row whose cell in one of ``columns`` names a total: the scorer's own test (`totals.total_rows`)."""
    from .totals import total_rows

    return total_rows(columns)


class LedgerTotals:
    """The total rows met so far, each with the sums of the arrivals above it (cents at the ledger's unit)."""

    def __init__(self) -> None:
        self.found: list[tuple[int, str, int | None, list[int], list[int]]] = []  # line, label, total, run, group
        self.run = [0, 0, 0]  # the arrivals' amounts so far: sum, amounts read, amounts that could not be read
        self.at_total = [0, 0, 0]  # the same at the last total row
        self.last_arrival = 0  # the line of the last arrival (a 合计 an arrival follows is a subtotal)

    def add(self, a: pl.DataFrame) -> None:
        """A chunk's rows (``__line``, ``__total``, ``__label``, ``__amount``: the cell, ``__cents``: its
        amount, null where it cannot be read), in file order."""
        import polars as pl

        data, cents = ~pl.col("__total"), pl.col("__cents").cast(pl.Int128)
        parts = [pl.when(data).then(cents).fill_null(0), (data & cents.is_not_null()).cast(pl.Int64),
                 (data & cents.is_null() & pl.col("__amount").is_not_null()).cast(pl.Int64)]
        if a.height and a["__total"].any():
            at = (a.select("__line", "__total", "__label", cents.alias("__t"), *(p.cum_sum().alias(f"__c{j}") for j, p in enumerate(parts)))
                  .filter("__total"))
            for line, _, label, total, *sums in at.iter_rows():
                run = [r + int(s) for r, s in zip(self.run, sums)]
                self.found.append((line, label, None if total is None else int(total), run,
                                   [r - t for r, t in zip(run, self.at_total)]))
                self.at_total = run
        if a.height:
            sums = a.select(p.sum().alias(f"__s{j}") for j, p in enumerate(parts)).row(0)
            self.run = [r + int(s) for r, s in zip(self.run, sums)]
            last = a.filter(data)["__line"].max()
            self.last_arrival = max(self.last_arrival, last or 0)

    def checks(self, column: str, unit: Decimal) -> list[tuple[int, dict]]:
        """Each total row's line and its check of ``column`` (`totals.AmountCheck`), grand or subtotal."""
        from .totals import AmountCheck, is_subtotal, total_word

        out = []
        for line, label, total, run, group in self.found:
            sums = group if is_subtotal(total_word(label), self.last_arrival > line) else run
            out.append((line, {column: AmountCheck(
                total=None if total is None else Decimal(total).scaleb(-2), rows_above=Decimal(sums[0]).scaleb(-2),
                rows=sums[1], unreadable=sums[2], equal=None if total is None else total == sums[0], unit=int(unit))}))
        return out


def label_of(project_id: str, first: str) -> pl.Expr:
    """What a total row calls itself: its project id where that names a total, else its first cell."""
    import polars as pl

    def text(column: str) -> pl.Expr:
        return named(column).cast(pl.String).str.strip_chars()

    return pl.when(is_total([project_id])).then(text(project_id)).otherwise(text(first))
