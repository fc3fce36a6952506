"""A ledger's arrivals read (a part of `ledger._Ledger`): each row of a chunk as one arrival, its day,
type, amount in cents and currency checked (an error of its own where one cannot be read), converted
to USD cents at its day's rate and, where it counts, into CNY; and the rates of the arrivals' days.

A mixin: the options, the caches of distinct cells and the --projects rows it reads are made by
`ledger._Ledger.__init__`.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from .io.columns import named
from .errors import FxError, InputError
from .i18n import N_, in_english
from .language import using
from .scaled import FX_DECIMALS, I128, MAX_AMOUNT, MAX_CENTS as MAX_AMOUNT_CENTS, _e8, round_div, unit_digits
from .io.readers import PARSE_ERROR
from .fx import given_rate_source
from .money import converted_too_large, parse_amount
from .ledger_totals import is_total, label_of
from .projects_file import meanings, stripped
from .text import quoted_expr
from .policy import TYPE_NAMES

if TYPE_CHECKING:
    import polars as pl

# The forms of a day a ledger may give: YYYY-MM-DD (or with / or . between), a date and time, as
# Chinese sheets write it (2024年3月15日), or 20240315. Day-first and month-first forms are not guessed.
_DAY = re.compile(r"(\d{4})(?:-(\d{1,2})-(\d{1,2})|/(\d{1,2})/(\d{1,2})|\.(\d{1,2})\.(\d{1,2})|年(\d{1,2})月(\d{1,2})日?|(\d{2})(\d{2}))"
                  r"(?:[ T](?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?"
                  r"(?:Z|[+-](?P<oh>\d{2})(?::?(?P<om>\d{2}))?)?)?", re.ASCII)
# a time's parts at most (a leap second's 60 kept): 2024-03-01T25:00 is no day
_TIME_MOST = {"h": 23, "mi": 59, "s": 60, "oh": 23, "om": 59}
_TYPE_SPACE = re.compile(r"[\s\-_]+")
_CURRENCY = "^[A-Z]{3}$"
_ROW_ERROR = "__row_error"  # a row the CSV reader had to pad or cut (see `normalise_csv`)
CAN_COUNT = ("equity", "reinvested_profit")  # what a policy may count (base.counts): their CNY at their day's rate is summed
TYPES = ("equity", "reinvested_profit", "shareholder_loan")


def parse_day(text: str) -> date | None:
    """A ledger's date cell (stripped) as a day, or None."""
    m = _DAY.fullmatch(text)
    if m is None:
        return None
    if any(int(m.group(k)) > most for k, most in _TIME_MOST.items() if m.group(k) is not None):
        return None
    g = [x for x in m.groups()[1:11] if x is not None]
    try:
        return date(int(m.group(1)), int(g[0]), int(g[1]))
    except ValueError:  # 2024-02-30
        return None


def arrival_type(text: str) -> str | None:
    """An arrival's type, forgiving case, spaces, - and _ (利润再投资 and 外方股东贷款 too)."""
    return TYPE_NAMES.get(_TYPE_SPACE.sub("_", text.lower()))


# an arrival's errors are written in English (its cells); the summary says their fixed pieces in the
# interface's language (`_Ledger.shown`, `batch.said_again`), a quoted value between them
ARRIVAL_ROW = N_("arrival row {line}: ")
FIELD = N_("{field}: ")
AMOUNT_MISSING = N_("amount: missing")
PROJECT_ID_MISSING = N_("project_id: missing")
DATE_MISSING = N_("date: missing; expected YYYY-MM-DD")
DATE_NOT_VALID = N_(" is not valid; expected YYYY-MM-DD (or 2024年3月15日, 20240315)")
TYPE_NOT_VALID = N_(" is not valid; expected equity, reinvested_profit or shareholder_loan")
CURRENCY_NOT_VALID = N_(" is not valid; expected a three-letter ISO 4217 code")
LEDGER_SAYS = N_(": the ledger's row says ")
PROJECTS_SAYS = N_(", --projects says ")
PIECES = (AMOUNT_MISSING, PROJECT_ID_MISSING, DATE_MISSING, DATE_NOT_VALID, TYPE_NOT_VALID, CURRENCY_NOT_VALID,
          LEDGER_SAYS, PROJECTS_SAYS)


class Arrivals:
    """A ledger's arrivals, chunk by chunk, and their days' rates (see the module's text)."""

    @in_english  # (its errors and sources are cells of the output: the same in every language)
    def arrivals(self, raw: pl.DataFrame, before: int) -> pl.DataFrame:
        """Each arrival of a chunk (the ``before`` rows ahead of it numbered already) converted,
        with its error: the columns a project-year is added up from."""
        import polars as pl

        m, options = self.m, self.o
        # the file as it is, rows numbered as they stand in it; a row of empty cells holds no arrival
        cells = [c for c in raw.columns if c != PARSE_ERROR]
        numbered = raw.lazy().with_row_index("__line", offset=before + 1)
        if cells:
            numbered = numbered.filter(pl.any_horizontal(named(c).str.len_bytes() > 0 for c in cells))
        own = [stripped(m[canon]).alias(f"__{canon}")
               for canon in ("project_id", "date", "type", "amount", "currency", "kind", "sector", "industry_code") if canon in m]
        row_error = stripped(PARSE_ERROR) if PARSE_ERROR in raw.columns else pl.lit(None, dtype=pl.String)
        # a total row (合计 ...: its project id or first cell says so) is not an arrival: a row of its own, checked
        totals = [c for c in dict.fromkeys([m.get("project_id"), *cells[:1]]) if c]
        total = is_total(totals) if totals else pl.lit(False)
        a = numbered.select(pl.col("__line"), *own, row_error.alias(_ROW_ERROR), total.alias("__total"),
                            pl.when(total).then(label_of(m["project_id"], totals[-1]) if totals else None).alias("__label")
                            ).collect(engine="in-memory")
        a = a.with_columns(pl.lit(None, dtype=pl.String).alias(f"__{c}")
                           for c in ("currency", "kind", "sector", "industry_code") if f"__{c}" not in a.columns)
        clash = pl.lit(None, dtype=pl.String)  # a kind, sector or code the ledger's row and --projects both give, differently
        if self.projects is not None:
            a = a.join(self.projects, on="__project_id", how="left", maintain_order="left")
            both = [c for c in self.listed if c in self.own]
            clash = pl.concat_str([pl.when(  # (what the two mean: services and Services agree)
                meanings(a, f"__{c}", c, self.known) != meanings(a, f"__p_{c}", c, self.known)).then(
                c + LEDGER_SAYS + quoted_expr(pl.col(f"__{c}")) + PROJECTS_SAYS + quoted_expr(pl.col(f"__p_{c}")))
                for c in both], separator="; ", ignore_nulls=True) if both else clash
            clash = pl.when(clash.str.len_bytes() > 0).then(clash)  # (no clash: nothing, not an empty clause)
            a = a.with_columns(pl.coalesce(f"__{c}", f"__p_{c}").alias(f"__{c}") for c in self.listed)
        else:
            a = a.with_columns(pl.lit(None, dtype=pl.String).alias("__p_error"))

        # what few distinct cells need, once each: dates in other forms, types, amounts that are not plain numbers
        dt, ty, am = pl.col("__date"), pl.col("__type"), pl.col("__amount")
        a = a.with_columns(pl.when(dt.str.len_bytes() == 10).then(dt.str.to_date("%Y-%m-%d", strict=False))
                           .alias("__day"))  # (only YYYY-MM-DD: polars reads 24-03-15 as the year 24)
        a = a.with_columns(pl.when(pl.col("__day").dt.year() >= 1).then("__day").alias("__day"))  # (0000-01-01: no day)
        if odd := a.filter(pl.col("__day").is_null() & dt.is_not_null())["__date"].unique().to_list():
            self.days.update((t, parse_day(t)) for t in odd if t not in self.days)
            a = a.with_columns(pl.coalesce("__day", dt.replace_strict({t: self.days[t] for t in odd}, default=None,
                                                                      return_dtype=pl.Date)).alias("__day"))
        kinds = a["__type"].unique().drop_nulls().to_list()
        self.types.update((t, arrival_type(t)) for t in kinds if t not in self.types)
        k = unit_digits(options.unit)
        whole = MAX_AMOUNT.adjusted() - k  # digits of the largest whole number below MAX_AMOUNT at --unit
        plain = am.str.contains(rf"^[0-9]{{1,{whole}}}(\.[0-9]{{1,{2 + k}}}0{{0,8}})?$").fill_null(False)
        a = a.with_columns(plain.alias("__plain"))
        a = a.with_columns(pl.when("__plain").then(am.cast(pl.Decimal(38, 2 + k), strict=False).to_physical()
                                                   .cast(pl.Int64)).alias("__cents"),
                           pl.col("__currency").str.to_uppercase().fill_null("USD").alias("__cur"),
                           ty.replace_strict({t: self.types[t] for t in kinds}, default=None, return_dtype=pl.String)
                           .fill_null(pl.when(ty.is_null()).then(pl.lit("equity"))).alias("__kind_of"))
        amount_error = pl.when(am.is_null()).then(pl.lit(AMOUNT_MISSING))
        if odd := a.filter(~pl.col("__plain") & am.is_not_null())["__amount"].unique().to_list():
            for cell in odd:
                if cell not in self.amounts:
                    self.amounts[cell] = _amount(cell, options.unit)
                    if self.amounts[cell][1] is not None and self.lang != "en":  # (said to a person: see `shown`)
                        with using(self.lang):
                            self.shown[self.amounts[cell][1]] = _amount(cell, options.unit)[1] or self.amounts[cell][1]
            a = a.with_columns(pl.when("__plain").then("__cents").otherwise(am.replace_strict(
                {c: self.amounts[c][0] for c in odd}, default=None, return_dtype=pl.Int64)).alias("__cents"))
            amount_error = amount_error.when(~pl.col("__plain")).then(
                am.replace_strict({c: self.amounts[c][1] for c in odd}, default=None, return_dtype=pl.String))
        day, kind_of = pl.col("__day"), pl.col("__kind_of")
        a = a.with_columns(meanings(a, f"__{x}", x, self.known).alias(f"__m:{x}") for x in self.own)
        self.totals.add(a)
        a = a.with_columns(pl.concat_str([
            pl.col(_ROW_ERROR), pl.col("__p_error"),  # (a project's row that had to be cut: its cells may be shifted)
            pl.when(pl.col("__project_id").is_null()).then(pl.lit(PROJECT_ID_MISSING)), clash,
            pl.when(dt.is_null()).then(pl.lit(DATE_MISSING))
              .when(day.is_null()).then(FIELD.format(field="date") + quoted_expr(dt) + DATE_NOT_VALID),
            pl.when(ty.is_not_null() & kind_of.is_null())
              .then(FIELD.format(field="type") + quoted_expr(ty) + TYPE_NOT_VALID),
            amount_error,
            pl.when(~pl.col("__cur").str.contains(_CURRENCY))
              .then(FIELD.format(field="currency") + quoted_expr(pl.col("__cur")) + CURRENCY_NOT_VALID),
        ], separator="; ", ignore_nulls=True).alias("__arr_err"))
        a = a.with_columns(pl.when(pl.col("__arr_err").str.len_bytes() > 0).then("__arr_err").alias("__arr_err"))

        # each arrival's day's rates: USD's (into CNY), and its own currency's
        rates = self.rates(a)
        u = rates.filter(pl.col("currency") == "USD").select(
            pl.col("day").alias("__day"), pl.col("rate").alias("__u_rate"), pl.col("rid").alias("__u_rid"),
            pl.col("error").alias("__u_error"))
        o = rates.select(pl.col("currency").alias("__cur"), pl.col("day").alias("__day"), pl.col("rate").alias("__o_rate"),
                         pl.col("error").alias("__o_error"))
        a = a.join(u, on="__day", how="left", maintain_order="left").join(o, on=["__cur", "__day"], how="left",
                                                                          maintain_order="left")
        c, u_rate, o_rate, err = pl.col("__cur"), pl.col("__u_rate"), pl.col("__o_rate"), pl.col("__arr_err")
        own_rate = pl.when(c == "CNY").then(pl.lit(10 ** FX_DECIMALS, dtype=pl.Int64)).otherwise(o_rate)
        cents = pl.when(err.is_null()).then(pl.col("__cents"))
        converted = round_div(cents.cast(I128) * own_rate.cast(I128), u_rate.cast(I128), self.mode)
        too_large = (c != "USD") & (converted >= MAX_AMOUNT_CENTS)  # (then the arrival's error, never an i64 overflow)
        usd = (pl.when(c == "USD").then(cents)
               .when(u_rate.is_null() | ((c != "CNY") & o_rate.is_null()) | too_large.fill_null(False)).then(None)
               .otherwise(converted).cast(pl.Int64))
        reading = options.reading or "converted"
        a = a.with_columns(usd.alias("__usd"), pl.concat_str([
            err, pl.when(err.is_null() & too_large).then(pl.lit(converted_too_large("amount"))),
            pl.when(err.is_null() & ~c.is_in(["USD", "CNY"]) & o_rate.is_null()).then(pl.col("__o_error")),
            pl.when(err.is_null() & u_rate.is_null() & ((c != "USD") | pl.lit(reading == "converted"))).then(pl.col("__u_error")),
        ], separator="; ", ignore_nulls=True).alias("__err"))
        a = a.with_columns(pl.when(pl.col("__err").str.len_bytes() > 0).then("__err").alias("__err"))
        counted = kind_of.is_in(list(self.counts)).fill_null(False)
        return a.select(
            "__line", "__project_id", self._reward_year(pl.col("__day")).alias("__year"), "__kind", "__sector", "__industry_code",
            *(pl.when(kind_of == t).then("__usd").alias(f"__usd:{t}") for t in TYPES),
            *(pl.when(kind_of == t).then(pl.col("__usd").cast(I128) * u_rate.cast(I128)).alias(f"__cny:{t}") for t in CAN_COUNT),
            # the (rate, source) of a counted arrival's day, as one number; -1: no rate that day
            pl.when(counted).then(pl.col("__u_rid").fill_null(-1)).alias("__rid"),
            pl.when(pl.col("__err").is_not_null() & ~pl.col("__total")).then(
                ARRIVAL_ROW.split("{")[0] + pl.col("__line").cast(pl.String) + ": " + pl.col("__err")).alias("__msg"),
            "__total", "__label", *(f"__m:{x}" for x in self.own))

    def _reward_year(self, day: pl.Expr) -> pl.Expr:
        """The reward year of an arrival's day: its calendar year, or under an October-September year
        the year it began in (as `models.Arrival.reward_year`)."""
        if self.period == "october_september":
            import polars as pl

            return day.dt.year() - (day.dt.month() < 10).cast(pl.Int32)
        return day.dt.year()

    def _quote(self, currency: str, day: date) -> tuple[Decimal, str]:
        """An arrival day's rate and its source, in the language of the moment (raises FxError)."""
        if currency == "USD" and self.o.fx_rate is not None:
            return self.o.fx_rate, given_rate_source(self.o.fx_rate, "USD")
        quote = self.o.rates.quote(currency, on=day, year=day.year)
        return quote.rate, quote.source

    @in_english
    def rates(self, a: pl.DataFrame) -> pl.DataFrame:
        """The rates of the arrivals' days (those of earlier chunks too): USD's and each currency's,
        each with its source or the error that stands for it, and an id per distinct (rate, source)."""
        import polars as pl

        days = (a.filter(pl.col("__day").is_not_null() & pl.col("__cur").str.contains(_CURRENCY))
                .select("__cur", "__day").unique().rows())
        wanted = {("USD", d) for _, d in days} | {(c, d) for c, d in days if c not in ("USD", "CNY")}
        for currency, day in sorted(wanted - self.quotes.keys()):
            rate = source = error = None
            try:
                rate, source = self._quote(currency, day)
            except FxError as exc:
                error = str(exc)
                if self.lang != "en":
                    with using(self.lang):
                        try:
                            self._quote(currency, day)
                        except FxError as again:
                            self.shown[error] = str(again)
            if source is not None and source not in self.shown:  # (the summary states it in the interface's language)
                with using(self.lang):
                    self.shown[source] = self._quote(currency, day)[1]
            e8 = None if rate is None else _e8(Decimal(rate))
            if rate is not None and e8 is None:
                source, error = None, f"fx: the {currency} rate {rate} on {day} has more than {FX_DECIMALS} decimals"
            rid = self.ids.setdefault((e8, source), len(self.ids)) if e8 is not None else None
            self.quotes[(currency, day)] = (e8, source, error, rid)
        return pl.DataFrame([(c, d, *q) for (c, d), q in self.quotes.items()], orient="row", schema={
            "currency": pl.String, "day": pl.Date, "rate": pl.Int64, "source": pl.String, "error": pl.String, "rid": pl.Int64})


def _amount(cell: str, unit: Decimal) -> tuple[int | None, str | None]:
    """(cents, None) or (None, message) of an amount cell that is not a plain number: as `fdi calc` reads it."""
    try:
        amount = parse_amount(cell, "amount", scale=unit)  # (below MAX_AMOUNT)
    except InputError as exc:
        return None, str(exc)
    return int(amount * 100), None
