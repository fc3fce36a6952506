"""The scorer's reading of a batch's cells (a part of `frame.Scorer`): each amount in exact cents (a plain
number read by polars, any other cell by `parse_amount`, once per distinct cell), total rows, and per
row an index into the answers for each repeating cell (`_indexes`).

A mixin: the lookups and the options it reads are made by `Scorer.__init__`; the answers for new
cells come from `frame_answers.Answers`.
"""

import itertools
from decimal import Decimal

import polars as pl

from .errors import InputError
from .frame_lookup import Lookup, dense_lookup
from .io.columns import named
from .io.readers import PARSE_ERROR
from .language import using
from .money import GROUPED_PATTERN, GROUPING, MAX_AMOUNT, parse_amount
from .scaled import I128, unit_digits
from .scored import LEDGER_ERROR
from .totals import total_rows

SEEN_AT_MOST = 4096  # a column whose values so far are more is answered from each batch's distinct values alone
PAIRS_AT_ONCE = 4096  # distinct sectors x distinct codes of a batch classified without looking for the pairs present


class Cells:
    """A batch's cells as amounts in cents and indexes into the answers (see the module's text)."""

    AMOUNTS = {"paid": None, "loans": "shareholder_loans_usd", "profit": "reinvested_profit", "spent": "spent_usd"}  # (paid: paid_col)

    def amount_columns(self) -> dict[str, str]:
        """The amount columns present: key (paid, loans, profit) -> canonical name."""
        named = {k: v or self.paid_col for k, v in self.AMOUNTS.items()}
        return {k: v for k, v in named.items() if v in self.m}

    def _amount_parts(self, canon: str, cleaned: bool) -> list[list[pl.Expr]]:
        """Per row: whether an amount's cell is a plain number, and then its value in cents.

        Plain: digits only, below MAX_AMOUNT (USD) at --unit, with a decimal point and at most
        the decimals of a cent (times --unit) followed by at most 8 zeros; polars reads such a
        cell exactly. Any other cell goes to `parse_amount` (once per distinct cell), so a value
        or a message is always calc's own. ``cleaned``: drop , _ and spaces first."""
        text = named(self.m[canon]).cast(pl.String)
        grouped = pl.lit(True)
        if cleaned:  # (only where separators group thousands, as parse_amount allows: 15000000,50 is not plain)
            text = text.str.strip_chars()
            grouped = ~text.str.contains_any(list(GROUPING)) | text.str.contains(f"^(?:{GROUPED_PATTERN})$")
            text = text.str.replace_many(list(GROUPING), ["", "", ""])
        k = self.k_of(canon)
        decimals = 2 + k  # of the cell's unit: a Decimal of this scale counts cents
        whole = MAX_AMOUNT.adjusted() - k  # digits of the largest whole number below MAX_AMOUNT at --unit
        plain = (text.str.contains(rf"^[0-9]{{1,{whole}}}(\.[0-9]{{1,{decimals}}}0{{0,8}})?$") & grouped).fill_null(False)
        # in two steps: polars computes a sub-expression once per output that holds it
        cents = text.cast(pl.Decimal(38, decimals), strict=False).to_physical().cast(pl.Int64)
        return [[plain.alias(f"_ok:{canon}")],
                [pl.when(pl.col(f"_ok:{canon}")).then(cents).alias(f"_v:{canon}")]]

    def _amount(self, canon: str, slow: list[str]) -> tuple[pl.Expr, pl.Expr]:
        """(cents, error) of an amount column from its parts; the cells in ``slow`` go to `parse_amount`."""
        if canon not in self.m:
            return pl.lit(None, dtype=pl.Int64), pl.lit(None, dtype=pl.String)
        value, plain = pl.col(f"_v:{canon}"), pl.col(f"_ok:{canon}")
        if not slow:
            return value, pl.lit(None, dtype=pl.String)
        for cell in slow:
            if (canon, cell) not in self.slow_amounts:
                self.slow_amounts[(canon, cell)] = answer = self._parse_amount(canon, cell)
                if answer[1] is not None and self.lang != "en":  # (said to a person in the interface's language)
                    with using(self.lang):
                        self.shown[answer[1]] = self._parse_amount(canon, cell)[1] or answer[1]
        values = {c: self.slow_amounts[(canon, c)][0] for c in slow}
        errors = {c: self.slow_amounts[(canon, c)][1] for c in slow}
        text = named(self.m[canon]).cast(pl.String)
        return (pl.when(plain).then(value).otherwise(text.replace_strict(values, default=None, return_dtype=pl.Int64)),
                pl.when(plain).then(None).otherwise(text.replace_strict(errors, default=None, return_dtype=pl.String)))

    def _parse_amount(self, canon: str, cell: str) -> tuple[int | None, str | None]:
        if not cell.strip():
            return None, None
        try:
            amount = parse_amount(cell, canon, scale=self.unit_of(canon))  # (below MAX_AMOUNT)
        except InputError as exc:
            return None, str(exc)
        return int(amount.scaleb(2)), None

    def unit_of(self, canon: str) -> Decimal:
        """An amount column's unit: its header's (实际到位外资（万美元）), else --unit."""
        return self.o.units.get(canon, self.o.unit)

    def k_of(self, canon: str) -> int:
        return unit_digits(self.unit_of(canon))

    def _is_total(self) -> pl.Expr:
        """A total row: its project id or first cell is 合计, 总计, 小计 or Total (spaces and a colon aside)."""
        return total_rows(self.total_columns)

    def _keys(self) -> dict[str, tuple[Lookup, str | None]]:
        """The repeating cells: canonical column -> (its lookup, the value of an absent or empty cell)."""
        return {"year": (self.years, None), "kind": (self.kinds, None), "sector": (self.sectors, None),
                "industry_code": (self.codes, None), "fx_rate": (self.fx, None),
                "currency": (self.currencies, "USD"), "reinvested_profit_currency": (self.currencies, self.profit_currency),
                "location": (self.locations, None), **{f: (self.flag_cells[f], None) for f in self.flag_cells}}

    def _indexes(self, df: pl.DataFrame) -> pl.LazyFrame:
        """Per row: an index into the answers for each repeating cell, and the amounts in cents.

        One pass over the batch, one polars query (columns in parallel): the amounts, and the
        distinct cells not yet answered, answered here in Python (with every (sector, code) pair
        they can form, and each year's USD rate if a row may need it); a second pass only for an
        amount column found to hold separators. What is returned is a lazy query: every row's
        indexes are computed in the caller's pass, with the payout.
        """
        amounts = {"paid": self.paid_col, "loans": "shareholder_loans_usd", "profit": "reinvested_profit", "spent": "spent_usd"}
        keys = {c: v for c, v in self._keys().items() if c in self.m and (c != "currency" or self.paid_col == "paid_in")}

        def cell(canon: str) -> pl.Expr:
            if canon not in keys:
                return pl.lit(self._keys()[canon][1], dtype=pl.String)
            text = named(self.m[canon]).cast(pl.String)
            default = keys[canon][1]
            return text.fill_null(default) if default is not None else text

        # A repeating cell other than the sector and the code is first cast to an Enum of the values
        # earlier batches held (up to SEEN_AT_MOST of them): only the cells that are not among them are
        # looked for, and when there are none the cast's codes give the rows' indexes.
        seen = {c: texts for c in keys if c not in ("sector", "industry_code")
                and 0 < len(texts := self._keys()[c][0].texts()) <= SEEN_AT_MOST}
        codes = [cell(c).cast(pl.Enum(texts), strict=False).to_physical().alias(f"_code:{c}") for c, texts in seen.items()]

        given = [c for c in amounts.values() if c in self.m]
        separators = list(GROUPING)

        def raw(canon: str) -> pl.Expr:
            return named(self.m[canon]).cast(pl.String)

        def not_plain(canon: str) -> pl.Expr:  # the cells of an amount column that are not plain numbers
            return raw(canon).filter(~pl.col(f"_ok:{canon}") & named(self.m[canon]).is_not_null())

        steps = [self._amount_parts(c, c in self.cleaned) for c in given]
        parts = df.lazy().with_columns([*(e for first, _ in steps for e in first), *codes]).with_columns(
            [e for _, then in steps for e in then])
        # the cells that are not plain, for parse_amount; but if some of them hold a separator (, _ or
        # space: 15,000,000.00), the column is cleaned and read again (below), and in every later batch
        plain = [c for c in given if c not in self.cleaned]
        distinct_q = parts.select(
            [(cell(c).filter(pl.col(f"_code:{c}").is_null()) if c in seen else cell(c)).unique().implode().alias(c) for c in keys]
            + [(not_plain(c) if c in self.cleaned else not_plain(c).filter(~not_plain(c).str.contains_any(separators)))
               .unique().implode().alias(f"slow:{c}") for c in given]
            + [not_plain(c).str.contains_any(separators).any().alias(f"sep:{c}") for c in plain])
        df, distinct_df = pl.collect_all([parts, distinct_q])
        distinct = distinct_df.row(0, named=True)
        if dirty := [c for c in plain if distinct[f"sep:{c}"]]:
            self.cleaned.update(dirty)
            steps = [self._amount_parts(c, True) for c in dirty]
            parts = df.lazy().with_columns([e for first, _ in steps for e in first]).with_columns([e for _, then in steps for e in then])
            df, slow_df = pl.collect_all([parts, parts.select([not_plain(c).unique().implode().alias(f"slow:{c}") for c in dirty])])
            distinct |= slow_df.row(0, named=True)
        # (cells new to this batch: their column's codes are incomplete; an empty cell is new only the first time)
        new = {c for c in seen if any(v not in self._keys()[c][0].ids for v in distinct[c])}
        for c in seen:
            self._keys()[c][0].add(distinct[c])
            distinct[c] = [v for v in self._keys()[c][0].ids if v is None or isinstance(v, str)]  # all seen: a superset

        def values(canon: str) -> list:
            return distinct[canon] if canon in keys else [self._keys()[canon][1]]

        def index(canon: str) -> pl.Expr:
            lookup = self._keys()[canon][0]
            if canon in seen and canon not in new:
                return lookup.from_codes(pl.col(f"_code:{canon}"), seen[canon])
            if canon in keys:
                return lookup.index(cell(canon), distinct[canon])
            lookup.add(values(canon))
            return pl.lit(lookup.ids[values(canon)[0]], dtype=pl.UInt32)

        Y, C, K, S, I, F = self.years, self.classified, self.kinds, self.sectors, self.codes, self.fx
        exprs = [index("year").alias("_y"), index("kind").alias("_k"), index("fx_rate").alias("_fx"),
                 index("currency").alias("_pcur"), index("reinvested_profit_currency").alias("_rcur"),
                 self._is_total().alias("_total"), index("location").alias("_loc"),
                 *(index(f).alias(f"_fl:{f}") for f in self.flag_cells),
                 (named(self.m["project_id"]).cast(pl.String) if "project_id" in self.m else pl.lit(None, dtype=pl.String)).alias("_proj")]
        # (sector, code) pairs -> classification: every pair of the batch's distinct values, or (if
        # that is many) the pairs its rows hold
        if len(values("sector")) * len(values("industry_code")) <= PAIRS_AT_ONCE:
            pairs = list(itertools.product(values("sector"), values("industry_code")))
        else:
            pairs = [(p["s"], p["i"]) for p in df.select(pl.struct(cell("sector").alias("s"), cell("industry_code").alias("i"))
                                                         .unique()).to_series()]
        S.add(s for s, _ in pairs)
        I.add(i for _, i in pairs)
        classes = [(S.ids[s], I.ids[i]) for s, i in pairs]
        exprs.append(C.pair_index(index("sector"), index("industry_code"), classes).alias("_c"))
        self._note_unknown_sectors(df, classes, index)
        for key, canon in amounts.items():
            value, error = self._amount(canon, distinct.get(f"slow:{canon}") or [])
            exprs += [value.alias(f"_{key}"), error.alias(f"_{key}_err")]
        for col in ("__equity_cny", "__profit_cny"):
            if col in df.columns:
                exprs.append(pl.col(col).cast(pl.String).cast(I128, strict=False))
        perr = [pl.col(c).cast(pl.String).replace("", None) for c in (PARSE_ERROR, LEDGER_ERROR) if c in df.columns]
        if perr:
            exprs.append(pl.coalesce(perr).alias("_perr"))
        if "__fx_source_text" in df.columns:
            exprs.append(pl.col("__fx_source_text").cast(pl.String).alias("_row_src"))
        if self.ledger:  # (its rates are many, a weighted mean each: given as numbers, not looked up as texts)
            exprs += [pl.col("__fx_rate_e8").cast(pl.String).cast(pl.Int64, strict=False).alias("_lfx"),
                      pl.col("__fx_rate_text").cast(pl.String).alias("_lfx_text")]

        years = [Y.ids[v] for v in values("year")]
        # a year's USD rate, if some row may lack an FX rate of its own (an empty or unusable fx_rate)
        if any(F.answers["e8"][F.ids[v]] is None for v in values("fx_rate")):
            self._rate_years(years)
        # (currency, year) -> its rate
        currencies = {self.currencies.ids[v] for canon in ("currency", "reinvested_profit_currency") for v in values(canon)}
        currency_years = list(itertools.product(sorted(currencies), years))
        q = df.lazy().select(exprs).with_columns(
            self.ccy_year.pair_index(pl.col("_pcur"), pl.col("_y"), currency_years).alias("_pc"),
            self.ccy_year.pair_index(pl.col("_rcur"), pl.col("_y"), currency_years).alias("_rc"))
        # (year, location) -> the place as the year's policy sees it: its group, or outside, excluded, an error
        L, W = self.locations, self.wheres
        places = list(itertools.product(years, sorted({L.ids[v] for v in values("location")})))
        q = q.with_columns(W.pair_index(pl.col("_y"), pl.col("_loc"), places).alias("_w"))
        # the flags the row has, as bits (the rule keeps those its policy asks about)
        FL = self.flag_cells
        q = q.with_columns(pl.sum_horizontal([FL[f].get("bit", f"_fl:{f}") for f in FL]).alias("_bits"))
        bit_sets = {sum(FL[f].answers["bit"][FL[f].ids[v]] for f, v in zip(FL, combo))
                    for combo in itertools.product(*(values(f) for f in FL))}
        # the rule for each (policy, classification, kind, place group, flags) present
        p_ids = {Y.answers["pidx"][i] for i in years}
        c_ids = {C.answers["cidx"][C.ids[pair]] for pair in classes}
        k_ids = {K.answers["kidx"][K.ids[v]] for v in values("kind")}
        g_ids = {W.answers["gix"][W.ids[pair]] for pair in places}
        self.rules.add(itertools.product(sorted(p_ids), sorted(c_ids), sorted(k_ids), sorted(g_ids), sorted(bit_sets)))
        q = q.with_columns(Y.get("pidx", "_y").alias("_p"), C.get("cidx", "_c").alias("_ci"), K.get("kidx", "_k").alias("_ki"),
                           W.get("gix", "_w").alias("_gi"))
        # (policy, class, kind, group, flags) -> rule, each index one up (-1, an error, becomes 0)
        rule = dense_lookup([pl.col(c).cast(pl.Int64) + 1 for c in ("_p", "_ci", "_ki", "_gi", "_bits")],
                            {tuple(x + 1 for x in key): i for key, i in self.rules.ids.items()}, bounded=False)
        return q.with_columns(rule.alias("_r"))
