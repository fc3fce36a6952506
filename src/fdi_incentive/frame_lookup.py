"""Answers for the distinct values of a column, computed once each and gathered back to the rows (polars).

The scorer (frame.py) keeps one `Lookup` per repeating cell (year, kind, sector, code, FX rate,
currency) and per combination of them; `dense_lookup` finds a row's answer from a key of small
integer indexes.
"""

from collections.abc import Callable, Hashable

import polars as pl

from .scaled import csv_field

DENSE_AT_MOST = 1 << 16  # a pair of small indexes is looked up in a table of all pairs up to this size (else by hash)


class Lookup:
    """Answers for the distinct values of a key, computed once each and kept across batches.

    ``compute`` returns a dict with every name of ``fields``; rows get an index into the
    answers (`index`), and `get` gathers one field back to the rows.
    """

    def __init__(self, compute: Callable[[Hashable], dict], fields: dict[str, pl.DataType]):
        self.compute, self.fields = compute, fields
        self.ids: dict[Hashable, int] = {}
        self.answers: dict[str, list] = {name: [] for name in fields}
        self._series: dict[str, pl.Series] = {}

    def add(self, keys) -> None:
        for key in keys:
            if key not in self.ids:
                answer = self.compute(key)
                self.ids[key] = len(self.ids)
                for name in self.fields:
                    self.answers[name].append(answer[name])
                self._series.clear()

    def index(self, column: pl.Expr, values: list) -> pl.Expr:
        """Row -> answer index, for a text column whose distinct values (in this batch) are ``values``."""
        self.add(values)
        texts = [v for v in values if v is not None]
        # (a cast to an Enum of the values is a third faster than replace_strict: its codes index `texts`)
        return self.from_codes(column.cast(pl.Enum(texts)).to_physical(), texts) if texts \
            else pl.lit(self.ids.get(None), dtype=pl.UInt32)

    def texts(self) -> list[str]:
        """The text keys answered so far, in order."""
        return [key for key in self.ids if isinstance(key, str)]

    def from_codes(self, codes: pl.Expr, texts: list[str]) -> pl.Expr:
        """Row -> answer index, from the codes of a cast to ``pl.Enum(texts)`` (all of them answered):
        a null code is an empty cell."""
        idx = pl.lit(pl.Series([self.ids[v] for v in texts], dtype=pl.UInt32)).gather(codes)
        return idx.fill_null(self.ids[None]) if None in self.ids else idx

    def pair_index(self, first: pl.Expr, second: pl.Expr, pairs: list[tuple[int, int]]) -> pl.Expr:
        """Row -> answer index, for a key of two small integer indexes whose pairs (in this batch) are ``pairs``."""
        self.add(pairs)
        dense = dense_lookup([first, second], {pair: self.ids[pair] for pair in pairs})
        if dense is not None:
            return dense
        mapping = {(a << 32) + b: self.ids[(a, b)] for a, b in pairs}
        return (first.cast(pl.Int64) * (1 << 32) + second.cast(pl.Int64)).replace_strict(
            mapping, default=None, return_dtype=pl.UInt32)

    def series(self, name: str) -> pl.Series:
        if name not in self._series:
            self._series[name] = pl.Series(name, self.answers[name], dtype=self.fields[name])
        return self._series[name]

    def get(self, name: str, idx: pl.Expr | str, quoted: bool = False) -> pl.Expr:
        """One field of the answers, gathered to the rows (``quoted``: text as a CSV field, see `csv_field`)."""
        idx = pl.col(idx) if isinstance(idx, str) else idx
        if not quoted:
            return pl.lit(self.series(name)).gather(idx)
        key = f"csv:{name}"
        if key not in self._series:
            self._series[key] = pl.Series(key, [csv_field(v) for v in self.answers[name]], dtype=pl.String)
        return pl.lit(self._series[key]).gather(idx)

    def item(self, name: str, i: int, idx: pl.Expr | str, dtype: pl.DataType) -> pl.Expr:
        """The ``i``-th element of a list-valued answer (None past its end), gathered to the rows."""
        key = f"{name}[{i}]"
        if key not in self._series:
            self._series[key] = pl.Series(key, [v[i] if i < len(v) else None for v in self.answers[name]], dtype=dtype)
        idx = pl.col(idx) if isinstance(idx, str) else idx
        return pl.lit(self._series[key]).gather(idx)

    def has(self, name: str, idx: pl.Expr | str) -> pl.Expr:
        """Whether the row's answer has a value for ``name`` (cheaper to gather than the value)."""
        key = f"has:{name}"
        if key not in self._series:
            self._series[key] = pl.Series(key, [v is not None for v in self.answers[name]], dtype=pl.Boolean)
        idx = pl.col(idx) if isinstance(idx, str) else idx
        return pl.lit(self._series[key]).gather(idx)


def dense_lookup(parts: list[pl.Expr], answers: dict[tuple[int, ...], int], bounded: bool = True) -> pl.Expr | None:
    """Row -> answer, for a key of small non-negative integers (``parts``): a table of every key up
    to the largest in each place, gathered by the key's position in it (null where no answer).
    None when, ``bounded``, the table would be larger than DENSE_AT_MOST (then look the keys up by hash)."""
    dims = [max((key[i] for key in answers), default=0) + 1 for i in range(len(parts))]
    size = 1
    for d in dims:
        size *= d
    if bounded and size > DENSE_AT_MOST:
        return None
    table: list[int | None] = [None] * size
    for key, answer in answers.items():
        at = 0
        for value, d in zip(key, dims):
            at = at * d + value
        table[at] = answer
    position = parts[0].cast(pl.Int64)
    for part, d in zip(parts[1:], dims[1:]):
        position = position * d + part.cast(pl.Int64)
    return pl.lit(pl.Series(table, dtype=pl.UInt32)).gather(position)
