"""The policy compiled to SQL: one statement that scores a table of project-years where it lives.

The statement is built as one sqlglot syntax tree from the same objects `fdi batch` applies
(the policy files, industry.py's tables, the rate sources) and written out in each
dialect by sqlglot; no dialect has a query of its own. It gives the values `fdi batch`
gives on the same rows (frame.py), error texts included:

* money is DECIMAL throughout, every intermediate cast to a type just wide enough for its
  largest value (amounts below `money.MAX_AMOUNT`, rates below `money.MAX_FX_RATE` to 8
  decimals, tier rates at most 1), so no engine's precision rules round or overflow;
* the one rounding step is written out (floor of the fraction, half a quantum added for
  half-up), never an engine's ROUND;
* classification is CASE expressions made from industry.py's own tables; text is compared
  after the same stripping and normalising (Python's whitespace, lower case).

A bad row gets its error text and empty results; the query never fails on a value.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlglot import exp

from .errors import FxError, InputError, PolicyError
from .frame import FX_DECIMALS, _scale_of
from .money import MAX_AMOUNT, MAX_FX_RATE, YEARS
from .fx import RateChain
from .policy import LoadedPolicy, Policy, bundled_policies, no_policy_message

DIALECTS = ("duckdb", "postgres", "spark", "trino", "bigquery", "snowflake")
REFUSED = {
    "sqlite": "SQLite has no exact decimal type (NUMERIC and DECIMAL columns are stored as 64-bit floats or "
              "integers), so the payout cannot be computed exactly there",
}
INPUT_COLUMNS = ["project_id", "year", "kind", "sector", "industry_code", "paid_in_usd", "shareholder_loans_usd",
                 "reinvested_profit_usd", "fx_rate"]
RESULT_COLUMNS = ["policy", "policy_status", "eligible", "tier", "rate", "base_usd", "base_cny", "gross_cny",
                  "capped", "incentive_cny", "reason", "error"]
# the canonical names `fdi batch` gives these columns in its messages (reinvested profit is USD here)
FIELD = {"paid_in_usd": "paid_in_usd", "shareholder_loans_usd": "shareholder_loans_usd",
         "reinvested_profit_usd": "reinvested_profit"}

AMOUNT_DIGITS = MAX_AMOUNT.adjusted()  # whole digits of an amount below MAX_AMOUNT (14)
BASE = (AMOUNT_DIGITS + 3, 2)  # a base: two amounts added (17, 2)
FX = (MAX_FX_RATE.adjusted() + FX_DECIMALS, FX_DECIMALS)  # (12, 8)
CNY_WHOLE = BASE[0] - BASE[1] + MAX_FX_RATE.adjusted()  # whole digits of base x rate (19)
BASE_CNY = (CNY_WHOLE + BASE[1] + FX[1], BASE[1] + FX[1])  # (29, 10)
SNOWFLAKE_SCALE = 12  # Snowflake: a product keeps min(s1 + s2, max(s1, s2, 12)) decimals


@dataclass
class SqlOptions:
    """What the user chose: as for `fdi batch` where it applies."""

    table: str = "projects"
    view: str | None = None
    policy: LoadedPolicy | None = None
    reading: str | None = None
    fx_rate: Decimal | None = None
    rate: Decimal | None = None  # a granted rate, as `fdi calc --rate`
    keep: tuple[str, ...] = ()  # other columns of the table, carried through after the input columns


def dec(p: int, s: int) -> exp.DataType:
    return exp.DataType.build(f"DECIMAL({p}, {s})")


def num(value: Decimal | int, p: int | None = None, s: int | None = None) -> exp.Expression:
    """An exact numeric literal, cast to DECIMAL(p, s) (by default just wide enough)."""
    value = Decimal(value)
    text = format(value, "f")
    if s is None:
        s = max(0, -value.as_tuple().exponent)  # type: ignore[operator]
    if p is None:
        p = max(1, len(text.replace("-", "").replace(".", "").lstrip("0")) if abs(value) >= 1 else s)
        p = max(p, s, 1)
    return exp.cast(exp.Literal.number(text), dec(p, s))


def lit(text: str | None) -> exp.Expression:
    return exp.null() if text is None else exp.Literal.string(text)


def col(name: str) -> exp.Column:
    return exp.column(name)


def case(pairs, default: exp.Expression | None = None) -> exp.Expression:
    node = exp.Case()
    for cond, value in pairs:
        node = node.when(cond, value)
    return node.else_(default) if default is not None else node


def lookup(key: exp.Expression, table: dict, default: exp.Expression | None = None) -> exp.Expression:
    """CASE key WHEN k THEN v ...: a table of constants, never an IN-list or a join (which reorder rows)."""
    node = exp.Case(this=key)
    for k, v in table.items():
        node = node.when(lit(k) if isinstance(k, str) else exp.Literal.number(k), v if isinstance(v, exp.Expression) else lit(v))
    return node.else_(default) if default is not None else node


def truth(key: exp.Expression, keys) -> exp.Expression:
    """Whether key is one of keys (constants), as a CASE."""
    return lookup(key, {k: exp.true() for k in keys}, exp.false())


class Compiler:
    """Builds the statement for one set of options; `select()` is dialect-neutral, `sql(d)` writes it."""

    def __init__(self, options: SqlOptions):
        self.o = options
        self.policies = [options.policy] if options.policy else list(bundled_policies())
        self.dialect = "duckdb"
        for lp in self.policies:
            self._check(lp.policy)
        rates = [t.rate for lp in self.policies for t in lp.policy.tiers] + ([options.rate] if options.rate is not None else [])
        self.rate_scale = max(max(0, -r.normalize().as_tuple().exponent) for r in rates)  # type: ignore[operator]
        if self.rate_scale > FX_DECIMALS:
            raise PolicyError(f"rate: SQL takes rates to {FX_DECIMALS} decimals, not {max(rates)}")
        self.rate_type = (self.rate_scale + 1, self.rate_scale) if max(rates) >= 1 else (max(self.rate_scale, 1), self.rate_scale)
        self.gross = (CNY_WHOLE + BASE_CNY[1] + self.rate_scale, BASE_CNY[1] + self.rate_scale)
        for lp in self.policies:
            cap = lp.policy.cap.amount
            if cap is not None and (cap.adjusted() >= CNY_WHOLE or -cap.as_tuple().exponent > self.gross[1]):  # type: ignore[operator]
                raise PolicyError(f"{lp.policy.id}: cap {cap} does not fit the SQL's DECIMAL{self.gross}")

    @staticmethod
    def _check(policy: Policy) -> None:
        if _scale_of(policy.rounding.usd_quantum) != 2:
            raise PolicyError(f"{policy.id}: SQL takes USD amounts to the cent, not to {policy.rounding.usd_quantum}")

    # -- arithmetic whose types every engine keeps exact ------------------------------------
    def mul(self, a: exp.Expression, a_type: tuple[int, int], b: exp.Expression, out: tuple[int, int]) -> exp.Expression:
        """a x b cast to ``out``. DuckDB multiplies two narrow DECIMALs in 64 bits (and overflows):
        its left operand is widened to 38 digits first; Spark adds a digit to a product's precision
        and rounds past 38: its operands stay narrow."""
        if self.dialect == "duckdb":
            a = exp.cast(a, dec(38, a_type[1]))
        return exp.cast(exp.Mul(this=a, expression=b), dec(*out))

    def floor_to(self, v: exp.Expression, vt: tuple[int, int], q: int) -> exp.Expression:
        """v (>= 0, of type vt) rounded down to 10^-q, exactly: whole part + floor of the fraction's
        digits (no division, which is a double in DuckDB; no product wider than 38 digits)."""
        p, s = vt
        whole = exp.cast(exp.Floor(this=v), dec(p - s, 0))
        if q >= s:
            return exp.cast(v, dec(p - s + q, q))
        if q >= 0:
            frac = exp.cast(exp.Sub(this=v, expression=whole), dec(s, s))
            digits = exp.cast(exp.Floor(this=exp.Mul(this=frac, expression=num(10**q, q + 1, 0))), dec(max(q, 1), 0))
            part = exp.Mul(this=digits, expression=num(Decimal(1).scaleb(-q), max(q, 1), q))
            return exp.cast(exp.Add(this=whole, expression=part), dec(p - s + q + 1, q))
        down = exp.Floor(this=exp.Mul(this=whole, expression=num(Decimal(1).scaleb(q), -q, -q)))
        return exp.cast(exp.Mul(this=exp.cast(down, dec(p - s, 0)), expression=num(10**-q, 1 - q, 0)), dec(p - s + 1, 0))

    def rounded(self, v: exp.Expression, vt: tuple[int, int], q: int, mode: str) -> exp.Expression:
        """The one rounding step, written out for a non-negative v: half_up, down, up, half_even."""
        p, s = vt
        out = (p - s + max(q, 0) + 1, max(q, 0))
        quantum = num(Decimal(1).scaleb(-q))
        if mode == "down" or q >= s:
            return exp.cast(self.floor_to(v, vt, q), dec(*out))
        half = num(Decimal(5).scaleb(-q - 1))
        if mode == "half_up":
            return exp.cast(self.floor_to(exp.cast(exp.Add(this=v, expression=half), dec(p, s)), vt, q), dec(*out))
        t = self.floor_to(v, vt, q)
        up = exp.cast(exp.Add(this=t, expression=quantum), dec(*out))
        if mode == "up":
            return case([(exp.GT(this=v, expression=t), up)], exp.cast(t, dec(*out)))
        rest = exp.Sub(this=v, expression=t)
        n = exp.cast(exp.Mul(this=t, expression=num(Decimal(10) ** q if q >= 0 else Decimal(1).scaleb(q))), dec(p, 0))
        odd = exp.EQ(this=exp.Sub(this=n, expression=exp.Mul(this=exp.Floor(this=exp.Mul(this=n, expression=num(Decimal("0.5")))),
                                                              expression=num(2))), expression=num(1))
        return case([(exp.GT(this=rest, expression=half), up), (exp.LT(this=rest, expression=half), exp.cast(t, dec(*out))),
                     (odd, up)], exp.cast(t, dec(*out)))

    # -- the statement ----------------------------------------------------------------------
    def sql(self, dialect: str, pretty: bool = True) -> str:
        self.dialect = dialect
        if dialect == "snowflake" and BASE_CNY[1] + self.rate_scale > SNOWFLAKE_SCALE:
            raise InputError("--dialect", dialect, f"a dialect that keeps a product's decimals: Snowflake keeps at most "
                             f"{SNOWFLAKE_SCALE} of them, and base x FX x a rate of {self.rate_scale} decimals has "
                             f"{BASE_CNY[1] + self.rate_scale}")
        tree = self.select()
        if self.o.view:
            tree = exp.Create(this=exp.to_table(self.o.view), kind="VIEW", expression=tree, replace=False)
        if dialect == "postgres":  # OFFSET 0 keeps each layer a subquery: flattened, its expressions multiply
            for sub in tree.find_all(exp.Subquery):
                if isinstance(sub.this, exp.Select):
                    sub.this.set("offset", exp.Offset(expression=exp.Literal.number(0)))
        if dialect == "bigquery":  # NUMERIC holds 9 decimals; BIGNUMERIC 38
            tree = tree.transform(lambda n: exp.DataType(this=exp.DataType.Type.BIGDECIMAL, expressions=n.expressions)
                                  if isinstance(n, exp.DataType) and n.this == exp.DataType.Type.DECIMAL else n)
        return tree.sql(dialect=dialect, pretty=pretty)

    def select(self) -> exp.Select:
        from .sql_rule import rule_layers

        return rule_layers(self)

    # -- what the options and the policies decide, by year ----------------------------------
    def policy_of_year(self, year: exp.Expression) -> tuple[exp.Expression, exp.Expression]:
        """(policy index or NULL, the year's error or NULL), as `frame.Scorer._year`."""
        in_range = exp.Between(this=year, low=exp.Literal.number(YEARS.start), high=exp.Literal.number(YEARS.stop - 1))
        if self.o.policy is not None:
            outside = {}  # a forced policy's years outside its dates, where the policy says so (status_for)
            status_for = getattr(self.o.policy.policy, "status_for", None)
            for y in YEARS if status_for is not None else ():
                try:
                    status_for(y)
                except PolicyError as exc:
                    outside[y] = str(exc)
            if outside:
                missing_policy = template(lambda y: outside.get(y), year)
                pidx = case([(exp.not_(in_range), exp.null()), (exp.not_(exp.Is(this=missing_policy, expression=exp.null())),
                                                                 exp.null())], exp.Literal.number(0))
            else:
                pidx, missing_policy = case([(in_range, exp.Literal.number(0))]), None
        else:
            pairs = []
            for i, lp in reversed(list(enumerate(self.policies))):  # as policy_for_year: the latest that covers the year
                eff = lp.policy.effective
                hi = eff.to.year if eff.to else YEARS.stop - 1
                pairs.append((exp.Between(this=year, low=exp.Literal.number(eff.from_.year), high=exp.Literal.number(hi)),
                              exp.Literal.number(i)))
            pidx = case([(exp.not_(in_range), exp.null()), *pairs])
            missing_policy = template(lambda y: None if any(lp.policy.effective.covers(y) for lp in self.policies)
                                      else no_policy_message(y), year)
        shown = _cat(lit("year: '"), exp.cast(year, "VARCHAR"), lit("' is not valid; expected "))
        four_digits = exp.Between(this=year, low=exp.Literal.number(1000), high=exp.Literal.number(9999))
        err = case([
            (exp.Is(this=year, expression=exp.null()), lit("year: missing; expected a calendar year such as 2024")),
            (exp.not_(four_digits), _cat(shown, lit("a calendar year such as 2024 (or 2024年)"))),
            (exp.not_(in_range), _cat(shown, lit(f"a year from {YEARS.start} to {YEARS.stop - 1}"))),
        ] + ([(exp.Is(this=pidx, expression=exp.null()), missing_policy)] if missing_policy is not None else []))
        return pidx, err

    def usd_rate(self, year: exp.Expression) -> tuple[exp.Expression, exp.Expression]:
        """(the year's CNY per USD for rows without their own, or NULL; why there is none): --fx-rate,
        else the embedded ECB average of the year, as `fdi batch` takes them."""
        if self.o.fx_rate is not None:
            return num(self.o.fx_rate, *FX), exp.null()
        chain, rates, errors = RateChain(), {}, {}
        for y in YEARS:
            try:
                rates[y] = num(chain.quote("USD", on=None, year=y).rate, *FX)
            except FxError as exc:
                errors[y] = str(exc)
        return lookup(year, rates, exp.cast(exp.null(), dec(*FX))), template(lambda y: errors.get(y), year)

    def status_of_year(self, pidx: exp.Expression, year: exp.Expression) -> exp.Expression:
        """The policy's status in the year (in force, or assumed to continue), as the policy says."""
        pairs = []
        for i, lp in enumerate(self.policies):
            status_for = getattr(lp.policy, "status_for", None)
            if status_for is None:
                continue
            spans = spans_of({y: _status(status_for, y) for y in YEARS})
            pairs.append((exp.EQ(this=pidx, expression=exp.Literal.number(i)),
                          case([(exp.Between(this=year, low=exp.Literal.number(a), high=exp.Literal.number(b)), lit(v))
                                for a, b, v in spans])))
        return case(pairs) if pairs else exp.cast(exp.null(), "VARCHAR")


def _status(status_for, year: int) -> str | None:
    try:
        return status_for(year)
    except PolicyError:  # (a year outside the policy's dates: the row is an error, see policy_of_year)
        return None


def spans_of(values: dict[int, str]) -> list[tuple[int, int, str]]:
    """Runs of equal values over consecutive years: [(first, last, value)]."""
    out: list[list] = []
    for y, v in sorted(values.items()):
        if out and out[-1][2] == v and out[-1][1] == y - 1:
            out[-1][1] = y
        else:
            out.append([y, y, v])
    return [tuple(s) for s in out if s[2] is not None]  # type: ignore[misc]


def template(message, year: exp.Expression, years=None) -> exp.Expression:
    """A per-year message (None: no message) as a CASE over runs of consecutive years whose messages
    are the same but for the year, spliced in as text."""
    marker = "\x00"
    runs: list[list] = []  # [first, last, shape]: shape holds the marker where the year goes
    for y in (list(years) if years is not None else list(YEARS)):
        text = message(y)
        if text is None:
            continue
        shape = text.replace(str(y), marker) if text.count(str(y)) == 1 else text
        if runs and runs[-1][2] == shape and runs[-1][1] == y - 1:
            runs[-1][1] = y
        else:
            runs.append([y, y, shape])
    pairs = []
    for first, last, shape in runs:
        head, _, tail = shape.partition(marker)
        text = _cat(lit(head), exp.cast(year, "VARCHAR"), lit(tail)) if marker in shape else lit(shape)
        pairs.append((exp.Between(this=year, low=exp.Literal.number(first), high=exp.Literal.number(last)), text))
    return case(pairs) if pairs else exp.cast(exp.null(), "VARCHAR")


def _cat(*parts: exp.Expression) -> exp.Expression:
    out = parts[0]
    for p in parts[1:]:
        out = exp.DPipe(this=out, expression=p)
    return out


def compile_sql(dialect: str, options: SqlOptions | None = None, pretty: bool = True) -> str:
    """The statement (or `CREATE VIEW`) that scores ``options.table`` in ``dialect`` (``pretty``: indented)."""
    dialect = dialect.strip().lower()
    if dialect in ("postgresql", "pg"):
        dialect = "postgres"
    if dialect in REFUSED:
        raise InputError("--dialect", dialect, f"one of {', '.join(DIALECTS)} ({REFUSED[dialect]})")
    if dialect not in DIALECTS:
        raise InputError("--dialect", dialect, f"one of {', '.join(DIALECTS)}")
    return Compiler(options or SqlOptions()).sql(dialect, pretty)
