"""The ledger shape: a file of capital arrivals (project, date, type, amount, currency),
turned into one project-year row each, as `assess` does for a project's arrivals.

Each arrival is converted to USD at its own day's rate (to the cent, as the policy
rounds) and, when it counts, into CNY at that day's USD rate; the sums per project and
calendar year then go through the same rule as every other row. An arrival that
cannot be read makes its project-year an error row; one whose date cannot be read
becomes an error row of its own: nothing is lost.
"""

import csv
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path

from .errors import FxError, InputError
from .frame import CNY_SCALE, FX_DECIMALS, MAX_AMOUNT, Options
from .io.readers import Source
from .money import GROUPED_PATTERN, money_fmt
from .policy import TYPE_NAMES

LEDGER_COLUMNS = ["project_id", "year", "kind", "sector", "industry_code", "paid_in_usd", "reinvested_profit",
                  "reinvested_profit_currency", "shareholder_loans_usd", "arrivals", "__ledger_error",
                  "__equity_cny", "__profit_cny", "__fx_rate_text", "__fx_source_text"]


LEDGER_MEMORY = "512MB"  # DuckDB spills to the work folder beyond this: a ledger's memory does not grow with it


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: object) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def unit_sql(scale: int) -> str:
    """10^-scale as an exact decimal (DuckDB's DECIMAL division returns a double, inexact above 2^53)."""
    return f"CAST('{Decimal(1).scaleb(-scale):f}' AS DECIMAL({scale + 1},{scale}))"


def round_div_sql(num: str, den: str, mode: str) -> str:
    """Integer division of non-negative HUGEINTs, rounded as the policy says."""
    if mode == "half_up":
        return f"(2 * ({num}) + ({den})) // (2 * ({den}))"
    if mode == "down":
        return f"({num}) // ({den})"
    if mode == "up":
        return f"(({num}) + ({den}) - 1) // ({den})"
    return (f"(CASE WHEN 2 * (({num}) % ({den})) > ({den}) THEN ({num}) // ({den}) + 1 "
            f"WHEN 2 * (({num}) % ({den})) < ({den}) THEN ({num}) // ({den}) "
            f"ELSE ({num}) // ({den}) + ((({num}) // ({den})) % 2) END)")


def date_sql(cell: str) -> str:
    """A day from its text: YYYY-MM-DD (or YYYY/M/D, a date and time), or as Chinese sheets write it,
    2024年3月15日, 2024.3.15 or 20240315. Day-first and month-first forms are not guessed."""
    chinese = f"regexp_replace(replace({cell}, '日', ''), '[年月.]', '-', 'g')"
    return (f"COALESCE(TRY_CAST({cell} AS DATE), TRY_CAST({chinese} AS DATE), "
            f"CASE WHEN regexp_full_match({cell}, '[0-9]{{8}}') THEN TRY_CAST(TRY_STRPTIME({cell}, '%Y%m%d') AS DATE) END)")


def write_table(path: Path, rows: Iterable[tuple]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(("" if v is None else v for v in r) for r in rows)


def relation(src: Source) -> str:
    """A DuckDB relation reading the file as text."""
    if src.format == "parquet":
        return f"read_parquet({lit(src.path)})"
    cols = "{" + ", ".join(f"{lit(c)}: 'VARCHAR'" for c in src.columns) + "}"
    return (f"read_csv({lit(src.path)}, header=true, auto_detect=false, columns={cols}, delim={lit(src.delimiter)}, "
            f"quote='\"', escape='\"', strict_mode=true)")


def project_years(src: Source, options: Options, work: Path, projects: Source | None = None,
                  done: Callable[[float], None] = lambda fraction: None) -> Source:
    """The ledger's project-years as a CSV the scorer reads like any other (see LEDGER_COLUMNS);
    ``done`` hears how much of the work is done (0 to 1) after each step."""
    import duckdb

    from .io.readers import normalise_csv

    con = duckdb.connect(config={"preserve_insertion_order": True, "memory_limit": LEDGER_MEMORY, "temp_directory": str(work / "spill")})
    try:
        proj_rel = proj_map = None
        if projects is not None:
            proj_rel, proj_map = relation(projects), projects.mapping
        try:
            table = prepare_ledger(con, relation(src), src.mapping, options, work, proj_rel, proj_map, done=done)
        except (duckdb.InvalidInputException, duckdb.ConversionException):
            if src.format != "csv" or src.has_parse_errors_column:
                raise InputError("INPUT", str(src.path), "a ledger file that can be read") from None
            normalised = normalise_csv(src)  # ragged rows: each kept, with its parse error
            try:
                table = prepare_ledger(con, relation(normalised), normalised.mapping, options, work, proj_rel, proj_map,
                                       done=done)
            finally:
                for path in normalised.temp_files[len(src.temp_files):]:
                    path.unlink(missing_ok=True)
        out = work / "ledger-years.csv"
        cols = ", ".join(
            f"CAST(CAST({q(c)} * {10 ** CNY_SCALE} AS HUGEINT) AS VARCHAR) AS {q(c)}" if c in ("__equity_cny", "__profit_cny")
            else q(c) for c in LEDGER_COLUMNS)
        con.execute(f"COPY (SELECT {cols} FROM {table}) TO {lit(out)} (FORMAT csv, HEADER true)")
        done(1.0)
    finally:
        con.close()
    mapping = {c: c for c in LEDGER_COLUMNS if not c.startswith("__") and c != "arrivals"} | {"fx_rate": "__fx_rate_text"}
    return Source(path=out, format="csv", columns=list(LEDGER_COLUMNS), mapping=mapping, temp_files=[out])


def prepare_ledger(con, relation: str, mapping: dict[str, str], options: Options, work: Path,
                   projects_relation: str | None = None, projects_mapping: dict[str, str] | None = None,
                   usd_quantum_scale: int = 2, mode: str = "half_up", done: Callable[[float], None] = lambda f: None) -> str:
    """Create the temp table `ledger_years` (one row per project-year) and return its name."""
    m = mapping
    for need in ("project_id", "date", "type", "amount"):
        if need not in m:
            raise InputError("INPUT", need, "a ledger with project_id, date, type, amount and currency columns")

    def col(canon: str, alias: str = "a") -> str:
        if canon in m:
            return f"NULLIF(trim(CAST({alias}.{q(m[canon])} AS VARCHAR)), '')"
        if projects_mapping and canon in projects_mapping:
            return f"NULLIF(trim(CAST(p.{q(projects_mapping[canon])} AS VARCHAR)), '')"
        return "CAST(NULL AS VARCHAR)"

    join = ""
    if projects_relation is not None:
        pid = projects_mapping.get("project_id") if projects_mapping else None
        if pid is None:
            raise InputError("--projects", "file", "a project file with a project_id column")
        join = f"LEFT JOIN {projects_relation} p ON trim(CAST(p.{q(pid)} AS VARCHAR)) = trim(CAST(a.{q(m['project_id'])} AS VARCHAR))"
    types = ", ".join(f"({lit(k)}, {lit(v)})" for k, v in TYPE_NAMES.items())
    amount = col("amount")
    clean = f"replace(replace(replace({amount}, ',', ''), '_', ''), ' ', '')"
    # The file as it is, first: with insertion order preserved, a row's rowid is its place in the
    # file (row_number() OVER () over the joins below made DuckDB number the rows on one thread).
    con.execute(f"CREATE OR REPLACE TEMP TABLE ledger_raw AS SELECT * FROM {relation}")
    shadowed = any(c.lower() == "rowid" for c, *_ in con.execute("DESCRIBE ledger_raw").fetchall())
    line = "row_number() OVER ()" if shadowed else "a.rowid + 1"  # (a column of that name hides the rowid)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE ledger_arrivals AS
        SELECT *,
            CASE WHEN __grouped AND __amount_n >= 0 AND __amount_n < {MAX_AMOUNT} AND NOT __sub THEN __amount_n END AS __amount,
            concat_ws('; ',
                CASE WHEN __date_raw IS NULL THEN 'date: missing; expected YYYY-MM-DD'
                     WHEN __date IS NULL THEN 'date: ' || chr(39) || __date_raw || chr(39) || ' is not valid; expected YYYY-MM-DD (or 2024年3月15日, 20240315)' END,
                CASE WHEN __type_raw IS NOT NULL AND __type IS NULL
                     THEN 'type: ' || chr(39) || __type_raw || chr(39) || ' is not valid; expected equity, reinvested_profit or shareholder_loan' END,
                CASE WHEN __amount_raw IS NULL THEN 'amount: missing'
                     WHEN NOT __grouped THEN 'amount: ' || chr(39) || __amount_raw || chr(39) || ' is not valid; expected an amount such as 15000000 or 15,000,000.00 (a comma groups thousands; decimals follow a point)'
                     WHEN __amount_n IS NULL OR __amount_n < 0 OR __amount_n >= {MAX_AMOUNT}
                     THEN 'amount: ' || chr(39) || __amount_raw || chr(39) || ' is not valid; expected an amount of zero or more, below {money_fmt(MAX_AMOUNT)}'
                     WHEN __sub THEN 'amount: ' || chr(39) || __amount_raw || chr(39) || ' is not valid; expected an amount to the cent (at most two decimal places)' END,
                CASE WHEN NOT regexp_full_match(__currency, '[A-Z]{{3}}')
                     THEN 'currency: ' || chr(39) || __currency || chr(39) || ' is not valid; expected a three-letter ISO 4217 code' END
            ) AS __arr_err
        FROM (
            SELECT {line} AS __line,
                {col('project_id')} AS __project, {col('date')} AS __date_raw, {date_sql(col('date'))} AS __date,
                {col('type')} AS __type_raw,
                COALESCE(t.canon, CASE WHEN {col('type')} IS NULL THEN 'equity' END) AS __type,
                {amount} AS __amount_raw,
                -- a comma, _ or space only groups thousands (as parse_amount has it): 15000000,50 is no amount
                (NOT regexp_matches({amount}, '[,_ ]') OR regexp_full_match({amount}, {lit(GROUPED_PATTERN)})) AS __grouped,
                TRY_CAST({clean} AS DECIMAL(18,2)) AS __amount_n,
                (strpos({clean}, '.') > 0 AND length(rtrim(split_part({clean}, '.', 2), '0')) > 2) AS __sub,
                COALESCE(upper({col('currency')}), 'USD') AS __currency,
                {col('kind')} AS __kind, {col('sector')} AS __sector, {col('industry_code')} AS __code
            FROM ledger_raw a
            LEFT JOIN (SELECT * FROM (VALUES {types}) v(key, canon)) t
                ON t.key = regexp_replace(lower(NULLIF(trim(CAST(a.{q(m['type'])} AS VARCHAR)), '')), '[\\s\\-_]+', '_', 'g')
            {join}
        )""")

    con.execute("DROP TABLE ledger_raw")
    done(0.25)

    # The rates of each arrival's day: USD for the conversion into CNY, and the arrival's own currency.
    days = con.execute("SELECT DISTINCT __currency, __date FROM ledger_arrivals WHERE __date IS NOT NULL "
                       "AND regexp_full_match(__currency, '[A-Z]{3}')").fetchall()
    wanted = {("USD", d) for _, d in days} | {(c, d) for c, d in days if c not in ("USD", "CNY")}
    rows = []
    for currency, day in sorted(wanted):
        try:
            quote = options.rates.quote(currency, on=day, year=day.year)
            if currency == "USD" and options.fx_rate is not None:
                rows.append((currency, day, options.fx_rate, f"given rate: {options.fx_rate} CNY per USD", None))
                continue
            if quote.rate != quote.rate.quantize(Decimal(1).scaleb(-FX_DECIMALS)):
                raise FxError(f"fx: the {currency} rate {quote.rate} on {day} has more than {FX_DECIMALS} decimals")
            rows.append((currency, day, quote.rate, quote.source, None))
        except FxError as exc:
            if currency == "USD" and options.fx_rate is not None:
                rows.append((currency, day, options.fx_rate, f"given rate: {options.fx_rate} CNY per USD", None))
            else:
                rows.append((currency, day, None, None, str(exc)))
    path = work / "day_rates.csv"
    write_table(path, rows)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE ledger_rates AS SELECT * FROM read_csv({lit(path)}, header=false,
        auto_detect=false, columns={{'currency': 'VARCHAR', 'day': 'DATE', 'rate': 'DECIMAL(18,{FX_DECIMALS})',
        'source': 'VARCHAR', 'error': 'VARCHAR'}}, nullstr='')""")

    scale = 10 ** usd_quantum_scale
    # Widen before scaling: DuckDB multiplies DECIMAL(18) in 64 bits and would overflow.
    own = f"CAST((CASE WHEN a.__currency = 'CNY' THEN 1 ELSE o.rate END) AS DECIMAL(38,{FX_DECIMALS}))"
    num = f"CAST(CAST(a.__amount AS DECIMAL(38,2)) * {scale} AS HUGEINT) * CAST({own} * {10 ** FX_DECIMALS} AS HUGEINT)"
    den = f"CAST(CAST(u.rate AS DECIMAL(38,{FX_DECIMALS})) * {10 ** FX_DECIMALS} AS HUGEINT)"
    usd = (f"CASE WHEN a.__currency = 'USD' THEN a.__amount WHEN u.rate IS NULL OR (a.__currency <> 'CNY' AND o.rate IS NULL) THEN NULL "
           f"ELSE CAST(CAST({round_div_sql(num, den, mode)} AS DECIMAL(38,0)) * {unit_sql(usd_quantum_scale)} AS DECIMAL(18,2)) END")
    reading = lit(options.reading or "converted")
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW ledger_conv AS
        SELECT a.*, {usd} AS __usd, u.rate AS __usd_rate, u.source AS __usd_source,
            NULLIF(concat_ws('; ', NULLIF(a.__arr_err, ''),
                CASE WHEN a.__arr_err = '' AND a.__currency NOT IN ('USD', 'CNY') AND o.rate IS NULL THEN o.error END,
                CASE WHEN a.__arr_err = '' AND u.rate IS NULL AND (a.__currency <> 'USD' OR {reading} = 'converted') THEN u.error END
            ), '') AS __err
        FROM ledger_arrivals a
        LEFT JOIN ledger_rates u ON u.currency = 'USD' AND u.day = a.__date
        LEFT JOIN ledger_rates o ON o.currency = a.__currency AND o.day = a.__date""")

    d = f"DECIMAL(38,{2 + FX_DECIMALS})"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE ledger_years AS
        SELECT * EXCLUDE (__first) FROM (
            SELECT min(__line) AS __first, __project AS project_id, CAST(year(__date) AS VARCHAR) AS year,
                arg_min(__kind, __line) AS kind, arg_min(__sector, __line) AS sector, arg_min(__code, __line) AS industry_code,
                CAST(COALESCE(sum(__usd) FILTER (WHERE __type = 'equity'), 0) AS VARCHAR) AS paid_in_usd,
                CAST(COALESCE(sum(__usd) FILTER (WHERE __type = 'reinvested_profit'), 0) AS VARCHAR) AS reinvested_profit,
                'USD' AS reinvested_profit_currency,
                CAST(COALESCE(sum(__usd) FILTER (WHERE __type = 'shareholder_loan'), 0) AS VARCHAR) AS shareholder_loans_usd,
                CAST(count(*) AS VARCHAR) AS arrivals,
                string_agg('arrival row ' || __line || ': ' || __err, '; ' ORDER BY __line) FILTER (WHERE __err IS NOT NULL) AS __ledger_error,
                CAST(COALESCE(sum(CAST(__usd AS DECIMAL(38,2)) * CAST(__usd_rate AS DECIMAL(38,{FX_DECIMALS}))) FILTER (WHERE __type = 'equity'), 0) AS {d}) AS __equity_cny,
                CAST(COALESCE(sum(CAST(__usd AS DECIMAL(38,2)) * CAST(__usd_rate AS DECIMAL(38,{FX_DECIMALS}))) FILTER (WHERE __type = 'reinvested_profit'), 0) AS {d}) AS __profit_cny,
                count(DISTINCT (__usd_rate, __usd_source)) FILTER (WHERE __type <> 'shareholder_loan') AS __n_rates,
                any_value(__usd_rate) FILTER (WHERE __type <> 'shareholder_loan') AS __one_rate,
                any_value(__usd_source) FILTER (WHERE __type <> 'shareholder_loan') AS __one_source
            FROM ledger_conv WHERE __date IS NOT NULL
            GROUP BY __project, year(__date)
            UNION ALL
            SELECT __line, __project, NULL, __kind, __sector, __code, NULL, NULL, 'USD', NULL, '1',
                'arrival row ' || __line || ': ' || __err, NULL, NULL, 0, NULL, NULL
            FROM ledger_conv WHERE __date IS NULL
        ) ORDER BY __first""")
    done(0.8)
    # The rate to state: the one rate of the year's counted arrivals, or their weighted mean (as `assess`).
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW ledger_years_out AS
        SELECT * EXCLUDE (__n_rates, __one_rate, __one_source),
            CASE WHEN __n_rates = 1 THEN CAST(__one_rate AS VARCHAR)
                 WHEN __n_rates > 1 AND (CAST(paid_in_usd AS DECIMAL(18,2)) + CAST(reinvested_profit AS DECIMAL(18,2))) > 0
                 -- exact, half-up to six decimals as `assess` states it (DuckDB's DECIMAL division returns a double)
                 THEN CAST(CAST(CAST({round_div_sql(
                     f"CAST((__equity_cny + __profit_cny) * {10 ** (2 + FX_DECIMALS)} AS HUGEINT)",
                     "CAST((CAST(paid_in_usd AS DECIMAL(38,2)) + CAST(reinvested_profit AS DECIMAL(38,2))) * 100 AS HUGEINT) * 100",
                     "half_up")} AS DECIMAL(38,0)) * CAST('0.000001' AS DECIMAL(7,6)) AS DECIMAL(18,6)) AS VARCHAR) END AS __fx_rate_text,
            CASE WHEN __n_rates = 1 THEN __one_source
                 WHEN __n_rates > 1 THEN 'weighted mean of the rates of ' || __n_rates || ' arrival dates' END AS __fx_source_text
        FROM ledger_years""")
    return "ledger_years_out"  # (a view: the COPY reads the ordered table once, in its order)
