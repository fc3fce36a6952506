"""The columnar evaluator: the same policy files applied to a whole table at once, in SQL (DuckDB).

`engine.decide` is the rule for one project-year; this module generates, from the
same policy files, the SQL that applies it to a million rows at close to the speed
of reading the file. It holds no number of its own: thresholds, comparators, rates,
exclusions, the cap and the rounding are read from each policy, and the lookups
(sector names, every GB/T code, the policy and FX rate of each year) are built by
the same Python functions `fdi calc` uses. A property test holds the two to
identical results on random inputs (tests/test_batch.py).

Money is exact: amounts are DECIMAL(38, 2), rates DECIMAL(38, 8); products keep
their full scale; non-USD amounts are converted with integer arithmetic; the payout
is rounded once, as the policy says.
"""

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from .errors import FxError, InputError, PolicyError
from .fx import RateChain
from .io.readers import PARSE_ERROR
from .industry import (
    AMBIGUOUS_CLASSES,
    CATEGORIES,
    PUBLIC_SECTOR_NAMES,
    QUASI_FINANCE_CLASSES,
    SECTION_CATEGORY,
    SECTOR_NAMES,
    combine,
    divisions,
)
from .industry import sections as sections_of_divisions
from .models import KIND_NAMES
from .money import money_fmt
from .policy import LoadedPolicy, Policy, bundled_policies, no_policy_message, policy_for_year

MAX_AMOUNT = Decimal(10) ** 14  # USD 100 trillion: far above any project, far below DECIMAL(38) limits
MAX_FX = Decimal(10000)
FX_DECIMALS = 8
YEARS = range(1900, 2201)
GROSS_SCALE = 2 + 2 * FX_DECIMALS  # USD cents x CNY-per-USD x rate, kept whole
# DuckDB pitfall: CASE over DECIMAL(38,10) and DECIMAL(38,2) resolves to DECIMAL(38,2) and
# rounds silently. Every CASE below that mixes scales casts its branches to one type.

RESULT_COLUMNS = [
    "policy", "eligible", "tier", "rate", "base_usd", "fx_rate", "fx_source", "base_cny", "gross_cny",
    "capped", "incentive_cny", "reason", "error",
]


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: object) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def dec(value: Decimal, scale: int = FX_DECIMALS, width: int = 38) -> str:
    return f"CAST({lit(format(value, 'f'))} AS DECIMAL({width},{scale}))"


def rate_text(expr: str) -> str:
    """Decimal -> plain text without trailing zeros (as `rate_str`)."""
    return f"rtrim(rtrim(CAST({expr} AS VARCHAR), '0'), '.')"


def _scale(quantum: Decimal) -> int:
    exp = quantum.normalize().as_tuple().exponent
    if quantum.normalize() != Decimal(1).scaleb(exp):  # type: ignore[arg-type]
        raise PolicyError(f"rounding: the batch engine needs a power of ten as quantum, not {quantum}")
    return -int(exp)  # type: ignore[arg-type]


def round_sql(expr: str, quantum: Decimal, mode: str) -> str:
    """The policy's one rounding step, exactly, for non-negative decimals."""
    k = _scale(quantum)
    if mode == "half_up":
        return f"CAST(ROUND({expr}, {k}) AS DECIMAL(38,{k}))"  # DuckDB rounds half away from zero
    if mode == "half_even":
        return f"CAST(round_even({expr}, {k}) AS DECIMAL(38,{k}))"
    factor = f"CAST(1{'0' * k} AS DECIMAL(38,0))" if k > 0 else "1"
    fn = "floor" if mode == "down" else "ceil"
    return f"CAST({fn}({expr} * {factor}) / {factor} AS DECIMAL(38,{k}))"


def unit_sql(scale: int) -> str:
    """10^-scale as an exact decimal: multiplying by it scales an integer count of units.

    (DuckDB's DECIMAL division returns a double, which is not exact above 2^53.)
    """
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


@dataclass
class Options:
    """What the user chose for a batch."""

    policy: LoadedPolicy | None = None  # forced; None = the one in force each year
    reading: str | None = None
    fx_rate: Decimal | None = None  # one CNY-per-USD rate for every row without its own
    rates: RateChain = field(default_factory=RateChain)
    unit: Decimal = Decimal(1)


@dataclass
class Lookups:
    """Small tables built in Python and joined in SQL, and what they used."""

    policies: dict[str, LoadedPolicy]
    year_rows: list[tuple]
    currency_rows: list[tuple] = field(default_factory=list)


def year_lookup(options: Options, need_fx: bool) -> Lookups:
    """For every year: the policy in force (or why none is), its USD rate and the rate's source."""
    rows, used = [], {}
    for year in YEARS:
        try:
            lp = options.policy or policy_for_year(year)
        except PolicyError as exc:
            rows.append((year, None, f"{exc}", None, None, None))
            continue
        used[lp.policy.id] = lp
        rate = source = fx_error = None
        if options.fx_rate is not None:
            rate, source = options.fx_rate, f"given rate: {options.fx_rate} CNY per USD"
        elif need_fx:
            try:
                quote = options.rates.quote("USD", on=None, year=year)
                rate, source = quote.rate, quote.source
            except FxError as exc:
                fx_error = str(exc)
        rows.append((year, lp.policy.id, None, rate, source, fx_error))
    return Lookups(policies=used, year_rows=rows)


def write_table(path: Path, rows: Iterable[tuple]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(("" if v is None else v for v in r) for r in rows)


def is_in(expr: str, values: Iterable[str], negate: bool = False) -> str:
    """``expr IN (values)`` without DuckDB's IN-clause rewrite: a constant IN-list is planned as a
    join, and joins do not keep the input's row order at scale; so does list_contains over a
    constant list. An OR-chain of equalities is not rewritten. (NULL expr gives NULL, as IN does.)"""
    test = "(" + " OR ".join(f"{expr} = {v}" for v in values) + ")"
    return f"(NOT {test})" if negate else test


def sql_value(value: object, sql_type: str) -> str:
    if value is None:
        return f"CAST(NULL AS {sql_type})"
    if sql_type.startswith("DECIMAL"):
        return f"CAST({lit(format(value, 'f'))} AS {sql_type})"
    if sql_type == "BOOLEAN":
        return "true" if value else "false"
    if sql_type == "INTEGER":
        return str(int(value))
    return f"CAST({lit(value)} AS VARCHAR)"


def sql_map(entries: Iterable[tuple[str, str]]) -> str:
    """A MAP literal from (key expression, value expression) pairs.

    Lookups are MAP literals, not joins: DuckDB's hash joins do not keep the input's
    row order at scale (seen at 1M rows), and a batch must keep it. Constant maps are
    folded once per query.
    """
    return "MAP {" + ", ".join(f"{k}: {v}" for k, v in entries) + "}"


def struct(fields: dict[str, str]) -> str:
    return "{" + ", ".join(f"{lit(k)}: {v}" for k, v in fields.items()) + "}"


def code_layers(key: str) -> list[str]:
    """Select-list layers that classify a GB/T code key as `industry.classify` does, each value once.

    Apply them in nested SELECTs (`layered`): DuckDB evaluates a repeated sub-expression again
    each time, and a MAP lookup is a scan, so the division's section is looked up once.
    Generated from industry.py's own data (divisions, section categories, the classes where
    quasi-finance sits, the ambiguous classes); tests hold it to `code_table()` on every
    valid form. Adds __code_found, __by_code and __ambiguous (NULL code/category: not valid).
    """
    sections = sorted(sections_of_divisions())
    div_section = sql_map((lit(d), lit(sec)) for d, (sec, _, _) in divisions().items())
    cats = sql_map((lit(sec), lit(cat)) for sec, cat in SECTION_CATEGORY.items())
    quasi = [lit(c) for c in sorted(QUASI_FINANCE_CLASSES)]
    ambiguous_classes = [lit(c) for c in sorted(AMBIGUOUS_CLASSES)]
    return [
        f"(CASE WHEN {key}[1] BETWEEN 'A' AND 'Z' THEN {key}[1] END) AS __cl, "
        f"(CASE WHEN {key}[1] BETWEEN 'A' AND 'Z' THEN {key}[2:] ELSE {key} END) AS __cd, "
        f"({key} IS NULL OR {key} = '') AS __cnull",
        f"{div_section}[__cd[1:2]] AS __cs",
        f"(CASE WHEN __cnull THEN NULL WHEN __cd = '' THEN COALESCE({is_in('__cl', [lit(x) for x in sections])}, false) "
        f"WHEN regexp_full_match(__cd, '[0-9]{{2,4}}') AND __cs IS NOT NULL AND (__cl IS NULL OR __cl = __cs) THEN true "
        f"ELSE false END) AS __cv",
        f"(CASE WHEN __cv THEN COALESCE(__cl, __cs) || __cd END) AS __code_found, "
        f"(CASE WHEN __cv IS NULL OR NOT __cv THEN NULL WHEN length(__cd) = 4 AND {is_in('__cd', quasi)} THEN 'quasi_finance' "
        f"ELSE COALESCE({cats}[COALESCE(__cs, __cl)], 'other') END) AS __by_code, "
        f"COALESCE(__cv AND length(__cd) = 4 AND {is_in('__cd', ambiguous_classes)}, false) AS __ambiguous",
    ]


def layered(relation: str, layers: list[str]) -> str:
    """Apply select-list layers in nested SELECTs over a relation (a query or a table name)."""
    sql = relation if relation.lstrip().upper().startswith("SELECT") else f"SELECT * FROM {relation}"
    for layer in layers:
        sql = f"SELECT *, {layer} FROM ({sql})"
    return sql


def currency_lookup(options: Options, pairs: Iterable[tuple[str, int]]) -> list[tuple]:
    """CNY per unit of each (currency, year) the file needs, or why there is none."""
    rows = []
    for currency, year in pairs:
        try:
            quote = options.rates.quote(currency, on=None, year=year)
            if quote.rate != quote.rate.quantize(Decimal(1).scaleb(-FX_DECIMALS)):
                raise FxError(f"fx: the {currency} rate {quote.rate} has more than {FX_DECIMALS} decimals")
            rows.append((currency, year, quote.rate, quote.source, None))
        except FxError as exc:
            rows.append((currency, year, None, None, str(exc)))
    return rows


class SqlBuilder:
    """Builds the per-row SQL for one input table: parse, classify, convert, then apply the policies.

    Each stage is a CTE that computes a value once and later stages refer to it by name:
    DuckDB does not share sub-expressions across CASE branches, so repeating an
    expression would evaluate it again for every row.
    """

    def __init__(self, columns: list[str], mapping: dict[str, str], options: Options, lookups: Lookups):
        self.columns, self.m, self.o, self.lookups = columns, mapping, options, lookups
        self.policies = lookups.policies
        self.paid_col = "paid_in_usd" if "paid_in_usd" in mapping or "paid_in" not in mapping else "paid_in"
        self.amounts = {"paid": self.paid_col, "loans": "shareholder_loans_usd", "profit": "reinvested_profit"}

    def text(self, canon: str) -> str:
        """The trimmed cell of a canonical column (NULL when empty or absent), computed once in `raw`."""
        return f"__t_{canon}" if canon in self.m else "CAST(NULL AS VARCHAR)"

    def raw_cte(self) -> str:
        cells = "".join(f", NULLIF(trim(CAST({q(col)} AS VARCHAR)), '') AS __t_{canon}" for canon, col in self.m.items())
        errs = [f"NULLIF({q(c)}, '')" for c in (PARSE_ERROR, "__ledger_error") if c in self.columns]
        perr = f"COALESCE({', '.join(errs)})" if errs else "CAST(NULL AS VARCHAR)"
        return f"SELECT src.*, {perr} AS __perr{cells} FROM src"

    def unit_digits(self) -> int:
        digits = -self.o.unit.normalize().as_tuple().exponent  # type: ignore[operator]
        if self.o.unit.normalize() != Decimal(1).scaleb(-digits) and digits > 0:
            raise InputError("--unit", str(self.o.unit), "1, 10k or 1m")
        return len(str(int(self.o.unit))) - 1  # 1 -> 0, 10000 -> 4, 1000000 -> 6

    def parse_cte(self) -> str:
        """Each cell cleaned once; keys normalised without regular expressions where that is exact."""
        t, m = self.text, self.m
        cleaned = "".join(
            f", replace(replace(replace({t(col)}, ',', ''), '_', ''), ' ', '') AS __c_{key}"
            for key, col in self.amounts.items()
        )

        def key(expr: str) -> str:  # as industry.normalise_name: lower case, runs of space, - and _ -> _
            k = f"replace(replace(lower({expr}), '-', '_'), ' ', '_')"
            return f"(CASE WHEN contains({k}, '__') THEN regexp_replace({k}, '_+', '_', 'g') ELSE {k} END)"

        currency = f"upper({t('currency')})" if self.paid_col == "paid_in" and "currency" in m else "'USD'"
        profit_ccy = (f"COALESCE(upper({t('reinvested_profit_currency')}), 'CNY')"
                      if "reinvested_profit_currency" in m else "'CNY'")
        return f"""
        SELECT *{cleaned},
            replace(replace({t('fx_rate')}, ',', ''), ' ', '') AS __c_fx,
            TRY_CAST({t('year')} AS INTEGER) AS __year,
            {key(t('sector'))} AS __sector_key, {key(t('kind'))} AS __kind_key,
            replace(replace(replace(replace(upper({t('industry_code')}), ' ', ''), '.', ''), '-', ''), chr(9), '') AS __code_key,
            {currency} AS __ccy, {profit_ccy} AS __profit_ccy
        FROM raw"""

    def checked_cte(self) -> str:
        """Values where valid, messages where not, in the words of `parse_amount`.

        64-bit decimals throughout: an amount is DECIMAL(18,2) once scaled by the unit. A cell
        with more decimals than a cent allows is found by looking at its text, not by rounding.
        """
        t, parts = self.text, []
        k = self.unit_digits()
        limit = f"CAST({MAX_AMOUNT} AS DECIMAL(18,2))"
        unit = "" if k == 0 else f" * CAST({10 ** k} AS DECIMAL(18,0))"
        for key, col in self.amounts.items():
            c, raw = f"__c_{key}", t(col)
            n = f"__n_{key}"
            parts.append(f"CAST(TRY_CAST({c} AS DECIMAL(18,{2 + k})){unit} AS DECIMAL(18,2)) AS {n}")
            parts.append(f"(strpos({c}, '.') > 0 AND length(rtrim(split_part({c}, '.', 2), '0')) > {2 + k}) AS __sub_{key}")
        fx = f"TRY_CAST(__c_fx AS DECIMAL(18,{FX_DECIMALS}))"
        parts.append(f"{fx} AS __n_fx")
        parts.append(f"(strpos(__c_fx, '.') > 0 AND length(rtrim(split_part(__c_fx, '.', 2), '0')) > {FX_DECIMALS}) AS __sub_fx")
        inner = f"SELECT *, {', '.join(parts)} FROM parsed"
        outs = []
        for key, col in self.amounts.items():
            n, raw = f"__n_{key}", t(col)
            shown = f"'{col}: ' || chr(39) || {raw} || chr(39) || ' is not valid; expected '"
            outs.append(f"CASE WHEN {n} >= 0 AND {n} < {limit} AND NOT __sub_{key} THEN {n} END AS __{key}")
            outs.append(
                f"CASE WHEN {raw} IS NULL THEN NULL "
                f"WHEN {n} IS NULL THEN {shown} || 'an amount such as 15000000 or 15,000,000.00, below {money_fmt(MAX_AMOUNT)}' "
                f"WHEN {n} < 0 THEN {shown} || 'an amount of zero or more' "
                f"WHEN {n} >= {limit} THEN {shown} || 'an amount below {money_fmt(MAX_AMOUNT)}' "
                f"WHEN __sub_{key} THEN {shown} || 'an amount to the cent (at most two decimal places)' END AS __{key}_err")
        fx_raw, fx_max = t("fx_rate"), f"CAST({MAX_FX} AS DECIMAL(18,{FX_DECIMALS}))"
        outs.append(f"CASE WHEN __n_fx > 0 AND __n_fx < {fx_max} AND NOT __sub_fx THEN __n_fx END AS __row_fx")
        outs.append(
            f"CASE WHEN {fx_raw} IS NULL THEN NULL WHEN __n_fx IS NULL OR __n_fx <= 0 OR __n_fx >= {fx_max} "
            f"THEN 'fx_rate: ' || chr(39) || {fx_raw} || chr(39) || ' is not valid; expected a positive number of CNY per unit, such as 7.1' "
            f"WHEN __sub_fx THEN 'fx_rate: ' || chr(39) || {fx_raw} || chr(39) || ' has more than {FX_DECIMALS} decimals' END AS __fx_err")
        outs.append(f"{t(self.paid_col)} IS NULL AS __paid_missing")
        return f"SELECT *, {', '.join(outs)} FROM ({inner})"

    def classify_cte(self) -> str:
        """Join the lookups; every failure becomes a message, never a lost row."""
        t = lambda c: "p." + self.text(c) if c in self.m else self.text(c)  # noqa: E731
        sectors = ", ".join(PUBLIC_SECTOR_NAMES)
        given = lit(f"given rate: {self.o.fx_rate} CNY per USD") if self.o.fx_rate is not None else "NULL"
        quote = "chr(39)"
        row_source = "p.__fx_source_text" if "__fx_source_text" in self.columns else "'fx_rate column'"
        given_rate = sql_value(self.o.fx_rate, f"DECIMAL(18,{FX_DECIMALS})")
        fx_error = self.year_fx_error_sql().replace("[__year]", "[p.__year]")
        return f"""
        SELECT p.*,
            p.__policy0 AS __policy,
            COALESCE(p.__kind_found, CASE WHEN {t('kind')} IS NULL THEN 'new' END) AS __kind,
            CASE WHEN p.__by_name IS NOT NULL AND p.__by_code IS NOT NULL
                 THEN {self.combine_map()}[p.__by_name || '|' || p.__by_code || '|' || CAST(p.__ambiguous AS VARCHAR)]
                 ELSE COALESCE(p.__by_name, p.__by_code) END AS __category,
            p.__code_found AS __code,
            COALESCE(p.__row_fx, {given_rate}, p.__y.usd_rate) AS __usd_rate,
            CASE WHEN p.__row_fx IS NOT NULL THEN {row_source} ELSE COALESCE({given}, p.__y.fx_source) END AS __fx_source,
            CASE WHEN p.__row_fx IS NULL AND {given_rate} IS NULL AND p.__y.usd_rate IS NULL THEN {fx_error} END AS __year_fx_err,
            p.__cp.rate AS __ccy_rate, p.__cp.error AS __ccy_err,
            p.__cr.rate AS __profit_rate, p.__cr.error AS __profit_ccy_err,
            CASE WHEN p.__perr IS NOT NULL THEN p.__perr ELSE concat_ws('; ',
                CASE WHEN {t('year')} IS NULL THEN 'year: missing; expected a calendar year such as 2024'
                     WHEN p.__year IS NULL THEN 'year: ' || {quote} || {t('year')} || {quote} || ' is not valid; expected a calendar year such as 2024'
                     WHEN p.__year NOT BETWEEN {YEARS.start} AND {YEARS.stop - 1} THEN 'year: ' || p.__year || ' is out of range'
                     WHEN p.__policy0 IS NULL THEN replace({lit(no_policy_message('{YEAR}'))}, '{{YEAR}}', CAST(p.__year AS VARCHAR)) END,
                CASE WHEN {t('kind')} IS NOT NULL AND p.__kind_found IS NULL
                     THEN 'kind: ' || {quote} || {t('kind')} || {quote} || ' is not valid; expected one of new, capital-increase' END,
                CASE WHEN {t('sector')} IS NULL AND {t('industry_code')} IS NULL
                     THEN 'sector: missing; expected a sector name or a GB/T 4754-2017 industry code'
                     WHEN {t('sector')} IS NOT NULL AND p.__by_name IS NULL
                     THEN 'sector: ' || {quote} || {t('sector')} || {quote} || ' is not valid; expected one of {sectors}'
                     WHEN {t('industry_code')} IS NOT NULL AND p.__by_code IS NULL
                     THEN 'industry_code: ' || {quote} || {t('industry_code')} || {quote} || ' is not valid; expected a GB/T 4754-2017 code such as C, 36, C3670, K7010 or 7212'
                     WHEN p.__by_name IS NOT NULL AND p.__by_code IS NOT NULL
                          AND {self.combine_map()}[p.__by_name || '|' || p.__by_code || '|' || CAST(p.__ambiguous AS VARCHAR)] IS NULL
                     THEN 'sector: ' || {quote} || {t('sector')} || {quote} || ' is not valid; expected a sector that agrees with industry code ' || p.__code_found || ' (' || replace(p.__by_code, '_', ' ') || ')' END,
                p.__paid_err,
                CASE WHEN p.__paid_missing AND p.__profit IS NULL THEN '{self.paid_col}: missing; expected the foreign capital paid in during the year' END,
                p.__loans_err, p.__profit_err, p.__fx_err,
                CASE WHEN NOT regexp_full_match(p.__ccy, '[A-Z]{{3}}')
                     THEN 'currency: ' || {quote} || p.__ccy || {quote} || ' is not valid; expected a three-letter ISO 4217 currency code such as USD, EUR, HKD or CNY' END,
                CASE WHEN NOT regexp_full_match(p.__profit_ccy, '[A-Z]{{3}}')
                     THEN 'reinvested_profit_currency: ' || {quote} || p.__profit_ccy || {quote} || ' is not valid; expected a three-letter ISO 4217 currency code' END
            ) END AS __err0
        FROM (SELECT *,
                {self.policy_sql()} AS __policy0,
                {self.year_rate_map()}[__year] AS __y,
                {self.kind_map()}[__kind_key] AS __kind_found,
                {self.sector_map()}[__sector_key] AS __by_name,
                {self.currency_map()}[__ccy || '|' || __year] AS __cp,
                {self.currency_map()}[__profit_ccy || '|' || __year] AS __cr
              FROM ({layered("checked", code_layers("__code_key"))})) p"""

    def policy_sql(self) -> str:
        """The policy in force in __year: a range test per policy, as `policy_for_year` decides."""
        if self.o.policy is not None:
            return lit(self.o.policy.policy.id)
        whens = []
        for lp in reversed(bundled_policies()):
            e = lp.policy.effective
            upper = f" AND __year <= {e.to.year}" if e.to else ""
            whens.append(f"WHEN __year >= {e.from_.year}{upper} THEN {lit(lp.policy.id)}")
        return f"(CASE {' '.join(whens)} END)"

    def year_rate_map(self) -> str:
        """CNY per USD and its source, for the years that have one (a handful, not every year)."""
        rows = [(y, r, src) for y, _, _, r, src, _ in self.lookups.year_rows if r is not None]
        if not rows or self.o.fx_rate is not None:
            return "CAST(NULL AS MAP(INTEGER, STRUCT(usd_rate DECIMAL(18,8), fx_source VARCHAR)))"
        return sql_map((str(y), struct({"usd_rate": sql_value(r, f"DECIMAL(18,{FX_DECIMALS})"),
                                        "fx_source": sql_value(src, "VARCHAR")})) for y, r, src in rows)

    def year_fx_error_sql(self) -> str:
        """Why a year has no rate (looked up only for rows that lack one)."""
        errors = [(y, e) for y, _, _, _, _, e in self.lookups.year_rows if e is not None]
        if not errors:
            return "CAST(NULL AS VARCHAR)"
        return f"{sql_map((str(y), lit(e)) for y, e in errors)}[__year]"

    def kind_map(self) -> str:
        return sql_map((lit(k), lit(v)) for k, v in KIND_NAMES.items())

    def sector_map(self) -> str:
        return sql_map((lit(k), lit(v)) for k, v in SECTOR_NAMES.items())

    def combine_map(self) -> str:
        return sql_map((lit(f"{a}|{b}|{str(amb).lower()}"), sql_value(combine(a, b, amb), "VARCHAR"))
                       for a in CATEGORIES for b in CATEGORIES for amb in (False, True))

    def currency_map(self) -> str:
        rows = self.lookups.currency_rows or [("XXX", 0, None, None, "unused")]
        return sql_map((lit(f"{c}|{y}"), struct({
            "rate": sql_value(rate, f"DECIMAL(18,{FX_DECIMALS})"), "error": sql_value(err, "VARCHAR")}))
            for c, y, rate, _, err in rows)

    def convert_cte(self, mode: str, usd_scale: int) -> str:
        """Non-USD amounts to USD with integer arithmetic, rounded as the policy says; then the row's error."""
        # Widen before scaling: DuckDB multiplies DECIMAL(18) in 64 bits and would overflow.
        den = f"CAST(CAST(__usd_rate AS DECIMAL(38,{FX_DECIMALS})) * {10 ** FX_DECIMALS} AS HUGEINT)"

        def to_usd(amount: str, currency: str, own: str) -> str:
            own_rate = f"(CASE WHEN {currency} = 'CNY' THEN CAST(1 AS DECIMAL(18,{FX_DECIMALS})) ELSE {own} END)"
            num = (f"CAST(CAST({amount} AS DECIMAL(38,2)) * {10 ** usd_scale} AS HUGEINT) * "
                   f"CAST(CAST({own_rate} AS DECIMAL(38,{FX_DECIMALS})) * {10 ** FX_DECIMALS} AS HUGEINT)")
            units = round_div_sql(num, den, mode)
            return (f"CASE WHEN {currency} = 'USD' OR {amount} = 0 THEN CAST({amount} AS DECIMAL(18,2)) "
                    f"WHEN __usd_rate IS NULL THEN NULL "
                    f"ELSE CAST(CAST({units} AS DECIMAL(38,0)) * {unit_sql(usd_scale)} AS DECIMAL(18,2)) END")

        needs_usd = "((__ccy <> 'USD' AND __paid > 0) OR (__profit_ccy <> 'USD' AND __profit > 0))"
        return f"""
        SELECT *,
            {to_usd('__paid', '__ccy', '__ccy_rate')} AS __paid_conv,
            {to_usd('COALESCE(__profit, 0)', '__profit_ccy', '__profit_rate')} AS __profit_conv,
            NULLIF(concat_ws('; ', NULLIF(__err0, ''),
                CASE WHEN __err0 = '' AND __usd_rate IS NULL AND ({needs_usd} OR __reading = 'converted') THEN __year_fx_err END,
                CASE WHEN __err0 = '' AND __ccy <> 'USD' AND __ccy <> 'CNY' AND __paid > 0 THEN __ccy_err END,
                CASE WHEN __err0 = '' AND __profit_ccy <> 'USD' AND __profit_ccy <> 'CNY' AND __profit > 0 THEN __profit_ccy_err END
            ), '') AS __error
        FROM (SELECT *, {self.reading_sql()} AS __reading FROM classified)"""

    # -- the rule, from each policy --------------------------------------------------------------
    def per_policy(self, build) -> str:
        """CASE over the policies in use, each branch built from that policy's file."""
        branches = " ".join(f"WHEN {lit(pid)} THEN {build(lp.policy)}" for pid, lp in self.policies.items())
        return f"(CASE __policy {branches} END)" if branches else "NULL"

    def rate_literal_sql(self) -> str:
        """The applied rate as text, straight from the policy (no per-row decimal formatting)."""
        from .money import rate_str

        return self.per_policy(lambda p: "(CASE __tier " + " ".join(
            f"WHEN {lit(t.id)} THEN {lit(rate_str(t.rate))}" for t in p.tiers) + " END)")

    def reading_sql(self) -> str:
        if self.o.reading is not None:
            return lit(self.o.reading)
        return self.per_policy(lambda p: lit(p.conversion.default))

    def rule_ctes(self) -> tuple[str, str, str]:
        def base(p: Policy) -> str:
            parts = [f"COALESCE(__{k}_conv, 0)" for k, c in (("paid", "equity"), ("profit", "reinvested_profit"))
                     if c in p.base.counts]
            return "CAST(" + (" + ".join(parts) or "0") + " AS DECIMAL(18,2))"

        def excluded(p: Policy) -> str:
            cats = [lit(c) for c in p.exclusions.categories] or ["NULL"]
            codes = "".join(f" OR starts_with(COALESCE(__code, ''), {lit(c)})" for c in p.exclusions.codes)
            return f"(COALESCE({is_in('__category', cats)}, false){codes})"

        def tier(p: Policy) -> str:
            kinds = [lit(k) for k in p.base.kinds]
            # choose_tier: the best rate that passes; on a tie, the later tier
            ordered = sorted(enumerate(p.tiers), key=lambda it: (it[1].rate, it[0]), reverse=True)
            whens = []
            for _, t in ordered:
                cats = is_in("__category", (lit(c) for c in t.categories)) if t.categories else "true"
                op = ">" if t.threshold.comparator == "gt" else ">="
                whens.append(f"WHEN {cats} AND __base_usd {op} {dec(t.threshold.amount, 2, 18)} THEN {lit(t.id)}")
            return f"(CASE WHEN __excluded OR {is_in('__kind', kinds, negate=True)} THEN NULL {' '.join(whens)} END)"

        def rate(p: Policy) -> str:
            return "(CASE __tier " + " ".join(f"WHEN {lit(t.id)} THEN {dec(t.rate, FX_DECIMALS, 18)}" for t in p.tiers) + " END)"

        return (
            f"SELECT *, {self.per_policy(base)} AS __base_usd, {self.per_policy(excluded)} AS __excluded FROM converted",
            f"SELECT *, {self.per_policy(tier)} AS __tier FROM based",
            f"""SELECT *, {self.per_policy(rate)} AS __rate,
                CASE WHEN __reading = 'converted'
                     THEN {self.ledger_cny() or f"CAST(CAST(__base_usd AS DECIMAL(38,2)) * CAST(__usd_rate AS DECIMAL(38,{FX_DECIMALS})) AS DECIMAL(38,{2 + FX_DECIMALS}))"}
                     ELSE CAST(__base_usd AS DECIMAL(38,{2 + FX_DECIMALS})) END AS __base_cny
            FROM tiered""",
        )

    def ledger_cny(self) -> str | None:
        """For a ledger: the base in CNY is the sum of each counted arrival at its own day's rate."""
        if "__equity_cny" not in self.columns:
            return None

        def cny(p: Policy) -> str:
            parts = [f"CAST({q(c)} AS DECIMAL(38,{2 + FX_DECIMALS}))" for c, t in (("__equity_cny", "equity"), ("__profit_cny", "reinvested_profit"))
                     if t in p.base.counts]
            return "CAST(" + (" + ".join(parts) or "0") + f" AS DECIMAL(38,{2 + FX_DECIMALS}))"

        return self.per_policy(cny)

    def payout_cte(self) -> str:
        def cap(p: Policy) -> str:
            return dec(p.cap.amount, 2) if p.cap.amount is not None else "CAST(NULL AS DECIMAL(38,2))"

        def rounded(p: Policy) -> str:
            if p.cap.amount is None:
                return round_sql("__gross", p.rounding.quantum, p.rounding.mode)
            # Both branches in the gross's own type: DuckDB would otherwise give the CASE the
            # smaller scale of the cap and round the gross before the policy's one rounding.
            capped = f"CAST({cap(p)} AS DECIMAL(38,{GROSS_SCALE}))"
            return round_sql(f"(CASE WHEN __gross > {capped} THEN {capped} ELSE __gross END)", p.rounding.quantum, p.rounding.mode)

        return f"""
        SELECT *, {self.per_policy(cap)} AS __cap, COALESCE(__gross > {self.per_policy(cap)}, false) AS __capped,
               {self.per_policy(rounded)} AS __incentive
        FROM (SELECT *, COALESCE(CAST(__base_cny * CAST(__rate AS DECIMAL(38,{FX_DECIMALS})) AS DECIMAL(38,{GROSS_SCALE})), CAST(0 AS DECIMAL(38,{GROSS_SCALE}))) AS __gross
              FROM rated)"""

    def limbs_cte(self) -> str:
        """base_cny and gross_cny as exact text, each intermediate computed once (nested layers).

        DuckDB turns a 128-bit decimal into text slowly (about 2 CPU-seconds a column per million
        rows), and re-evaluates a sub-expression each time it appears. So, for the converted
        reading of project-years: U = base in cents (< 2e16), F = CNY per USD x 1e8 (< 1e12) and
        R = rate x 1e8 (<= 1e8) are multiplied in base-1e8 limbs, every product and carry below
        2^63, and the text is built from the limbs; other rows (nominal reading, ledgers) cast
        the decimal. Adds __bs and __gs: the texts before padding to two decimals.
        """
        e8 = 100_000_000
        rate = self.per_policy(lambda p: "(CASE __tier " + " ".join(
            f"WHEN {lit(t.id)} THEN {int(t.rate * e8)}" for t in p.tiers) + " ELSE 0 END)")
        fast = "false" if self.ledger_cny() else "(__reading = 'converted' AND __usd_rate IS NOT NULL AND __error IS NULL)"

        def text(whole: str, frac: str, digits: int) -> str:
            return f"rtrim(CAST({whole} AS VARCHAR) || '.' || lpad(CAST({frac} AS VARCHAR), {digits}, '0'), '0')"

        layers = [
            f"{fast} AS __fast",
            f"CASE WHEN __fast THEN CAST(CAST(__base_usd AS DECIMAL(38,2)) * 100 AS BIGINT) END AS __u, "
            f"CASE WHEN __fast THEN CAST(CAST(__usd_rate AS DECIMAL(38,{FX_DECIMALS})) * {10 ** FX_DECIMALS} AS BIGINT) END AS __f, "
            f"{rate} AS __r",
            f"(__u % {e8}) * (__f % {e8}) AS __c0, (__u // {e8}) * (__f % {e8}) + (__u % {e8}) * (__f // {e8}) AS __c1, "
            f"(__u // {e8}) * (__f // {e8}) AS __c2",
            f"__c0 % {e8} AS __l0, __c1 + __c0 // {e8} AS __k1",
            f"__k1 % {e8} AS __l1, __c2 + __k1 // {e8} AS __t2",
            f"__l0 * __r AS __e0, __l1 * __r AS __e1, (__t2 % {e8}) * __r AS __e2, (__t2 // {e8}) * __r AS __e3",
            f"__e1 + __e0 // {e8} AS __x1",
            f"__e2 + __x1 // {e8} AS __x2",
            f"__e3 + __x2 // {e8} AS __x3",
            f"CASE WHEN __fast THEN {text('__t2 * 1000000 + __l1 // 100', f'(__l1 % 100) * {e8} + __l0', 10)} "
            f"ELSE rtrim(CAST(__base_cny AS VARCHAR), '0') END AS __bs, "
            f"CASE WHEN __fast THEN {text(f'__x3 * 1000000 + (__x2 % {e8}) // 100', f'((__x2 % {e8}) % 100) * 10000000000000000 + (__x1 % {e8}) * {e8} + __e0 % {e8}', 18)} "
            f"ELSE rtrim(CAST(__gross AS VARCHAR), '0') END AS __gs",
        ]
        return layered("result", layers)

    @staticmethod
    def padded(column: str) -> str:
        """Trimmed decimal text -> at least two decimals (the column is computed once, upstream)."""
        return (f"(CASE WHEN {column}[-1] = '.' THEN {column} || '00' WHEN {column}[-2] = '.' THEN {column} || '0' "
                f"ELSE {column} END)")

    def reason_sql(self) -> str:
        """A one-line reason per row, its words and figures from the policy."""

        def reason(p: Policy) -> str:
            capped = (f" || CASE WHEN __capped THEN {lit('; capped at CNY ' + money_fmt(p.cap.amount))} ELSE '' END"
                      if p.cap.amount is not None else "")
            whens = []
            for t in p.tiers:
                text = f"{t.label}: base {t.threshold.words} USD {money_fmt(t.threshold.amount)}"
                whens.append(f"WHEN __tier = {lit(t.id)} THEN {lit(text)}{capped}")
            for c in CATEGORIES:
                applicable = [t for t in p.tiers if t.applies_to(c)]
                if applicable:
                    t = min(applicable, key=lambda t: t.threshold.amount)
                    whens.append(f"WHEN __category = {lit(c)} THEN {lit(f'no reward: base not {t.threshold.words} USD {money_fmt(t.threshold.amount)}')}")
            kinds = [lit(k) for k in p.base.kinds]
            return (f"(CASE WHEN __excluded THEN 'excluded: ' || replace(__category, '_', ' ') || {lit(' (' + p.exclusions.citation + ')')} "
                    f"WHEN {is_in('__kind', kinds, negate=True)} THEN 'kind not rewarded' {' '.join(whens)} END)")

        return self.per_policy(reason)

    def query(self, relation: str) -> str:
        """The whole per-row pipeline as CTEs; the last, `result`, has every column."""
        first = next(iter(self.policies.values())).policy if self.policies else None
        mode = first.rounding.mode if first else "half_up"
        usd_scale = _scale(first.rounding.usd_quantum) if first else 2
        for lp in self.policies.values():
            if (lp.policy.rounding.mode, _scale(lp.policy.rounding.usd_quantum)) != (mode, usd_scale):
                raise PolicyError("a batch over several policies needs them to convert to USD the same way")
        based, tiered, rated = self.rule_ctes()
        return f"""
        WITH src AS (SELECT * FROM {relation}),
        raw AS ({self.raw_cte()}),
        parsed AS ({self.parse_cte()}),
        checked AS ({self.checked_cte()}),
        classified AS ({self.classify_cte()}),
        converted AS ({self.convert_cte(mode, usd_scale)}),
        based AS ({based}),
        tiered AS ({tiered}),
        rated AS ({rated}),
        result AS ({self.payout_cte()})"""

    def result_aliases(self) -> dict[str, str]:
        """Result column -> its name in the output (prefixed fdi_ where the input already has that name)."""
        taken = set(self.columns)
        return {name: (name if name not in taken else f"fdi_{name}") for name in RESULT_COLUMNS}

    def output_names(self) -> list[str]:
        return [c for c in self.columns if not c.startswith("__")] + list(self.result_aliases().values())

    def category_layers(self, sector: str, code: str) -> list[str]:
        """Layers adding __category to rows that carry sector and code cells, decided as in `classify_cte`."""
        k = f"replace(replace(lower(NULLIF(trim({sector}), '')), '-', '_'), ' ', '_')"
        key = f"(CASE WHEN contains({k}, '__') THEN regexp_replace({k}, '_+', '_', 'g') ELSE {k} END)"
        code_key = f"replace(replace(replace(replace(upper(NULLIF(trim({code}), '')), ' ', ''), '.', ''), '-', ''), chr(9), '')"
        return [f"{code_key} AS __ck", f"{self.sector_map()}[{key}] AS __by_name", *code_layers("__ck"),
                f"(CASE WHEN __by_name IS NOT NULL AND __by_code IS NOT NULL "
                f"THEN {self.combine_map()}[__by_name || '|' || __by_code || '|' || CAST(__ambiguous AS VARCHAR)] "
                f"ELSE COALESCE(__by_name, __by_code) END) AS __category"]

    def output_columns(self, neutralise: bool) -> str:
        """Input columns as they were (formula-like text neutralised for spreadsheets), then the results."""
        cols = []
        for c in self.columns:
            if c.startswith("__"):  # the reader's and the ledger's own columns
                continue
            if neutralise:
                # '=', '+', '-', '@', tab, CR (an IN-list here would be planned as a join per column)
                # one strpos per cell (an IN-list would be planned as a join; an OR-chain repeats ord())
                text = f"CAST({q(c)} AS VARCHAR)"
                cols.append(f"CASE WHEN {text} <> '' AND strpos('=+-@' || chr(9) || chr(13), {text}[1]) > 0 "
                            f"THEN chr(39) || {text} ELSE {text} END AS {q(c)}")
            else:
                cols.append(q(c))
        ok = "__error IS NULL"
        res = {
            "policy": f"CASE WHEN {ok} THEN __policy END",
            "eligible": f"CASE WHEN {ok} THEN __tier IS NOT NULL END",
            "tier": f"CASE WHEN {ok} THEN __tier END",
            "rate": f"CASE WHEN {ok} THEN {self.rate_literal_sql()} END",
            "base_usd": f"CASE WHEN {ok} THEN CAST(__base_usd AS VARCHAR) END",
            "fx_rate": f"CASE WHEN {ok} THEN {rate_text('__usd_rate')} END",
            "fx_source": f"CASE WHEN {ok} AND __usd_rate IS NOT NULL THEN __fx_source END",
            "base_cny": f"CASE WHEN {ok} THEN {self.padded('__bs')} END",
            "gross_cny": f"CASE WHEN {ok} THEN {self.padded('__gs')} END",
            "capped": f"CASE WHEN {ok} THEN __capped END",
            "incentive_cny": f"CASE WHEN {ok} THEN CAST(__incentive AS VARCHAR) END",
            "reason": f"CASE WHEN {ok} THEN {self.reason_sql()} END",
            "error": "__error",
        }
        for name, alias in self.result_aliases().items():
            cols.append(f"{res[name]} AS {q(alias)}")
        return ",\n            ".join(cols)
