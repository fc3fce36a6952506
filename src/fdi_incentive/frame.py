"""The columnar evaluator: the policy files applied to a table of project-years at once (polars).

The work splits by how many distinct values a column holds:

* A cell that repeats from row to row (year, kind, sector and industry code, FX rate,
  currency) goes through the Python functions `fdi calc` uses (`policy_for_year`,
  `classify`, `parse_rate`, the rate sources) once per distinct value; the answer is
  gathered back to every row by index. The rule's choices that depend only on such
  cells (which tiers a project could reach, at which thresholds, the reason texts) are
  made once per distinct combination of policy, category and kind, from the policy file.
* An amount (a new value on every row) is parsed, converted, compared and multiplied
  in exact integer arithmetic: USD cents, rates times 10^8, products in 128 bits. A cell
  that is not a plain number goes to `parse_amount` itself, once per distinct value.

Nothing here holds a number of its own: thresholds, comparators, rates, exclusions, the
cap and the rounding come from each policy. A property test holds the results to
`assess()` field by field (tests/test_batch.py).

`Scorer` is put together from its parts, one concept each:

* frame_lookup.py: `Lookup`, the answers for a column's distinct values, gathered to the rows;
* frame_answers.py: `Answers`, each distinct value answered by calc's functions and the rule;
* frame_cells.py: `Cells`, a batch's amounts in cents and its rows' indexes into the answers;
* frame_output.py: `Output`, the rows to write and the summary's counts;
* here: the options and state of one input, and `score`, the arithmetic of a batch (conversion,
  threshold, base x FX x rate, cap, the one rounding) and each row's error.

What they share sits below them: scaled.py (cents, rates x 10^8, their polars helpers),
scored.py (the result columns, `Scored`), options.py (`Options`).
"""

from collections.abc import Sequence

import polars as pl

from .errors import InputError
from .frame_answers import KINDS, Answers  # noqa: F401
from .frame_cells import PAIRS_AT_ONCE, SEEN_AT_MOST, Cells  # noqa: F401 (importable from here, as before)
from .frame_lookup import DENSE_AT_MOST, Lookup, dense_lookup  # noqa: F401
from .frame_output import Output
from .frame_shapes import FLAG_COLUMNS, Shapes
from .i18n import N_, _, get_language, in_english
from .io.readers import PARSE_ERROR
from .language import said_both
from .money import converted_too_large
from .options import Options
from .policy import LoadedPolicy, Policy
from .rules import TierRow
# what frame.py offered before its parts moved out (batch.py, summary.py, the tests and bench import them from here)
from .scaled import (CNY_SCALE, CSV_SPECIAL, E8, FX_DECIMALS, GROSS_SCALE, I128, MAX_AMOUNT, MAX_CENTS, _e8,  # noqa: F401
                     _scale_of, _units, _zeros, csv_field, csv_field_expr, decimal_text, decimal_value, round_div,
                     unit_digits)
from .scored import (AFTER_BLANKS, ALL_STARTS, AS_PATTERN, BLANK_HINTS, HIDDEN, LEDGER_ERROR, LINE,  # noqa: F401
                     RESULT_COLUMNS, ROW_RATE_SOURCE, SUMMARY_KEYS, TOTAL_REASON, TOTAL_WORDS, Scored, formula_starts)
from .text import FORMULA_STARTS  # noqa: F401

PAID_MISSING = N_("{field}: missing; expected the foreign capital paid in during the year")
LATE = ("{project}: a project's rows under a cap over a period are summed in year order, and this row's year comes before "
        "one of the same project in an earlier part of the file; sort the file by project and year")


def result_columns(policies: list[LoadedPolicy]) -> list[str]:
    """The result columns of a run: RESULT_COLUMNS, and after incentive_cny each part's payout and the
    place group, where the run's named policy (or family) has parts or place groups."""
    names = list(RESULT_COLUMNS)
    ps = [lp.policy for lp in policies]
    extra = [f"incentive_{payer}_cny" for payer in dict.fromkeys(part.payer for p in ps for t in p.tiers for part in t.parts)]
    if any(p.place and p.place.groups for p in ps):
        extra.append("location_group")
    at = names.index("incentive_cny") + 1
    return names[:at] + extra + names[at:]


class Scorer(Answers, Cells, Output, Shapes):
    """Scores the batches of one input: the same columns, mapping and options for each.

    ``mapping`` is canonical name -> the input's column. A ledger's project-years (see
    ledger.py) add `__equity_cny` and `__profit_cny`: the base in CNY at each arrival's
    own rate, as whole counts of 10^-10 yuan.
    """

    def __init__(self, columns: list[str], mapping: dict[str, str], options: Options):
        self.profit_currency = "CNY"  # what a reinvested profit is in where its row does not say
        if "reinvested_profit_usd" in mapping:  # (the name `fdi sql`'s table and Spark read: profits in USD)
            given = [mapping[c] for c in ("reinvested_profit", "reinvested_profit_currency") if c in mapping]
            if given:
                raise InputError("INPUT", ", ".join([mapping["reinvested_profit_usd"], *given]), _(
                    "reinvested profits in one column: reinvested_profit_usd (in USD), or reinvested_profit with its "
                    "currency in reinvested_profit_currency"))
            mapping = {("reinvested_profit" if c == "reinvested_profit_usd" else c): col for c, col in mapping.items()}
            self.profit_currency = "USD"
        self.columns, self.m, self.o = columns, mapping, options
        self.inputs = [c for c in columns if c not in HIDDEN]  # the columns shown
        self.k = unit_digits(options.unit)
        # where a total row says what it is (合计, Total): the project id, and the first column (a ledger's
        # total rows come as rows of their own, their project id the total's word: see ledger_totals.py)
        self.total_columns = [c for c in dict.fromkeys([mapping.get("project_id"), *self.inputs[:1]]) if c]
        self.paid_col = "paid_in_usd" if "paid_in_usd" in mapping or "paid_in" not in mapping else "paid_in"
        self.ledger = "__equity_cny" in columns
        self.policies: dict[str, LoadedPolicy] = {}
        self.tiers: list[tuple[Policy, TierRow]] = []
        self.classes: list[tuple[str, str | None, str]] = []  # (category, code, how the sector was decided: a note or "")
        self.notes: list[str] = [""]  # the notes of the classes, "" first (see `_output`'s reasons)
        self.lang = get_language()  # the interface's (the cells are English whatever it is)
        self.shown: dict[str, str] = {}  # a rate source as a cell states it -> in the interface's language
        self.unknown_sectors: list[str] = []  # sector names we do not know, given alone (the summary names the nearest known)
        self.usd_mode: tuple[str, int] | None = None
        self.max_tiers = 0
        # a year's USD rate is filled in only when a row needs it (see _rate_years)
        self.years = Lookup(self._said(self._year, "err"), {"year": pl.Int32, "pidx": pl.Int32, "status": pl.String, "err": pl.String,
                                         "why": pl.String, "usd_e8": pl.Int64,
                                         "usd_text": pl.String, "usd_src": pl.String, "usd_err": pl.String})
        self.rated: set[int] = set()
        self.kinds = Lookup(self._said(self._kind, "err"), {"kidx": pl.Int32, "err": pl.String})
        self.sectors = Lookup(lambda v: {"v": v}, {"v": pl.String})
        self.codes = Lookup(lambda v: {"v": v}, {"v": pl.String})
        self.classified = Lookup(self._said(self._class, "err"), {"cidx": pl.Int32, "category": pl.String, "err": pl.String,
                                               "nidx": pl.Int32, "unknown": pl.String})
        self.fx = Lookup(self._said(self._fx, "err"), {"e8": pl.Int64, "text": pl.String, "err": pl.String})
        self.currencies = Lookup(lambda v: {"v": v}, {"v": pl.String})
        self.ccy_year = Lookup(self._said(self._ccy_rate, "err", "rate_err"), {"usd": pl.Boolean, "other": pl.Boolean, "e8": pl.Int64, "err": pl.String,
                                                "rate_err": pl.String})
        self.rules = Lookup(self._rule, {"eq": pl.Boolean, "pr": pl.Boolean, "converted": pl.Boolean, "spent": pl.Boolean,
                                         "none_reason": pl.String, "thr": pl.Object, "gid": pl.Object})  # lists: see `Lookup.item`
        # where a row is and what it is, for the policies that ask (frame_shapes.py)
        self.locations = Lookup(self._said(self._location, "err"), {"code": pl.String, "err": pl.String})
        self.flag_cells = {f: Lookup(self._said(lambda v, f=f: self._flag(f, v), "err"), {"bit": pl.Int32, "err": pl.String})
                           for f in FLAG_COLUMNS}
        self.wheres = Lookup(self._said(self._where, "err"), {"state": pl.String, "gix": pl.Int32, "err": pl.String,
                                                              "reason": pl.String})
        self.group_names: list[str] = [""]
        self.payers: list[str] = []
        from .policy import family_versions

        self.result_columns = result_columns([options.policy] if options.policy else
                                             list(family_versions(options.family)) if options.family else [])
        self.period_paid: dict[tuple, tuple[int, int]] = {}  # (project, policy) -> (last year, paid so far): see `_period`
        self.slow_amounts: dict[tuple[str, str], tuple[int | None, str | None]] = {}
        self.cleaned: set[str] = set()  # amount columns with separators (15,000,000.00) in some batch: cleaned first

    @in_english  # (the cells it writes, errors and sources included, are the same in every language)
    def score(self, df: pl.DataFrame, neutralise: bool = False, lines: pl.Series | None = None,
              starts: Sequence[str] = ALL_STARTS, typed: bool = False) -> Scored:
        """The input columns (formula-like text neutralised if asked) and the result columns, with
        the summary's counts.

        ``lines``: each row's record as it stands in a CSV input (no quotes in it, nothing
        hidden), for CSV output: a record is copied as it is unless a cell of it must be
        neutralised or it has fewer fields than the header, and the results come as CSV text.
        ``starts``: the characters of `FORMULA_STARTS` the lines may hold, and AFTER_BLANKS if one
        may follow blanks (see `formula_starts`); a cell cannot begin with any other.
        ``typed``: the money columns (base_usd, base_cny, gross_cny, incentive_cny) as Decimals of
        their scale (for Parquet, whose writer casts them to their types), not text.
        """
        Y, F, CC, R = self.years, self.fx, self.ccy_year, self.rules
        mode = self.usd_mode[0] if self.usd_mode else "half_up"
        # one lazy query from the indexes to the payout: polars plans the stages together
        q = self._indexes(df)  # (first: it answers the batch's new cells, which the answers gathered below hold)
        own_e8 = pl.coalesce(pl.col("_lfx"), F.get("e8", "_fx")) if self.ledger else F.get("e8", "_fx")  # the row's own rate
        q = q.with_columns(
            pl.coalesce(own_e8, Y.get("usd_e8", "_y")).alias("_e8"), own_e8.is_not_null().alias("_own"),
            CC.get("usd", "_pc").alias("_p_usd"), CC.get("usd", "_rc").alias("_r_usd"),
            R.get("eq", "_r").alias("_eq"), R.get("pr", "_r").alias("_pr"), R.get("converted", "_r").alias("_converted"))

        def to_usd(amount: str, usd: str, idx: str) -> tuple[pl.Expr, pl.Expr]:
            """(USD cents, whether converted they reach MAX_AMOUNT: then the row's error, its cents null)"""
            a = pl.col(amount)
            conv = round_div(a.cast(I128) * CC.get("e8", idx).cast(I128), pl.col("_e8").cast(I128), mode)
            big = (~pl.col(usd) & (conv >= MAX_CENTS)).fill_null(False)
            return pl.when(pl.col(usd) | (a == 0)).then(a).when(~big).then(conv).cast(pl.Int64), big

        paid_usd, paid_big = to_usd("_paid", "_p_usd", "_pc") if self.paid_col == "paid_in" \
            else (pl.col("_paid"), pl.lit(False))  # (paid_in_usd is USD)
        profit_usd, profit_big = to_usd("_profit", "_r_usd", "_rc")
        q = q.with_columns(paid_usd.alias("_paid_usd"), profit_usd.alias("_profit_usd"),
                           paid_big.alias("_paid_big"), profit_big.alias("_profit_big"))
        base = (pl.when(pl.col("_eq")).then(pl.col("_paid_usd").fill_null(0)).otherwise(0)
                + pl.when(pl.col("_pr")).then(pl.col("_profit_usd").fill_null(0)).otherwise(0))
        counted = base
        if "spent_usd" in self.m:  # (a policy whose base is the amount spent: the row's, where given)
            base = pl.when(R.get("spent", "_r") & pl.col("_spent").is_not_null()).then(pl.col("_spent")).otherwise(base)
        q = q.with_columns(base.alias("_base"), counted.alias("_counted"))
        below, part_rates, part_slots, self.payers = self._tier_series()
        W = self.wheres
        blocked = Y.has("why", "_y") | W.has("reason", "_w")  # (a year outside a named policy's dates; a place outside or excluded)
        # (the thresholds are tested on what counts as paid in, also where the base is the amount spent)
        gid = pl.when(blocked).then(None).otherwise(self._pick_tier(pl.col("_counted"), below))
        base128 = pl.col("_base").cast(I128)
        if self.ledger:
            at_rates = (pl.when(pl.col("_eq")).then(pl.col("__equity_cny")).otherwise(0)
                        + pl.when(pl.col("_pr")).then(pl.col("__profit_cny")).otherwise(0)).cast(I128)
            if "spent_usd" in self.m:  # (the amount spent at the arrivals' mean rate)
                at_rates = pl.when(pl.col("_base") == pl.col("_counted")).then(at_rates).otherwise(
                    round_div(at_rates * base128, pl.col("_counted").cast(I128), "half_up"))
        else:
            at_rates = base128 * pl.col("_e8").cast(I128)
        q = q.with_columns(gid.alias("_gid"), pl.when(pl.col("_converted")).then(at_rates).otherwise(base128 * E8).alias("_bcny"))
        tiers = self.tiers
        rate_e8 = pl.Series([_e8(t.rate) for _, t in tiers], dtype=I128)
        caps = pl.Series([None if t.cap is None else int(t.cap.scaleb(GROSS_SCALE)) for _, t in tiers], dtype=I128)
        g = pl.col("_gid")
        q = q.with_columns((pl.col("_bcny") * pl.lit(rate_e8).gather(g)).fill_null(pl.lit(0, dtype=I128)).alias("_gross"),
                           pl.lit(caps).gather(g).alias("_cap"))
        q = q.with_columns((pl.col("_gross") > pl.col("_cap")).fill_null(False).alias("_capped"))
        paid = pl.when(pl.col("_capped")).then(pl.col("_cap")).otherwise(pl.col("_gross"))
        incentive, self.inc_scale = self._rounded(paid, g)
        if part_rates:  # (parts paid by different governments: each rounded once, paid in order under the cap)
            room, _scale = self._rounded(pl.col("_cap"), g)
            shares, total = self._parts_paid(pl.col("_bcny"), pl.when(pl.col("_capped")).then(room), part_rates, g)
            has_parts = pl.lit(part_rates[0]).gather(g).is_not_null()
            incentive = pl.when(has_parts).then(total).otherwise(incentive)
            q = q.with_columns([e.alias(f"_part{k}") for k, e in enumerate(shares)]
                               + [pl.lit(slot).gather(g).alias(f"_payer{k}") for k, slot in enumerate(part_slots)])
        flag, text = self._error_exprs(any(c in df.columns for c in (PARSE_ERROR, LEDGER_ERROR)))
        w = q.with_columns(incentive.alias("_inc"), flag.alias("_bad"), Y.get("pidx", "_y").alias("_pol")).collect()
        w = self._period(w, part_rates, self.m.get("project_id"))
        if w["_late"].any() if "_late" in w.columns else False:
            w = w.with_columns(pl.col("_bad") | pl.col("_late").fill_null(False))
            text = pl.when(pl.col("_late").fill_null(False)).then(pl.lit(LATE.format(project=self.m.get("project_id")))).otherwise(text)
        return self._output(df, w, text, neutralise, lines, starts, typed)

    def _rounded(self, value: pl.Expr, gid: pl.Expr) -> tuple[pl.Expr, int]:
        """The one rounding step, as the policy of the row's tier says; the result at the finest scale used."""
        ways = [(_scale_of(p.rounding.quantum), p.rounding.mode) for p, _ in self.tiers]
        scale = max((s for s, _ in ways), default=2)
        if len(set(ways)) <= 1:
            s, mode = ways[0] if ways else (2, "half_up")
            return round_div(value, 10 ** (GROSS_SCALE - s), mode) * (10 ** (scale - s)), scale
        out = pl.lit(0, dtype=I128)
        way = pl.lit(pl.Series([f"{s}|{m}" for s, m in ways])).gather(gid)
        for s, mode in set(ways):
            rounded = round_div(value, 10 ** (GROSS_SCALE - s), mode) * (10 ** (scale - s))
            out = pl.when(way == f"{s}|{mode}").then(rounded).otherwise(out)
        return out, scale

    def _error_exprs(self, reader_errors: bool) -> tuple[pl.Expr, pl.Expr]:
        """Whether a row has an error, and its text: the reader's, or every problem of its cells,
        or (only then) a missing rate.

        Most rows have none: the flag is cheap (computed with the payout), the text is made only
        for the rows flagged.
        """
        Y, K, C, F, CC = self.years, self.kinds, self.classified, self.fx, self.ccy_year
        missing = pl.col("_paid").is_null() & pl.col("_paid_err").is_null() & pl.col("_profit").is_null()
        paid_other = CC.get("other", "_pc") & (pl.col("_paid").fill_null(0) > 0)
        profit_other = CC.get("other", "_rc") & (pl.col("_profit").fill_null(0) > 0)
        needs_usd = (~pl.col("_p_usd") & (pl.col("_paid").fill_null(0) > 0)) | (~pl.col("_r_usd") & (pl.col("_profit").fill_null(0) > 0))
        no_rate = pl.col("_e8").is_null() & (needs_usd | pl.col("_converted"))
        flags = [Y.has("err", "_y"), K.has("err", "_k"), C.has("err", "_c"), F.has("err", "_fx"), CC.has("err", "_pc"),
                 CC.has("err", "_rc"), pl.col("_paid_err").is_not_null(), missing, pl.col("_loans_err").is_not_null(),
                 pl.col("_profit_err").is_not_null(), pl.col("_paid_big"), pl.col("_profit_big"), no_rate & Y.has("usd_err", "_y"),
                 paid_other & CC.has("rate_err", "_pc"), profit_other & CC.has("rate_err", "_rc")]
        L, W, FL = self.locations, self.wheres, self.flag_cells
        flags += [L.has("err", "_loc"), W.has("err", "_w"), pl.col("_spent_err").is_not_null(),
                  *(FL[f].has("err", f"_fl:{f}") for f in FL)]
        if reader_errors:
            flags.append(pl.col("_perr").is_not_null())
        first = pl.concat_str([
            Y.get("err", "_y"), K.get("err", "_k"), C.get("err", "_c"), pl.col("_paid_err"),
            pl.when(missing).then(pl.lit(said_both(self.shown, self.lang, PAID_MISSING, field=self.paid_col))),
            pl.col("_loans_err"), pl.col("_profit_err"), F.get("err", "_fx"), CC.get("err", "_pc"), CC.get("err", "_rc"),
            pl.when(pl.col("_paid_big")).then(pl.lit(said_both(self.shown, self.lang, converted_too_large, self.paid_col))),
            pl.when(pl.col("_profit_big")).then(pl.lit(said_both(self.shown, self.lang, converted_too_large, "reinvested_profit"))),
            L.get("err", "_loc"), W.get("err", "_w"), pl.col("_spent_err"), *(FL[f].get("err", f"_fl:{f}") for f in FL),
        ], separator="; ", ignore_nulls=True)
        second = pl.concat_str([
            pl.when(no_rate).then(Y.get("usd_err", "_y")),
            pl.when(paid_other).then(CC.get("rate_err", "_pc")),
            pl.when(profit_other).then(CC.get("rate_err", "_rc")),
        ], separator="; ", ignore_nulls=True)
        err = pl.when(first != "").then(first).otherwise(second.replace("", None))
        if reader_errors:
            err = pl.coalesce(pl.col("_perr"), err)
        return pl.any_horizontal(flags) & ~pl.col("_total"), err  # (a total row is not scored: no error either)
