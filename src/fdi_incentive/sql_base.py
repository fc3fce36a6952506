"""What every part of the compiled SQL builds with: exact DECIMAL types and literals, CASE, text
joined with ||, nested layers, joins to the reference tables, and arithmetic whose types every
engine keeps exact (see sql.py)."""

from __future__ import annotations

from decimal import Decimal

from sqlglot import exp

from .money import MAX_AMOUNT, MAX_FX_RATE, FX_RATE_DECIMALS

AMOUNT_DIGITS = MAX_AMOUNT.adjusted()  # whole digits of an amount below MAX_AMOUNT (14)
BASE = (AMOUNT_DIGITS + 3, 2)  # a base: two amounts added (17, 2)
AMOUNT = (BASE[0] - 1, 2)  # one amount: below MAX_AMOUNT, to the cent (16, 2)
FX = (MAX_FX_RATE.adjusted() + FX_RATE_DECIMALS, FX_RATE_DECIMALS)  # (12, 8)
CNY_WHOLE = BASE[0] - BASE[1] + MAX_FX_RATE.adjusted()  # whole digits of base x rate (19)
BASE_CNY = (CNY_WHOLE + BASE[1] + FX[1], BASE[1] + FX[1])  # (29, 10)
INPUT_COLUMNS = ["project_id", "year", "kind", "sector", "industry_code", "paid_in_usd", "shareholder_loans_usd",
                 "reinvested_profit_usd", "fx_rate"]
RESULT_COLUMNS = ["policy", "policy_status", "eligible", "tier", "rate", "base_usd", "base_cny", "gross_cny",
                  "capped", "incentive_cny", "reason", "error"]
# the canonical names `fdi batch` gives these columns in its messages (reinvested profit is USD here)
FIELD = {"paid_in_usd": "paid_in_usd", "shareholder_loans_usd": "shareholder_loans_usd",
         "reinvested_profit_usd": "reinvested_profit", "spent_usd": "spent_usd"}


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
    if not pairs:
        return default if default is not None else exp.null()
    node = exp.Case()
    for cond, value in pairs:
        node = node.when(cond, value)
    return node.else_(default) if default is not None else node


def lookup(key: exp.Expression, table: dict, default: exp.Expression | None = None) -> exp.Expression:
    """CASE key WHEN k THEN v ...: a table of constants, never an IN-list or a join (which reorder rows)."""
    if not table:
        return default if default is not None else exp.null()
    node = exp.Case(this=key)
    for k, v in table.items():
        node = node.when(lit(k) if isinstance(k, str) else exp.Literal.number(k), v if isinstance(v, exp.Expression) else lit(v))
    return node.else_(default) if default is not None else node


def truth(key: exp.Expression, keys) -> exp.Expression:
    """Whether key is one of keys (constants), as a CASE (false for no keys)."""
    if not keys:
        return exp.false()
    return lookup(key, {k: exp.true() for k in keys}, exp.false())




def _cat(*parts) -> exp.Expression:
    """Texts joined with ||: NULL if any part is."""
    out = parts[0] if isinstance(parts[0], exp.Expression) else lit(parts[0])
    for p in parts[1:]:
        out = exp.DPipe(this=out, expression=p if isinstance(p, exp.Expression) else lit(p))
    return out


def is_null(e: exp.Expression) -> exp.Expression:
    return exp.Is(this=e, expression=exp.null())


def given(e: exp.Expression) -> exp.Expression:
    return exp.and_(exp.not_(is_null(e)), exp.NEQ(this=e, expression=lit("")))


def layer(inner: exp.Expression, alias: str, columns: dict[str, exp.Expression],
          joins: list[tuple[str, str, exp.Expression, dict[str, str]]] = ()) -> exp.Select:
    """SELECT alias.*, <columns>, <joined columns> FROM (inner) AS alias LEFT JOIN ...: each join is
    (reference table, its alias, the condition, {its column: the name it takes})."""
    if joins and columns:  # (computed first, apart: a joined table's columns could shadow the names they read)
        inner, columns = layer(inner, alias + "c", columns), {}
    star = exp.Column(this=exp.Star(), table=exp.to_identifier(alias))
    picked = [exp.column(c, table=a).as_(n) for _, a, _, cols in joins for c, n in cols.items()]
    q = exp.select(star, *(e.as_(n) for n, e in columns.items()), *picked, copy=False).from_(
        exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(alias))), copy=False)
    for table, a, on, _ in joins:  # (copy=False: each step would copy the whole tree below it)
        q = q.join(exp.to_table(table).as_(a, copy=False), on=on, join_type="left", copy=False)
    return q


def ref(table: str, column: str) -> exp.Column:
    return exp.column(column, table=table)


class Arith:
    """Arithmetic whose types every engine keeps exact, as the dialect needs it."""

    def __init__(self, dialect: str):
        self.dialect = dialect

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

