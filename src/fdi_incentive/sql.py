"""The policy compiled to SQL: a short query that scores a table of project-years where it lives,
joining the reference tables that hold the rule's decisions (reference.py, from rules.py).

`fdi sql` prints the query; `--tables` the reference tables as CREATE TABLE and INSERT, `--seeds
DIR` as CSV files, `--inline` the query with the tables as VALUES in common table expressions
(one statement), `--ddl` the input table. The query is built as one sqlglot syntax tree and
written in each dialect by sqlglot; no dialect has a query of its own. It gives the values `fdi
batch` gives on the same rows, error texts included:

* money is DECIMAL throughout, every intermediate cast to a type just wide enough for its
  largest value (amounts below `money.MAX_AMOUNT`, rates below `money.MAX_FX_RATE` to 8
  decimals, tier rates at most 1), so no engine's precision rules round or overflow;
* the one rounding step is written out (floor of the fraction, half a quantum added for
  half-up), never an engine's ROUND;
* cells are read as the batch reads them (sql_cells.py), the rule is joined from fdi_rule and
  only the arithmetic is written here (sql_payout.py).

A bad row gets its error text and empty results; the query never fails on a value. The rows come
in no particular order (a join may reorder them): ORDER BY what you need.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from sqlglot import exp

from .errors import InputError, PolicyError
from .i18n import _
from .policy import LoadedPolicy, Policy, family_versions
from .reference import BOOL, INT, TEXT, Reference, Table, reference
from .sql_base import BASE_CNY, CNY_WHOLE, INPUT_COLUMNS, RESULT_COLUMNS, Arith, dec, num
from .sql_cells import cells
from .sql_payout import output, payout
from .sql_shapes import shaped, year_columns

DIALECTS = ("duckdb", "postgres", "spark", "trino", "bigquery", "snowflake")
REFUSED = {
    "sqlite": "SQLite has no exact decimal type (NUMERIC and DECIMAL columns are stored as 64-bit floats or "
              "integers), so the payout cannot be computed exactly there",
}
SNOWFLAKE_SCALE = 12  # Snowflake: a product keeps min(s1 + s2, max(s1, s2, 12)) decimals
# the input table as `--ddl` gives it: amounts and rates with room for the decimals the query refuses (a value
# with more than two decimals is an error the query reports, not one the table rounds away on insert)
INPUT_TYPES = {"project_id": TEXT, "year": INT, "kind": TEXT, "sector": TEXT, "industry_code": TEXT,
               "paid_in_usd": (38, 18), "shareholder_loans_usd": (38, 18), "reinvested_profit_usd": (38, 18),
               "fx_rate": (38, 18)}
_PART = re.compile(r"[^\x00]+")

__all__ = ["DIALECTS", "INPUT_COLUMNS", "REFUSED", "RESULT_COLUMNS", "SqlOptions", "compile_sql", "input_ddl",
           "reference_sql", "table_name"]


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
    inline: bool = False  # the reference tables as VALUES in the query (one self-contained statement)
    prefix: str = "fdi_"  # the reference tables' names begin with it: fdi_rule, fdi_year ...
    # the optional columns the table has (location, high_tech, hnte, priority, spent_usd); None: those the
    # policies ask about (reference.default_columns). A table without them scores as before.
    columns: tuple[str, ...] | None = None
    order: str | None = None  # a column of `keep` that orders a project's rows of one year (a cap over a period)


def table_name(name: str, option: str = "--table") -> exp.Table:
    """A table or view name: an identifier, optionally schema.table (or catalog.schema.table), each part
    quoted for the dialect where it is not a plain name; never SQL. Anything else is refused."""
    parts = name.split(".") if isinstance(name, str) else []
    if not parts or len(parts) > 3 or not all(p and _PART.fullmatch(p) and p.strip() == p for p in parts):
        raise InputError(option, name, _("a table name such as projects or schema.projects (each part not empty, "
                                         "without blanks around it)"))
    idents = [exp.to_identifier(p, quoted=not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", p)) for p in parts]
    return exp.Table(this=idents[-1], db=idents[-2] if len(idents) > 1 else None, catalog=idents[-3] if len(idents) > 2 else None)


def _check(policy: Policy) -> None:
    if policy.rounding.usd_quantum != Decimal("0.01"):
        raise PolicyError(f"{policy.id}: SQL takes USD amounts to the cent, not to {policy.rounding.usd_quantum}")


def _type(kind, dialect: str) -> exp.DataType:
    if kind == TEXT:
        return exp.DataType.build("VARCHAR")
    if kind == INT:
        return exp.DataType.build("INT")
    if kind == BOOL:
        return exp.DataType.build("BOOLEAN")
    return _decimal(dec(*kind), dialect)


def _decimal(t: exp.DataType, dialect: str) -> exp.DataType:
    if dialect == "bigquery" and t.this == exp.DataType.Type.DECIMAL:  # NUMERIC holds 9 decimals; BIGNUMERIC 38
        return exp.DataType(this=exp.DataType.Type.BIGDECIMAL, expressions=t.expressions)
    return t


def _value(v, kind) -> exp.Expression:
    if v is None:
        return exp.cast(exp.null(), dec(*kind) if isinstance(kind, tuple) else ("INT" if kind == INT else "BOOLEAN" if kind == BOOL else "VARCHAR"))
    if kind == BOOL:
        return exp.true() if v else exp.false()
    if kind == INT:
        return exp.Literal.number(v)
    if isinstance(kind, tuple):
        return num(v, *kind)
    return exp.Literal.string(v)


def _values(table: Table) -> exp.Select:
    """SELECT * FROM (VALUES ...) AS t(columns), every value typed (a NULL too)."""
    if not table.rows:  # (no VALUES without a row: a typed row of NULLs, kept out)
        return exp.select(*(_value(None, k).as_(c) for c, k in table.columns)).where(exp.false())
    rows = [exp.Tuple(expressions=[_value(v, k) for v, (_, k) in zip(row, table.columns)]) for row in table.rows]
    alias = exp.TableAlias(this=exp.to_identifier(table.name), columns=[exp.to_identifier(c) for c in table.names])
    return exp.select(exp.Star()).from_(exp.Values(expressions=rows, alias=alias))


class Compiler:
    """Builds the query for one set of options; `sql(d)` writes it in a dialect."""

    def __init__(self, options: SqlOptions):
        self.o = options
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", options.prefix):
            raise InputError("--prefix", options.prefix, _("letters, digits and _ (a name's beginning)"))
        self.source = table_name(options.table, "--table")
        self.view = table_name(options.view, "--view") if options.view is not None else None
        self.policies = [options.policy] if options.policy else list(family_versions())
        for lp in self.policies:
            _check(lp.policy)
        self.ref: Reference = reference(self.policies, options.policy, options.reading, options.fx_rate, options.rate, options.columns)
        self.rate_scale = self.ref.rate_type[1]
        self.gross = (CNY_WHOLE + BASE_CNY[1] + self.rate_scale, BASE_CNY[1] + self.rate_scale)
        for lp in self.policies:
            cap = lp.policy.cap.amount
            if cap is not None and (cap.adjusted() >= CNY_WHOLE or -cap.as_tuple().exponent > self.gross[1]):  # type: ignore[operator]
                raise PolicyError(f"{lp.policy.id}: cap {cap} does not fit the SQL's DECIMAL{self.gross}")

    def select(self, dialect: str) -> exp.Select:
        shapes = self.ref.shapes
        q = cells(self.source, self.o.keep, shapes.columns, year_columns(shapes))
        if shapes.columns or shapes.place or shapes.flags or shapes.status:
            q = shaped(q, shapes, _place_words() if shapes.names else {})
        q = payout(q, tiers=self.ref.tiers, rate_type=self.ref.rate_type, gross=self.gross, modes=self.ref.modes,
                   arith=Arith(dialect), shapes=shapes, order=self.o.order)
        q = output(q, self.o.keep, self.ref.tiers, shapes)
        if self.o.inline:
            for table in self.ref.tables:
                q = q.with_(self.named(table.name), as_=_values(table), copy=False)  # (a copy each: seconds for the place names)
        names = {t.name for t in self.ref.tables}
        for node in q.find_all(exp.Table):
            if node.name in names and not node.db and node is not self.source:
                node.set("this", exp.to_identifier(self.named(node.name)))
        return q

    def named(self, table: str) -> str:
        """A reference table's name, with the prefix asked for."""
        return self.o.prefix + table.removeprefix("fdi_")

    def sql(self, dialect: str, pretty: bool = True) -> str:
        if dialect == "snowflake" and BASE_CNY[1] + self.rate_scale > SNOWFLAKE_SCALE:
            raise InputError("--dialect", dialect, f"a dialect that keeps a product's decimals: Snowflake keeps at most "
                             f"{SNOWFLAKE_SCALE} of them, and base x FX x a rate of {self.rate_scale} decimals has "
                             f"{BASE_CNY[1] + self.rate_scale}")
        tree: exp.Expression = self.select(dialect)
        if self.view is not None:
            tree = exp.Create(this=self.view, kind="VIEW", expression=tree, replace=False)
        if dialect == "postgres":  # OFFSET 0 keeps each layer a subquery: flattened, its expressions multiply
            for sub in tree.find_all(exp.Subquery):
                if isinstance(sub.this, exp.Select):
                    sub.this.set("offset", exp.Offset(expression=exp.Literal.number(0)))
        tree = tree.transform(lambda n: _decimal(n, dialect) if isinstance(n, exp.DataType) else n, copy=False)  # (a new tree each call)
        return tree.sql(dialect=dialect, pretty=pretty)

    def tables(self, dialect: str) -> list[str]:
        """CREATE TABLE and INSERT for each reference table."""
        out = []
        for table in self.ref.tables:
            schema = exp.Schema(this=exp.to_table(self.named(table.name)), expressions=[
                exp.ColumnDef(this=exp.to_identifier(c), kind=_type(k, dialect)) for c, k in table.columns])
            out.append(exp.Create(this=schema, kind="TABLE").sql(dialect=dialect))
            if table.rows:
                rows = [exp.Tuple(expressions=[_value(v, k) for v, (_, k) in zip(row, table.columns)]) for row in table.rows]
                insert = exp.Insert(this=exp.to_table(self.named(table.name)), expression=exp.Values(expressions=rows))
                out.append(insert.transform(lambda n: _decimal(n, dialect) if isinstance(n, exp.DataType) else n, copy=False)
                           .sql(dialect=dialect))
        return out


def _place_words() -> dict[str, str]:
    """What the place resolver expects of a name and of a code (the cells' English)."""
    from .places import CODE_WORDS, PLACE_WORDS

    return {"place": PLACE_WORDS, "code": CODE_WORDS}


def _dialect(dialect: str) -> str:
    dialect = dialect.strip().lower()
    if dialect in ("postgresql", "pg"):
        dialect = "postgres"
    if dialect in REFUSED:
        raise InputError("--dialect", dialect, f"one of {', '.join(DIALECTS)} ({REFUSED[dialect]})")
    if dialect not in DIALECTS:
        raise InputError("--dialect", dialect, f"one of {', '.join(DIALECTS)}")
    return dialect


def compile_sql(dialect: str, options: SqlOptions | None = None, pretty: bool = True) -> str:
    """The query (or `CREATE VIEW`) that scores ``options.table`` in ``dialect`` (``pretty``: indented),
    reading the reference tables (`reference_sql`), or holding them with ``options.inline``."""
    return Compiler(options or SqlOptions()).sql(_dialect(dialect), pretty)


def reference_sql(dialect: str, options: SqlOptions | None = None) -> list[str]:
    """The statements that make the reference tables the query joins (CREATE TABLE, INSERT), in ``dialect``."""
    return Compiler(options or SqlOptions()).tables(_dialect(dialect))


def reference_tables(options: SqlOptions | None = None) -> Reference:
    """The reference tables of these options, as rows (to write as CSV seeds: `reference.write_seeds`)."""
    return Compiler(options or SqlOptions()).ref


def input_ddl(dialect: str, table: str = "projects") -> str:
    """CREATE TABLE for the input the query reads, with types that hold every value it checks."""
    dialect = _dialect(dialect)
    types = dict(INPUT_TYPES)
    schema = exp.Schema(this=table_name(table), expressions=[
        exp.ColumnDef(this=exp.to_identifier(c), kind=(exp.DataType.build("NUMERIC") if dialect == "postgres" and isinstance(k, tuple)
                                                       else _type(k, dialect))) for c, k in types.items()])
    return exp.Create(this=schema, kind="TABLE").sql(dialect=dialect)
