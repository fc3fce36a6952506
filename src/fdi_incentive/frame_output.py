"""The scorer's output (a part of `frame.Scorer`): from a batch's payout, the rows to write (the input's
columns, neutralised if asked, or its CSV records copied as they are, then the result columns) and the
summary's counts, in one parallel run of polars (`_output`); the amounts' sums (`_amount_stats`);
what a summary key's integer stands for (`label`).

A mixin: the answers and the state it reads are made by `Scorer.__init__` and `frame_answers.Answers`.
"""

from collections.abc import Sequence

import polars as pl

from .io.columns import named
from .money import rate_str
from .scaled import CNY_SCALE, E8, GROSS_SCALE, I128, _e8, _zeros, csv_field, csv_field_expr, decimal_text, decimal_value
from .scored import AFTER_BLANKS, ALL_STARTS, AS_PATTERN, LINE, RESULT_COLUMNS, ROW_RATE_SOURCE, SUMMARY_KEYS, TOTAL_REASON, Scored
from .text import BLANKS, FORMULA_PATTERN, neutral


def period_words(tier) -> str:
    """What a reason adds where a cap over a period lowered the year's payout (the cells' English)."""
    if tier.period_cap is None:
        return ""
    from .money import money_fmt

    return f"; limited by the total of CNY {money_fmt(tier.period_cap)} over {tier.period[0]}-{tier.period[1]}"


class Output:
    """The rows to write and the summary's counts of a scored batch (see the module's text)."""

    def result_aliases(self) -> dict[str, str]:
        """Result column -> its name in the output (prefixed fdi_ where the input already has that name)."""
        taken, aliases = set(self.columns), {}
        for name in self.result_columns:
            alias = name
            while alias in taken:  # an input that is itself a scored file already has fdi_ names
                alias = f"fdi_{alias}"
            aliases[name] = alias
            taken.add(alias)
        return aliases

    def output_names(self) -> list[str]:
        return self.inputs + list(self.result_aliases().values())

    def _output(self, df: pl.DataFrame, w: pl.DataFrame, error: pl.Expr, neutralise: bool, lines: pl.Series | None,
                starts: Sequence[str] = ALL_STARTS, typed: bool = False) -> Scored:
        """The rows to write and the summary's counts, from the payout ``w`` (which flags the rows
        with an error in `_bad`; ``error`` is their text): one parallel run of polars."""
        Y, F = self.years, self.fx
        tiers = self.tiers
        raw = lines is not None  # results as CSV text, for a line-by-line copy of the input
        shown_as = neutral if neutralise else (lambda text: text)  # (a policy's label too may begin with =)
        field_of = (lambda text: csv_field(shown_as(text))) if raw else shown_as
        tier_ids = pl.Series([field_of(t.id) for _, t in tiers], dtype=pl.String)
        rate_texts = pl.Series([rate_str(t.rate) for _, t in tiers], dtype=pl.String)
        policy_ids = pl.Series([field_of(p) for p in self.policies], dtype=pl.String)
        # the reason of a tier, capped or not: row 2 * tier + capped
        # (row 4 * tier + capped + 2 * capped over a period)
        reason_texts = [(t.capped_reason if capped else t.reason) + (period_words(t) if period else "")
                        for _, t in tiers for period in (False, True) for capped in (False, True)]
        # and with each class's note in front (note n: rows n * 2 * tiers + ...), where a class has one
        notes = [f"{n}; " if n else "" for n in self.notes]
        reasons = pl.Series([field_of(note + text) for note in notes for text in reason_texts], dtype=pl.String)
        # every base in CNY is a multiple of 10^cny_zeros (a base in cents times a rate with as many
        # trailing zeros, or times 10^8 for the nominal reading), every gross of 10^gross_zeros
        # (times a tier's rate): the texts are made from shorter numbers, with fewer zeros to strip
        rates = [e for e in self.fx.answers["e8"] + Y.answers["usd_e8"] if e]
        cny_zeros = 0 if self.ledger else min(_zeros(e) for e in [E8, *rates])
        gross_zeros = cny_zeros + min((_zeros(_e8(t.rate)) for _, t in tiers if t.rate), default=0)
        total = pl.col("_total")
        g = pl.when(~total).then(pl.col("_gid"))
        ok = ~pl.col("_bad") & ~total
        has_rate = pl.col("_e8").is_not_null()
        row_source = pl.col("_row_src") if "_row_src" in w.columns else pl.lit(ROW_RATE_SOURCE)
        if neutralise:
            row_source = self._neutral_text(row_source)
        shown_source = csv_field_expr(row_source) if raw else row_source
        at = g * 4 + pl.col("_capped").cast(pl.Int32) + 2 * pl.col("_pcapped").cast(pl.Int32)
        if len(notes) > 1:
            at = at + self.classified.get("nidx", "_c") * len(reason_texts)
        reason = pl.coalesce(self.years.get("why", "_y", quoted=raw), self.wheres.get("reason", "_w", quoted=raw),
                             pl.lit(reasons).gather(at), self.rules.get("none_reason", "_r", quoted=raw))
        any_total = bool(w["_total"].any())
        if any_total:
            reason = pl.when(total).then(pl.lit(field_of(TOTAL_REASON))).otherwise(reason)
        results = {
            "policy": pl.lit(policy_ids).gather(pl.when(pl.col("_p") >= 0).then(pl.col("_p"))),
            "policy_status": Y.get("status", "_y"),
            "eligible": pl.when(~total).then(g.is_not_null()),
            "tier": pl.lit(tier_ids).gather(g),
            "rate": pl.lit(rate_texts).gather(g),
            "base_usd": (decimal_value if typed else decimal_text)(pl.col("_base"), 2),
            "fx_rate": pl.coalesce(*([pl.col("_lfx_text")] if self.ledger else []), F.get("text", "_fx"), Y.get("usd_text", "_y")),
            "fx_source": pl.when(has_rate).then(pl.when(pl.col("_own")).then(shown_source)
                                                .otherwise(Y.get("usd_src", "_y", quoted=raw))),
            "base_cny": decimal_value(pl.col("_bcny"), CNY_SCALE) if typed
            else decimal_text(*self._fewer_zeros(pl.col("_bcny"), CNY_SCALE, cny_zeros)),
            "gross_cny": decimal_value(pl.col("_gross"), GROSS_SCALE) if typed
            else decimal_text(*self._fewer_zeros(pl.col("_gross"), GROSS_SCALE, gross_zeros)),
            "capped": pl.col("_capped"),
            "incentive_cny": (decimal_value if typed else decimal_text)(pl.col("_inc"), self.inc_scale),
            "reason": reason,
        }
        for payer in self.payers if "_payer0" in w.columns else []:  # (a part paid by each government, where the policy has parts)
            slots = [pl.when(pl.col(f"_payer{k}") == payer).then(pl.col(f"_part{k}")) for k in range(len(self.payers) + 4)
                     if f"_part{k}" in w.columns]
            results[f"incentive_{payer}_cny"] = (decimal_value if typed else decimal_text)(pl.coalesce(slots), self.inc_scale)
        if "location_group" in self.result_columns:
            names = pl.Series([field_of(n) for n in self.group_names], dtype=pl.String)
            results["location_group"] = pl.lit(names).gather(pl.when(pl.col("_gi") >= 0).then(pl.col("_gi")))
        results = {name: results.get(name, pl.lit(None, dtype=pl.String)) for name in self.result_columns if name != "error"}
        aliases = self.result_aliases()
        any_error = bool(w["_bad"].any())
        # a row with an error has no results (where there is none, the columns are not copied again)
        out = [(pl.when(ok | (total & pl.lit(name == "reason"))).then(results[name]) if any_error or any_total
                else results[name]).alias(aliases[name]) for name in results]
        # for the summary: small integers (indexes into the answers; see `label`), cheap to group by
        own_rate = pl.col("_own")
        hidden = [
            pl.when(ok).then(g).alias("__tier"),
            pl.when(~total).then(pl.col("_c")).alias("__class"),
            pl.when(~total).then(pl.col("_y")).alias("__year"),
            pl.when(ok & (pl.col("_p") >= 0)).then(pl.col("_p")).alias("__policy"),
            pl.when(ok & has_rate).then(pl.when(own_rate).then(-1).otherwise(pl.col("_y").cast(pl.Int64))).alias("__source"),
            pl.when(ok).then(pl.col("_inc")).otherwise(pl.lit(0, dtype=I128)).alias("__incentive"),
            (ok & pl.col("_capped")).alias("__capped"),
            pl.col("_bad").alias("__is_error"),
            total.alias("__total"),
        ]
        inputs = self.inputs
        scored = w.lazy().select(*out)
        # the summary's counts, grouped on small integers (see `label`), in the same parallel run
        groups = w.lazy().select(*hidden).group_by(*SUMMARY_KEYS).agg(
            pl.len().alias("rows"), pl.col("__is_error").sum().alias("errors"), pl.col("__capped").sum().alias("capped"),
            pl.col("__incentive").sum().alias("incentive"), pl.col("__total").sum().alias("totals"))
        texts = w.lazy().filter(pl.col("_bad")).select(error.alias("text"))  # the few rows with an error: their text
        # a ledger states each project-year's own source (a project-year file's own rate is the fx_rate column):
        # distinct, apart from the groups, which they would multiply by the thousands of arrival days
        sources = w.lazy().filter(ok & has_rate & own_rate).select(row_source.unique().alias("source")) \
            if "_row_src" in w.columns else pl.LazyFrame({"source": []}, schema={"source": pl.String})
        if raw:
            line = LINE  # (a name none of the input's columns has)
            while line in df.columns:
                line += "_"
            shown = df.lazy().with_columns(lines.alias(line)).select(self._redo(inputs, pl.col(line), starts).arg_true().alias("redo"))
        else:
            shown = df.lazy().select([self._neutral(c) if neutralise else named(c) for c in inputs])
        amounts, totals = self._amount_stats(w)
        shown, scored, groups, texts, sources, amounts, totals = pl.collect_all(
            [shown, scored, groups, texts, sources, amounts, totals])
        shown_texts = texts.select(self._neutral_text(pl.col("text")).alias("text")) if neutralise else texts  # (few rows)
        is_error = w["_bad"]

        def scattered(values: pl.Series) -> pl.Series:  # (scatter writes in place: a new series each time)
            empty = pl.repeat(None, len(scored), dtype=pl.String, eager=True)
            return empty.scatter(is_error.arg_true(), values) if len(values) else empty

        errors = scattered(texts["text"])
        shown_errors = scattered(shown_texts.select(csv_field_expr(pl.col("text"))).to_series() if raw else shown_texts["text"])
        if raw:
            redo = shown["redo"]
            if len(redo):  # rebuilt from the cells: none holds a comma, a quote or a line end
                lines = lines.scatter(redo, df[redo].select(
                    pl.concat_str([self._neutral(c).fill_null("") for c in inputs], separator=",")).to_series())
            shown = lines.alias(LINE).to_frame()
        rows = pl.concat([shown, scored.with_columns(shown_errors.alias(aliases["error"]))], how="horizontal")
        return Scored(rows, groups, is_error, errors, self.inc_scale, csv_ready=raw,
                      own_sources=[v for v in sources["source"] if v is not None],
                      totals=totals if len(totals) else None, amounts=amounts.row(0, named=True))

    def _amount_stats(self, w: pl.DataFrame) -> tuple[pl.LazyFrame, pl.LazyFrame]:
        """Per amount column, over the rows that are not totals: the sum and the largest (in cents
        at the column's unit), the rows read and those whose cell could not be read; and each
        total row's amounts beside the same sums over the rows above it in the batch."""
        cols = self.amount_columns()
        data = ~pl.col("_total")
        stats = [e for k in cols for e in (
            pl.col(f"_{k}").filter(data).cast(I128).sum().alias(f"sum:{k}"), pl.col(f"_{k}").filter(data).max().alias(f"max:{k}"),
            pl.col(f"_{k}").filter(data).is_not_null().sum().alias(f"n:{k}"),
            pl.col(f"_{k}_err").filter(data).is_not_null().sum().alias(f"bad:{k}"))]
        amounts = w.lazy().select(stats) if stats else pl.LazyFrame({"none": [0]})
        above = [e for k in cols for e in (
            pl.when(data).then(pl.col(f"_{k}")).fill_null(0).cast(I128).cum_sum().alias(f"sum:{k}"),
            (data & pl.col(f"_{k}").is_not_null()).cum_sum().alias(f"n:{k}"),
            (data & pl.col(f"_{k}_err").is_not_null()).cum_sum().alias(f"bad:{k}"),
            pl.col(f"_{k}").alias(f"total:{k}"))]
        if not w["_total"].any():  # (most batches: no running sums)
            return amounts, pl.LazyFrame(schema={"_i": pl.UInt32})
        totals = w.lazy().with_row_index("_i").select("_i", "_total", *above).filter(pl.col("_total")).drop("_total")
        return amounts, totals

    @staticmethod
    def _fewer_zeros(value: pl.Expr, scale: int, zeros: int) -> tuple[pl.Expr, int]:
        """A count of 10^-scale that is a multiple of 10^zeros, as a count of 10^-(scale - zeros) (two decimals kept)."""
        zeros = min(zeros, scale - 2)
        return (value // pl.lit(10**zeros, dtype=I128) if zeros else value), scale - zeros

    @staticmethod
    def _redo(inputs: list[str], line: pl.Expr, starts: Sequence[str] = ALL_STARTS) -> pl.Expr:
        """Rows whose record (``line``) cannot be copied as it is: a cell to neutralise (it begins
        with one of ``starts``, the formula starts the lines may hold), or fewer fields than the
        header (the record is shorter than its cells and commas; polars pads such a row with
        empty cells)."""
        width = pl.sum_horizontal([named(c).cast(pl.String).str.len_bytes().fill_null(0) for c in inputs]) + (len(inputs) - 1)
        redo = line.str.len_bytes() != width
        chars = [c for c in starts if c != AFTER_BLANKS]
        if chars:  # (one literal search is a third of the cost of a search for several)
            inner = [f",{c}" for c in chars]
            redo |= line.str.contains(inner[0], literal=True) if len(inner) == 1 else line.str.contains_any(inner)
            for c in chars:
                redo |= line.str.starts_with(c)
                if AFTER_BLANKS in starts:  # a start after blanks (spaces, NBSP, a BOM): a pattern per start, each a literal to find
                    redo |= line.str.contains(rf"(?:^|,)[{BLANKS}]+{AS_PATTERN[c]}")
        return redo.fill_null(True)

    def label(self, key: str, value):
        """What a summary key's integer stands for: a tier id, a category, a year, a policy id, an FX source."""
        if value is None:
            return None
        if key == "__tier":
            return self.tiers[value][1].id
        if key == "__class":
            return self.classified.answers["category"][value]
        if key == "__year":
            return self.years.answers["year"][value]
        if key == "__policy":
            return list(self.policies)[value]
        if key == "__source":
            return (None if self.ledger else ROW_RATE_SOURCE) if value < 0 else self.years.answers["usd_src"][value]
        return value

    @staticmethod
    def _neutral(column: str) -> pl.Expr:
        """Text a spreadsheet would run as a formula (`FORMULA_STARTS` first, after any blanks) gets a leading quote."""
        return Output._neutral_text(named(column).cast(pl.String)).alias(column)

    @staticmethod
    def _neutral_text(text: pl.Expr) -> pl.Expr:
        """`text.neutral` for a column of text."""
        return pl.when(text.str.contains(FORMULA_PATTERN)).then(pl.lit("'") + text).otherwise(text)
