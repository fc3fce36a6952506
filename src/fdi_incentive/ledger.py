"""The ledger shape: a file of capital arrivals (project, date, type, amount, currency),
turned into one project-year row each, as `assess` does for a project's arrivals.

Each arrival is converted to USD at its own day's rate (to the cent, as the policy
rounds) and, when it counts, into CNY at that day's USD rate; the sums per project and
calendar year then go through the same rule as every other row. An arrival that
cannot be read makes its project-year an error row; one whose date cannot be read
becomes an error row of its own: nothing is lost.

All of it is polars expressions over the whole file, with integer arithmetic on
scaled values (cents, rates times 10^8); what only a few distinct cells need (an
amount that is not a plain number, a date in another form, the rates of each day)
is worked out once per distinct value in Python, as `fdi calc` does it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import FxError, InputError, PolicyError
from .frame import FX_DECIMALS, I128, MAX_AMOUNT, Options, _e8, _scale_of, decimal_text, round_div, unit_digits
from .io.readers import PARSE_ERROR, Source
from .money import money_fmt, parse_amount
from .policy import TYPE_NAMES, bundled_policies

if TYPE_CHECKING:
    import polars as pl

LEDGER_COLUMNS = ["project_id", "year", "kind", "sector", "industry_code", "paid_in_usd", "reinvested_profit",
                  "reinvested_profit_currency", "shareholder_loans_usd", "arrivals", "__ledger_error",
                  "__equity_cny", "__profit_cny", "__fx_rate_e8", "__fx_rate_text", "__fx_source_text"]
# The forms of a day a ledger may give: YYYY-MM-DD (or with / or . between), a date and time, as
# Chinese sheets write it (2024年3月15日), or 20240315. Day-first and month-first forms are not guessed.
_DAY = re.compile(r"(\d{4})(?:-(\d{1,2})-(\d{1,2})|/(\d{1,2})/(\d{1,2})|\.(\d{1,2})\.(\d{1,2})|年(\d{1,2})月(\d{1,2})日?|(\d{2})(\d{2}))"
                  r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?", re.ASCII)
_TYPE_SPACE = re.compile(r"[\s\-_]+")
_CURRENCY = "^[A-Z]{3}$"
_ROW_ERROR = "__row_error"  # a row the CSV reader had to pad or cut (see `normalise_csv`)


def parse_day(text: str) -> date | None:
    """A ledger's date cell (stripped) as a day, or None."""
    m = _DAY.fullmatch(text)
    if m is None:
        return None
    g = [x for x in m.groups()[1:] if x is not None]
    try:
        return date(int(m.group(1)), int(g[0]), int(g[1]))
    except ValueError:  # 2024-02-30
        return None


def arrival_type(text: str) -> str | None:
    """An arrival's type, forgiving case, spaces, - and _ (利润再投资 and 外方股东贷款 too)."""
    return TYPE_NAMES.get(_TYPE_SPACE.sub("_", text.lower()))


def usd_rounding(options: Options) -> str:
    """How arrivals are rounded to the USD cent: as the policies the batch may use say (they must agree)."""
    policies = [options.policy] if options.policy is not None else list(bundled_policies())
    ways = {(lp.policy.rounding.mode, _scale_of(lp.policy.rounding.usd_quantum)) for lp in policies}
    if len(ways) != 1 or next(iter(ways))[1] != 2:
        raise PolicyError("a ledger needs every policy it may use to convert arrivals to USD cents the same way")
    return next(iter(ways))[0]


def project_years(src: Source, options: Options, work: Path, projects: Source | None = None,
                  done: Callable[[float], None] = lambda fraction: None) -> Source:
    """The ledger's project-years as a CSV the scorer reads like any other (see LEDGER_COLUMNS);
    ``done`` hears how much of the work is done (0 to 1) after each step. The amounts are read
    at ``options.unit``; the project-years are in USD (score them at unit 1)."""
    import polars as pl

    m = src.mapping
    for need in ("project_id", "date", "type", "amount"):
        if need not in m:
            raise InputError("INPUT", need, "a ledger with project_id, date, type, amount and currency columns")
    mode = usd_rounding(options)
    raw = read_text(src)
    pm: dict[str, str] = {}
    if projects is not None:
        pm = projects.mapping
        if "project_id" not in pm:
            raise InputError("--projects", "file", "a project file with a project_id column")

    def stripped(name: str) -> pl.Expr:
        text = pl.col(name).str.strip_chars()
        return pl.when(text.str.len_bytes() > 0).then(text)

    # The file as it is, rows numbered as they stand in it; a row of empty cells holds no arrival.
    cells = [c for c in raw.columns if c != PARSE_ERROR]
    numbered = raw.lazy().with_row_index("__line", offset=1)
    if cells:
        numbered = numbered.filter(pl.any_horizontal(pl.col(c).str.len_bytes() > 0 for c in cells))
    own = {canon: stripped(m[canon]).alias(f"__{canon}")
           for canon in ("project_id", "date", "type", "amount", "currency", "kind", "sector", "industry_code") if canon in m}
    a = numbered.select(pl.col("__line"), *own.values(),
                        (stripped(PARSE_ERROR) if PARSE_ERROR in raw.columns else pl.lit(None, dtype=pl.String)).alias(_ROW_ERROR)
                        ).collect(engine="in-memory")
    del raw, numbered  # (the file's own cells: only the stripped ones are used from here on)
    if projects is not None:
        p = read_text(projects)
        take = [c for c in ("kind", "sector", "industry_code") if c not in m and c in pm]
        p = (p.select(stripped(pm["project_id"]).alias("__project_id"), *(stripped(pm[c]).alias(f"__{c}") for c in take))
             .filter(pl.col("__project_id").is_not_null()).unique("__project_id", keep="first", maintain_order=True))
        a = a.join(p, on="__project_id", how="left", maintain_order="left")  # (a project listed twice: its first row)
    a = a.with_columns(pl.lit(None, dtype=pl.String).alias(f"__{c}")
                       for c in ("currency", "kind", "sector", "industry_code") if f"__{c}" not in a.columns)

    # What few distinct cells need, once each: dates in other forms, types, amounts that are not plain numbers.
    dt, ty, am = pl.col("__date"), pl.col("__type"), pl.col("__amount")
    iso = pl.when(dt.str.len_bytes() == 10).then(dt.str.to_date("%Y-%m-%d", strict=False)).alias("__day")  # (else 24-03-15 is year 24)
    a = a.with_columns(iso)
    odd_days = a.filter(pl.col("__day").is_null() & dt.is_not_null())["__date"].unique().to_list()
    if odd_days:
        days = {t: parse_day(t) for t in odd_days}
        a = a.with_columns(pl.coalesce("__day", dt.replace_strict(days, default=None, return_dtype=pl.Date)).alias("__day"))
    types = {t: arrival_type(t) for t in a["__type"].unique().drop_nulls().to_list()}
    k = unit_digits(options.unit)
    whole = MAX_AMOUNT.adjusted() - k  # digits of the largest whole number below MAX_AMOUNT at --unit
    plain = am.str.contains(rf"^[0-9]{{1,{whole}}}(\.[0-9]{{1,{2 + k}}}0{{0,8}})?$").fill_null(False)
    a = a.with_columns(plain.alias("__plain"))
    a = a.with_columns(pl.when("__plain").then(am.cast(pl.Decimal(38, 2 + k), strict=False).to_physical().cast(pl.Int64))
                       .alias("__cents"))
    odd_amounts = a.filter(~pl.col("__plain") & am.is_not_null())["__amount"].unique().to_list()
    cur = pl.col("__currency").str.to_uppercase().fill_null("USD")
    a = a.with_columns(cur.alias("__cur"), ty.replace_strict(types, default=None, return_dtype=pl.String)
                       .fill_null(pl.when(ty.is_null()).then(pl.lit("equity"))).alias("__kind_of"))
    amount_error = pl.when(am.is_null()).then(pl.lit("amount: missing"))
    if odd_amounts:
        parsed = {cell: _amount(cell, options.unit) for cell in odd_amounts}
        a = a.with_columns(pl.when("__plain").then("__cents").otherwise(
            am.replace_strict({c: v for c, (v, _) in parsed.items()}, default=None, return_dtype=pl.Int64)).alias("__cents"))
        amount_error = amount_error.when(~pl.col("__plain")).then(
            am.replace_strict({c: e for c, (_, e) in parsed.items()}, default=None, return_dtype=pl.String))
    day, kind_of = pl.col("__day"), pl.col("__kind_of")
    a = a.with_columns(pl.concat_str([
        pl.col(_ROW_ERROR),
        pl.when(dt.is_null()).then(pl.lit("date: missing; expected YYYY-MM-DD"))
          .when(day.is_null()).then("date: '" + dt + "' is not valid; expected YYYY-MM-DD (or 2024年3月15日, 20240315)"),
        pl.when(ty.is_not_null() & kind_of.is_null())
          .then("type: '" + ty + "' is not valid; expected equity, reinvested_profit or shareholder_loan"),
        amount_error,
        pl.when(~pl.col("__cur").str.contains(_CURRENCY))
          .then("currency: '" + pl.col("__cur") + "' is not valid; expected a three-letter ISO 4217 code"),
    ], separator="; ", ignore_nulls=True).alias("__arr_err"))
    a = a.with_columns(pl.when(pl.col("__arr_err").str.len_bytes() > 0).then("__arr_err").alias("__arr_err"))
    done(0.25)

    rates = day_rates(a, options)
    counts = {"equity", "reinvested_profit"}
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
    usd = (pl.when(c == "USD").then(cents)
           .when(u_rate.is_null() | ((c != "CNY") & o_rate.is_null())).then(None)
           .otherwise(round_div(cents.cast(I128) * own_rate.cast(I128), u_rate.cast(I128), mode).cast(pl.Int64)))
    reading = options.reading or "converted"
    a = a.with_columns(usd.alias("__usd"), pl.concat_str([
        err,
        pl.when(err.is_null() & ~c.is_in(["USD", "CNY"]) & o_rate.is_null()).then(pl.col("__o_error")),
        pl.when(err.is_null() & u_rate.is_null() & ((c != "USD") | pl.lit(reading == "converted"))).then(pl.col("__u_error")),
    ], separator="; ", ignore_nulls=True).alias("__err"))
    a = a.with_columns(pl.when(pl.col("__err").str.len_bytes() > 0).then("__err").alias("__err"))
    counted = kind_of.is_in(list(counts)).fill_null(False)
    usd_of = {t: pl.when(kind_of == t).then("__usd") for t in ("equity", "reinvested_profit", "shareholder_loan")}
    cny_of = {t: pl.when(kind_of == t).then(pl.col("__usd").cast(I128) * u_rate.cast(I128)) for t in counts}
    a = a.with_columns(
        pl.col("__day").dt.year().alias("__year"),
        *(x.alias(f"__usd:{t}") for t, x in usd_of.items()), *(x.alias(f"__cny:{t}") for t, x in cny_of.items()),
        # the (rate, source) of a counted arrival's day, as one number; -1: no rate that day
        pl.when(counted & (kind_of != "shareholder_loan")).then(pl.col("__u_rid").fill_null(-1)).alias("__rid"),
        pl.when(pl.col("__err").is_not_null()).then("arrival row " + pl.col("__line").cast(pl.String) + ": " + pl.col("__err"))
          .alias("__msg"))

    # (polars' in-memory engine: its streaming one took 1.1 GB at the peak for 1M arrivals, against 0.6, and longer)
    dated = a.lazy().filter(pl.col("__day").is_not_null())
    years = dated.group_by("__project_id", "__year", maintain_order=True).agg(
        pl.col("__line").min().alias("__first"),
        *(pl.col(f"__{x}").first(ignore_nulls=True).alias(x) for x in ("kind", "sector", "industry_code")),
        *(pl.col(f"__usd:{t}").sum().alias(f"__sum:{t}") for t in usd_of),
        *(pl.col(f"__cny:{t}").sum().alias(f"__cny:{t}") for t in counts),
        pl.len().alias("arrivals"),
        pl.col("__rid").drop_nulls().n_unique().alias("__n_rates"),
        pl.col("__rid").first(ignore_nulls=True).alias("__one_rid")).collect(engine="in-memory")
    # a project-year's bad arrivals, in row order (few: apart from the sums)
    if a["__msg"].null_count() < a.height:
        msgs = (dated.filter(pl.col("__msg").is_not_null()).group_by("__project_id", "__year", maintain_order=True)
                .agg(pl.col("__msg").str.join("; ").alias("__ledger_error")).collect(engine="in-memory"))
        years = years.join(msgs, on=["__project_id", "__year"], how="left", maintain_order="left", nulls_equal=True)
    else:
        years = years.with_columns(pl.lit(None, dtype=pl.String).alias("__ledger_error"))
    # an arrival whose date cannot be read: a row of its own
    undated = a.filter(pl.col("__day").is_null()).select(
        pl.col("__line").alias("__first"), pl.col("__project_id").alias("project_id"), pl.lit(None, dtype=pl.String).alias("year"),
        pl.col("__kind").alias("kind"), pl.col("__sector").alias("sector"), pl.col("__industry_code").alias("industry_code"),
        *(pl.lit(None, dtype=pl.String).alias(x) for x in ("paid_in_usd", "reinvested_profit")),
        pl.lit("USD").alias("reinvested_profit_currency"), pl.lit(None, dtype=pl.String).alias("shareholder_loans_usd"),
        pl.lit("1").alias("arrivals"), pl.col("__msg").alias("__ledger_error"),
        *(pl.lit(None, dtype=pl.String).alias(x) for x in LEDGER_COLUMNS[-5:]))
    del a, dated  # (the arrivals: from here on, only their project-years)
    done(0.8)

    def money(cents: pl.Expr) -> pl.Expr:
        return decimal_text(cents, 2)

    base = pl.col("__sum:equity") + pl.col("__sum:reinvested_profit")
    both = pl.col("__cny:equity") + pl.col("__cny:reinvested_profit")
    mean = round_div(both, pl.when(base > 0).then(base.cast(I128) * 100).otherwise(1), "half_up")  # CNY per USD to six decimals, as `assess` states it
    one = rates.select(pl.col("rid").alias("__one_rid"), pl.col("rate").alias("__one_rate"), pl.col("source").alias("__one_source"))
    years = years.join(one.unique("__one_rid"), on="__one_rid", how="left", maintain_order="left")
    n = pl.col("__n_rates")
    # the rate stated: the one rate of the year's counted arrivals, or their weighted mean to six decimals
    years = years.with_columns(pl.when(n == 1).then(pl.col("__one_rate")).when((n > 1) & (base > 0))
                               .then(mean.cast(pl.Int64) * 100).alias("__e8"))
    e8 = pl.col("__e8")
    rate_text = decimal_text(e8, FX_DECIMALS, least=0)
    several = {k: f"weighted mean of the rates of {k} arrival dates" for k in years["__n_rates"].unique().to_list() if k > 1}
    years = years.select(
        pl.col("__first"), pl.col("__project_id").alias("project_id"), pl.col("__year").cast(pl.String).alias("year"),
        "kind", "sector", "industry_code",
        money(pl.col("__sum:equity")).alias("paid_in_usd"), money(pl.col("__sum:reinvested_profit")).alias("reinvested_profit"),
        pl.lit("USD").alias("reinvested_profit_currency"), money(pl.col("__sum:shareholder_loan")).alias("shareholder_loans_usd"),
        pl.col("arrivals").cast(pl.String), "__ledger_error",
        pl.col("__cny:equity").cast(pl.String).alias("__equity_cny"),
        pl.col("__cny:reinvested_profit").cast(pl.String).alias("__profit_cny"),
        e8.cast(pl.String).alias("__fx_rate_e8"), rate_text.alias("__fx_rate_text"),  # (as `rate_str` writes it)
        pl.when(n == 1).then(pl.col("__one_source"))
          .otherwise(n.replace_strict(several, default=None, return_dtype=pl.String)).alias("__fx_source_text"))
    table = pl.concat([years, undated]).sort("__first") if undated.height else years
    done(1.0)
    mapping = {c: c for c in LEDGER_COLUMNS if not c.startswith("__") and c != "arrivals"}  # (its rates: see `Scorer`)
    # handed to the scorer as it is (written out and read back, it took ~0.6 s per 1M arrivals)
    return Source(path=src.path, format="frame", columns=list(LEDGER_COLUMNS), mapping=mapping,
                  frame=table.select(LEDGER_COLUMNS))


def _amount(cell: str, unit: Decimal) -> tuple[int | None, str | None]:
    """(cents, None) or (None, message) of an amount cell that is not a plain number: as `fdi calc` reads it."""
    try:
        amount = parse_amount(cell, "amount", scale=unit)
        if amount >= MAX_AMOUNT:
            raise InputError("amount", cell, f"an amount below {money_fmt(MAX_AMOUNT)}")
    except InputError as exc:
        return None, str(exc)
    return int(amount * 100), None


def day_rates(a: pl.DataFrame, options: Options) -> pl.DataFrame:
    """The rates of each arrival's day: USD's (into CNY) and the arrival's own currency's, each with
    its source or the error that stands for it, and an id per distinct (rate, source)."""
    import polars as pl

    days = (a.filter(pl.col("__day").is_not_null() & pl.col("__cur").str.contains(_CURRENCY))
            .select("__cur", "__day").unique().rows())
    wanted = {("USD", d) for _, d in days} | {(c, d) for c, d in days if c not in ("USD", "CNY")}
    given = (options.fx_rate, f"given rate: {options.fx_rate} CNY per USD") if options.fx_rate is not None else None
    rows = []
    for currency, day in sorted(wanted):
        if currency == "USD" and given is not None:
            rows.append((currency, day, *given, None))
            continue
        try:
            quote = options.rates.quote(currency, on=day, year=day.year)
            rows.append((currency, day, quote.rate, quote.source, None))
        except FxError as exc:
            rows.append((currency, day, None, None, str(exc)))
    ids: dict[tuple[Decimal, str], int] = {}
    table = []
    for currency, day, rate, source, error in rows:
        e8 = None
        if rate is not None:
            e8 = _e8(Decimal(rate))
            if e8 is None:
                rate, source, error = None, None, f"fx: the {currency} rate {rate} on {day} has more than {FX_DECIMALS} decimals"
        rid = ids.setdefault((e8, source), len(ids)) if e8 is not None else None
        table.append((currency, day, e8, source, error, rid))
    return pl.DataFrame(table, schema={"currency": pl.String, "day": pl.Date, "rate": pl.Int64, "source": pl.String,
                                       "error": pl.String, "rid": pl.Int64}, orient="row")


def read_text(src: Source) -> pl.DataFrame:
    """A ledger's (or project file's) cells as text, as the file has them; a CSV row that is
    longer than the header is cut, and says so in PARSE_ERROR (see `normalise_csv`)."""
    import polars as pl

    from .io.readers import as_text, needs_text, normalise_csv

    if src.format == "parquet":
        try:
            df = pl.read_parquet(src.path)
        except pl.exceptions.PolarsError as exc:
            raise InputError("INPUT", str(src.path), f"a readable Parquet file ({str(exc).splitlines()[0]})") from None
        return df.select(as_text(df[c]) if needs_text(df.schema[c]) else pl.col(c).cast(pl.String) for c in df.columns)
    try:
        return pl.read_csv(src.path, has_header=True, new_columns=src.columns, infer_schema=False, separator=src.delimiter,
                           quote_char='"', encoding="utf8", raise_if_empty=False)
    except pl.exceptions.ComputeError:
        if src.has_parse_errors_column:
            raise InputError("INPUT", str(src.path), "a ledger file that can be read") from None
    normalised = normalise_csv(src)  # ragged rows: each kept, with its parse error
    try:
        return read_text(normalised)
    finally:
        for path in normalised.temp_files[len(src.temp_files):]:
            path.unlink(missing_ok=True)
