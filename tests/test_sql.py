"""`fdi sql`: the generated SQL gives `fdi batch`'s values on the same rows, in DuckDB, PostgreSQL and Spark.

PostgreSQL needs FDI_TEST_PG_DSN (`.ci/run` starts a server); Spark needs PySpark and Java.
Locally a missing service skips its tests; in CI (CI=true) it fails them, so nothing is
skipped there without notice.
"""

import csv
import os
from decimal import Decimal as D
from functools import cache
from pathlib import Path

import polars as pl
import pytest
import sqlglot
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from fdi_incentive.batch import score_file
from fdi_incentive.errors import InputError
from fdi_incentive.frame import Options
from fdi_incentive.policy import get_policy
from fdi_incentive.sql import DIALECTS, REFUSED, RESULT_COLUMNS, SqlOptions, compile_sql, reference_sql

from .strategies import near_edges

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
COLUMNS = ["project_id", "year", "kind", "sector", "industry_code", "paid_in_usd", "shareholder_loans_usd",
           "reinvested_profit_usd", "fx_rate"]
# the input table as README's CREATE TABLE gives it, with room for the values a bad row holds
AMOUNT_TYPE, FX_TYPE = (20, 3), (14, 9)
MONEY = ["rate", "base_usd", "base_cny", "gross_cny", "incentive_cny"]


@pytest.fixture(autouse=True)
def loopback_only(no_network, monkeypatch):
    """Spark's driver talks to its JVM on this machine (127.0.0.1): that much is allowed, nothing further."""
    import socket

    refused = socket.socket.connect

    def connect(sock, address, *args):
        if sock.family == socket.AF_UNIX or (isinstance(address, tuple) and address[0] in ("127.0.0.1", "::1", "localhost")):
            return real_connect(sock, address, *args)
        return refused(sock, address, *args)

    monkeypatch.setattr(socket.socket, "connect", connect)


real_connect = __import__("socket").socket.connect


def unavailable(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} is needed in CI")
    pytest.skip(f"{what} is not available here")


# --- project-years: every category and code form, edges, bad values ----------------------------

texts = st.sampled_from
kinds = texts([None, "", " ", "new", "capital_increase", "Capital-Increase", " 增资 ", "新设", "merger", "it's",
               'say "x"', "x\ty", "\xa0new\u3000", "back\\slash", "both'\"",
               "\t" * 45 + "x", "k" * 81])  # (a message quotes 80 characters of a value, its repr cut too)
sectors = texts([None, "", " ", "manufacturing", "Electronics", "real-estate", "real estate", "Real_Estate", "finance",
                 "quasi-finance", "Consumer - Goods", "制造业", "房地产业", "类金融", "services", "other", "widgets",
                 "\xa0pharmaceutical\t", "o'neil", "a\\b", "fin\u3000ance", "widget" * 20, "y" * 1200,
                 "manufactoring", "汽车零部件", "餐饮", "servces", "电子信 息"])  # (unknown names near known ones)
codes = texts([None, "", " ", "C", "c", "36", "C3670", "c 36.70", "C-36", "K7010", "K70", "J66", "j6631", "7212", "L7212",
               "6631", "I65", "7299", "L7299", "L7296", "Z12", "U", "A3670", "123", "12345", "K", "Q99", " 0 1 ", "-", "x",
               "98", "C3", "'7'", "9" * 85])
years = st.one_of(st.none(), st.integers(2016, 2028), texts([1899, 1900, 2200, 2201, -5]))
cents = st.integers(0, 10**16).map(lambda c: D(c) / 100)
amounts = st.one_of(st.none(), near_edges, cents, st.integers(-10**9, -1).map(lambda c: D(c) / 100),
                    st.integers(0, 10**12).map(lambda m: D(m) / 1000), texts([D("99999999999999.99"), D("100000000000000"),
                                                                               D("0.005"), D("0")]))
fx_rates = st.one_of(st.none(), st.integers(50_000, 80_000).map(lambda n: D(n) / 10_000),
                     st.integers(5 * 10**8, 8 * 10**8).map(lambda n: D(n) / 10**8),
                     texts([D(0), D("-7.1"), D(10000), D("9999.99999999"), D("7.123456789"), D("0.00000001")]))
rows = st.lists(st.tuples(years, kinds, sectors, codes, amounts, amounts, amounts, fx_rates), min_size=1, max_size=30)
OPTIONS = [SqlOptions(fx_rate=D("7.2")), SqlOptions(), SqlOptions(reading="nominal", fx_rate=D("6.9")),
           SqlOptions(policy=get_policy("cn-cq-2018"))]
options = st.sampled_from(range(len(OPTIONS)))
# the largest values every type must hold: amounts a cent below the limit, the largest rate, no cap (2018)
EXTREMES = [(2020, "new", "manufacturing", None, D("99999999999999.99"), D("99999999999999.99"), D("99999999999999.99"),
             D("9999.99999999")), (2020, "new", None, "C", D("0.01"), None, D("0.01"), D("0.00000001"))]


def table(rows) -> list[tuple]:
    return [(f"P{i}", *r) for i, r in enumerate(rows)]


def cell(value) -> str:
    if value is None:
        return ""
    return format(value.normalize(), "f") if isinstance(value, D) else str(value)


@cache
def statement(dialect: str, which: int, name: str = "projects", inline: bool = True) -> str:
    o = OPTIONS[which]
    return compile_sql(dialect, SqlOptions(table=name, policy=o.policy, reading=o.reading, fx_rate=o.fx_rate, inline=inline))


@cache
def tables(dialect: str, which: int) -> tuple[str, ...]:
    """The reference tables the query joins, as CREATE TABLE and INSERT statements."""
    o = OPTIONS[which]
    return tuple(reference_sql(dialect, SqlOptions(policy=o.policy, reading=o.reading, fx_rate=o.fx_rate)))


def batch_rows(tmp: Path, data: list[tuple], which: int) -> list[dict]:
    """`fdi batch` on the same rows (reinvested profit given in USD), as the library runs it."""
    src, out = tmp / "in.csv", tmp / "out.parquet"
    with src.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["project_id", "year", "kind", "sector", "industry_code", "paid_in_usd", "shareholder_loans_usd",
                    "reinvested_profit", "reinvested_profit_currency", "fx_rate"])
        w.writerows([[pid, cell(y), cell(k), cell(s), cell(c), cell(p), cell(lo), cell(pr), "USD", cell(fx)]
                     for pid, y, k, s, c, p, lo, pr, fx in data])
    o = OPTIONS[which]
    score_file(src, out, options=Options(policy=o.policy, reading=o.reading, fx_rate=o.fx_rate))
    return pl.read_parquet(out).to_dicts()


def assert_same(expected: list[dict], got: list[tuple], data) -> None:
    assert len(got) == len(expected)
    for want, row, given_row in zip(expected, sorted(got, key=lambda r: int(r[0][1:])), data):
        sql = dict(zip(COLUMNS + RESULT_COLUMNS, row))
        for name in RESULT_COLUMNS:
            if name == "policy_status" and name not in want:
                continue
            w, g = want[name], sql[name]
            if name in MONEY and w is not None:
                w = D(w)
            assert w == g and (w is None) == (g is None), (name, w, g, given_row)


def check(tmp_path, data, which, run) -> None:
    rows_in = table(data)
    assert_same(batch_rows(tmp_path, rows_in, which), run(rows_in, which), rows_in)


# --- DuckDB, in process --------------------------------------------------------------------------

def duckdb_scored(rows_in, made: tuple[str, ...] | list[str], query: str) -> list[tuple]:
    """The rows in DuckDB's table `projects` (``made``: the reference tables' statements first), scored by ``query``."""
    import duckdb

    con = duckdb.connect()
    for statement_ in made:
        con.execute(statement_)
    con.execute(f"""CREATE TABLE projects (project_id VARCHAR, year INTEGER, kind VARCHAR, sector VARCHAR,
        industry_code VARCHAR, paid_in_usd DECIMAL{AMOUNT_TYPE}, shareholder_loans_usd DECIMAL{AMOUNT_TYPE},
        reinvested_profit_usd DECIMAL{AMOUNT_TYPE}, fx_rate DECIMAL{FX_TYPE})""")
    con.executemany("INSERT INTO projects VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows_in)
    return con.execute(query).fetchall()


def duckdb_run(rows_in, which, inline=True):
    return duckdb_scored(rows_in, () if inline else tables("duckdb", which), statement("duckdb", which, inline=inline))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows, options, st.booleans())
@example([(2024, "new", "manufacturing", None, D("30000000.01"), None, None, D("7.2"))], 0, True)
@example([(2024, None, None, "C3670", D("34722222.23"), D("1"), D("0.01"), None)], 0, False)
@example(EXTREMES, 3, True)
def test_duckdb_gives_batch_values(tmp_path, data, which, inline):
    """The query with its reference tables inline (one statement) and joined from tables made by --tables."""
    check(tmp_path, data, which, lambda rows_in, which: duckdb_run(rows_in, which, inline))


# --- PostgreSQL, a real server -------------------------------------------------------------------

@pytest.fixture(scope="session")
def pg():
    dsn = os.environ.get("FDI_TEST_PG_DSN")
    if not dsn:
        unavailable("a PostgreSQL server (FDI_TEST_PG_DSN)")
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("SET statement_timeout = '120s'")
        yield con


PG_TABLE = f"""(project_id TEXT, year INTEGER, kind TEXT, sector TEXT, industry_code TEXT,
    paid_in_usd NUMERIC{AMOUNT_TYPE}, shareholder_loans_usd NUMERIC{AMOUNT_TYPE},
    reinvested_profit_usd NUMERIC{AMOUNT_TYPE}, fx_rate NUMERIC{FX_TYPE})"""


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows, options, st.booleans())
def test_postgres_gives_batch_values(tmp_path, pg, data, which, inline):
    def run(rows_in, which):
        with pg.cursor() as cur:
            if not inline:
                for made in tables("postgres", which):
                    name = made.split("(")[0].split()[-1] if made.startswith("CREATE") else None
                    if name:
                        cur.execute(f"DROP TABLE IF EXISTS {name}")
                    cur.execute(made.replace("CREATE TABLE", "CREATE TEMP TABLE", 1))
            cur.execute("DROP TABLE IF EXISTS fdi_projects")
            cur.execute(f"CREATE TEMP TABLE fdi_projects {PG_TABLE}")
            cur.executemany("INSERT INTO fdi_projects VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", rows_in)
            cur.execute(statement("postgres", which, "fdi_projects", inline))
            return cur.fetchall()

    check(tmp_path, data, which, run)


def test_postgres_view_equals_batch(tmp_path, pg):
    """The issue's own check: `fdi sql --dialect postgres --view fdi_scored` makes a view of batch's rows."""
    data = [(2024, "new", "manufacturing", None, D("40000000"), None, None, D("7.1")),
            (2023, "增资", None, "K7010", D("20000000"), None, None, None),
            (2024, "new", "electronics", "C3670", D("30000000.01"), D("5"), D("0.5"), D("7.2"))]
    rows_in = table(data)
    with pg.cursor() as cur:
        cur.execute("DROP VIEW IF EXISTS fdi_scored")
        cur.execute("DROP TABLE IF EXISTS projects")
        cur.execute(f"CREATE TABLE projects {PG_TABLE}")
        cur.executemany("INSERT INTO projects VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", rows_in)
        cur.execute(compile_sql("postgres", SqlOptions(view="fdi_scored", fx_rate=D("7.2"), inline=True)))
        cur.execute("SELECT * FROM fdi_scored")
        got = cur.fetchall()
        cur.execute("DROP VIEW fdi_scored")
        cur.execute("DROP TABLE projects")
    assert_same(batch_rows(tmp_path, rows_in, 0), got, rows_in)


# --- Spark, local mode ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def spark():
    try:
        from fdi_incentive.spark import local_session
    except ImportError:
        unavailable("PySpark")
    try:
        session = local_session()
    except Exception as exc:  # no Java, no PySpark
        unavailable(f"a local Spark session ({exc})")
    yield session


def spark_frame(spark, rows_in):
    from pyspark.sql import types as T

    amount, fx = T.DecimalType(*AMOUNT_TYPE), T.DecimalType(*FX_TYPE)
    schema = T.StructType([T.StructField("project_id", T.StringType()), T.StructField("year", T.IntegerType()),
                           *[T.StructField(n, T.StringType()) for n in ("kind", "sector", "industry_code")],
                           *[T.StructField(n, amount) for n in ("paid_in_usd", "shareholder_loans_usd", "reinvested_profit_usd")],
                           T.StructField("fx_rate", fx)])
    return spark.createDataFrame(rows_in, schema)


@example(EXTREMES, 3)
@settings(max_examples=2, deadline=None, suppress_health_check=list(HealthCheck),
          phases=[Phase.explicit, Phase.reuse, Phase.generate])  # (a Spark query takes seconds: no shrinking)
@given(st.lists(st.tuples(years, kinds, sectors, codes, amounts, amounts, amounts, fx_rates), min_size=40, max_size=80), options)
def test_spark_gives_batch_values(tmp_path, spark, data, which):
    from fdi_incentive import spark as fdi_spark

    def run(rows_in, which):
        o = OPTIONS[which]
        scored = fdi_spark.score(spark_frame(spark, rows_in), policy=o.policy, reading=o.reading, fx_rate=o.fx_rate)
        return [tuple(r) for r in scored.collect()]

    check(tmp_path, data, which, run)


@pytest.mark.parametrize("args, said", [
    (["-o", "{tmp}/out.xlsx"], "a .csv, .parquet or .jsonl file with --engine spark"),
    (["-o", "{tmp}/out.csv", "--fx-rate", "abc"], "--fx-rate"),
    (["-o", "{tmp}/out.csv", "--policy", "no-such-policy"], "no-such-policy"),
])
def test_batch_engine_spark_checks_its_options_before_spark_starts(tmp_path, monkeypatch, args, said):
    """`--engine spark -o x.xlsx` started the JVM (seconds) before refusing the extension."""
    from typer.testing import CliRunner

    from fdi_incentive import spark as fdi_spark
    from fdi_incentive.cli import app

    def started(*a, **k):
        raise AssertionError("Spark was started")

    monkeypatch.setattr(fdi_spark, "local_session", started)
    src = tmp_path / "in.csv"
    src.write_text("project_id,year,sector,paid_in_usd,fx_rate\nA,2024,manufacturing,40000000,7.1\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["batch", "--engine", "spark", str(src), *(a.format(tmp=tmp_path) for a in args)])
    assert result.exit_code == 2 and said in " ".join(result.output.split()), result.output
    assert not isinstance(result.exception, AssertionError)


def test_batch_engine_spark_writes_batch_rows(tmp_path, spark):
    """`fdi batch --engine spark FILE -o OUT`: the rows and result texts of `fdi batch`, in input order."""
    from typer.testing import CliRunner

    from fdi_incentive.cli import app

    src = tmp_path / "in.csv"
    src.write_text("project_id,year,kind,sector,industry_code,paid_in_usd,shareholder_loans_usd,fx_rate\n"
                   "A,2024,new,manufacturing,,40000000,,7.1\nB,2024,merger,services,,5,,7.1\n"
                   "C,2023,增资,,C3670,30000000.01,5,7.2\nD,2021,new,,K7010,6000000,,\nE,2024,new,services,,\"1,000\",,7.1\n",
                   encoding="utf-8")
    result = CliRunner().invoke(app, ["batch", "--engine", "spark", str(src), "-o", str(tmp_path / "spark.csv"), "--fx-rate", "6.9"])
    assert result.exit_code == 1, result.output
    assert CliRunner().invoke(app, ["batch", str(src), "-o", str(tmp_path / "batch.csv"), "--fx-rate", "6.9"]).exit_code == 1
    with (tmp_path / "spark.csv").open(encoding="utf-8", newline="") as f:
        spark_rows = list(csv.DictReader(f))
    with (tmp_path / "batch.csv").open(encoding="utf-8", newline="") as f:
        batch_rows_ = list(csv.DictReader(f))
    assert [r["project_id"] for r in spark_rows] == list("ABCDE")
    for mine, theirs in zip(spark_rows[:4], batch_rows_[:4]):
        assert {k: mine[k] for k in RESULT_COLUMNS if k in theirs} == {k: theirs[k] for k in RESULT_COLUMNS if k in theirs}
    assert spark_rows[4]["error"].startswith("paid_in_usd: '1,000' is not valid; expected a plain number")


# --- every dialect ---------------------------------------------------------------------------------

@pytest.fixture
def deep_parse():
    """sqlglot parses nested expressions recursively: the statement's CASEs and REPLACEs nest deep."""
    import sys

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 20000))
    yield
    sys.setrecursionlimit(old)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_parses_back(dialect, deep_parse):
    text = compile_sql(dialect, SqlOptions(view="fdi_scored", fx_rate=D("7.1")))
    tree = sqlglot.parse_one(text, read=dialect)
    assert isinstance(tree, sqlglot.exp.Create)
    assert [e.alias_or_name for e in tree.expression.expressions] == COLUMNS + RESULT_COLUMNS


def test_a_dialect_that_cannot_be_exact_is_refused_with_the_reason():
    with pytest.raises(InputError, match="no exact decimal type"):
        compile_sql("sqlite")
    assert "sqlite" in REFUSED


def test_a_users_own_policy_file_compiles(tmp_path):
    import duckdb

    text = (Path(__file__).parents[1] / "src/fdi_incentive/policies/cn-cq-2023.toml").read_text(encoding="utf-8")
    mine = tmp_path / "my-city.toml"
    mine.write_text(text.replace('id = "cn-cq-2023"', 'id = "my-city"').replace('rate = "0.04"', 'rate = "0.045"')
                    .replace('amount = "10000000"\ncurrency = "CNY"', 'amount = "1234567.89"\ncurrency = "CNY"'), encoding="utf-8")
    sql = compile_sql("duckdb", SqlOptions(policy=get_policy(mine), fx_rate=D("7.13"), inline=True))
    con = duckdb.connect()
    con.execute(f"CREATE TABLE projects AS SELECT 'P1' AS project_id, 2030 AS \"year\", 'new' AS kind, 'manufacturing' AS sector, "
                f"NULL::VARCHAR industry_code, 31000000.01::DECIMAL(18,2) paid_in_usd, NULL::DECIMAL(18,2) shareholder_loans_usd, "
                f"NULL::DECIMAL(18,2) reinvested_profit_usd, NULL::DECIMAL(12,6) fx_rate")
    row = dict(zip(COLUMNS + RESULT_COLUMNS, con.execute(sql).fetchone()))
    assert (row["policy"], row["tier"], row["rate"]) == ("my-city", "manufacturing", D("0.045"))
    assert row["gross_cny"] == D("31000000.01") * D("7.13") * D("0.045") and row["capped"]
    assert row["incentive_cny"] == D("1234567.89")


def test_fdi_sql_command_prints_one_statement_or_refuses_with_the_reason(deep_parse):
    from typer.testing import CliRunner

    from fdi_incentive.cli import app

    made = CliRunner().invoke(app, ["sql", "--dialect", "postgres", "--view", "fdi_scored", "--fx-rate", "7.1"])
    assert made.exit_code == 0, made.output
    assert made.output.startswith("CREATE VIEW fdi_scored AS") and made.output.rstrip().endswith(";")
    assert len(sqlglot.parse(made.output, read="postgres")) == 1
    refused = CliRunner().invoke(app, ["sql", "--dialect", "sqlite"])
    assert refused.exit_code == 2 and "no exact decimal type" in refused.output
    assert CliRunner().invoke(app, ["sql", "--rate", "2"]).exit_code == 2


def test_a_granted_rate_is_used_or_the_row_says_why_not():
    import duckdb

    con = duckdb.connect()
    con.execute(f"""CREATE TABLE projects AS SELECT * FROM (VALUES ('P1', 2024, 'new', 'services', NULL, 40000000.00, NULL, NULL, 7.1),
        ('P2', 2024, 'new', 'manufacturing', NULL, 40000000.00, NULL, NULL, 7.1)) AS t({', '.join(COLUMNS)})""")
    rows = con.execute(compile_sql("duckdb", SqlOptions(rate=D("0.03"), inline=True))).fetchall()
    services, manufacturing = (dict(zip(COLUMNS + RESULT_COLUMNS, r)) for r in sorted(rows))
    assert (services["rate"], services["incentive_cny"]) == (D("0.03"), D("8520000.00"))  # 40M x 7.1 x 3%, as fdi calc --rate
    assert manufacturing["incentive_cny"] is None
    assert manufacturing["error"] == "rate: '0.03' is not valid; expected at least 0.04 (the manufacturing tier's floor: 不低于 4%)"


@pytest.mark.parametrize("rate", ["5%", "1.5", "abc", "0.123456789", "-0.01"])
def test_fdi_sql_reads_rate_as_calc_does(rate):
    """One parser for a granted rate: `fdi sql --rate` accepts and refuses as `fdi calc --rate`, in the same words."""
    from typer.testing import CliRunner

    from fdi_incentive.cli import app

    runner = CliRunner()
    calc = runner.invoke(app, ["calc", "--year", "2024", "--sector", "manufacturing", "--paid-in-usd", "40000000",
                               "--fx-rate", "7.1", "--rate", rate, "--lang", "en"])
    sql = runner.invoke(app, ["sql", "--rate", rate])
    assert calc.exit_code == sql.exit_code == 2, (calc.output, sql.output)
    assert calc.output.strip().splitlines()[-1] == sql.output.strip().splitlines()[-1], (calc.output, sql.output)


# --- issue: the SQL agrees with calc and batch on a user's policy, and takes any valid one ------------

POLICY_TEXT = (Path(__file__).parents[1] / "src/fdi_incentive/policies/cn-cq-2023.toml").read_text(encoding="utf-8")


def user_policy(tmp_path, name: str = "mine", categories: list[str] | None = None, codes: list[str] | None = None,
                label: str | None = None, citation: str | None = None) -> Path:
    """cn-cq-2023 with its excluded categories and codes (and a tier's label, the exclusions' citation) replaced."""
    import re as _re

    text = POLICY_TEXT.replace('id = "cn-cq-2023"', f'id = "{name}"')
    if categories is not None:
        text = text.replace('categories = ["real_estate", "finance", "quasi_finance"]', f"categories = {categories!r}".replace("'", '"'))
    if codes is not None:
        text = _re.sub(r'codes = \[[^\]]*\]', f"codes = {codes!r}".replace("'", '"'), text)
    if label is not None:
        text = text.replace('label = "general tier"', f"label = {label!r}".replace("'", '"') if '"' not in label else f"label = '''{label}'''")
    if citation is not None:
        text = text.replace('citation = "房地产业、金融业及类金融业项目除外"', f"citation = '''{citation}'''")
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def sql_rows(rows_in, policy, inline=True):
    options = SqlOptions(policy=policy, fx_rate=D("7"), inline=inline)
    return duckdb_scored(rows_in, () if inline else reference_sql("duckdb", options), compile_sql("duckdb", options))


@pytest.mark.parametrize("sector, code", [("批发和零售业", None), ("批发业", None), ("货币金融服务", None),
                                          (None, "F5100"), ("services", "L7299")])
def test_excluded_codes_apply_to_the_code_a_sector_name_stands_for(tmp_path, sector, code):
    """A user policy excluding F (and J66, L): 批发和零售业 with no code is excluded by calc and batch; the SQL paid it."""
    policy = get_policy(user_policy(tmp_path, codes=["F", "J66", "L"]))
    data = [(2024, "new", sector, code, D("20000000"), None, None, D("7"))]
    rows_in = table(data)
    src = tmp_path / "in.csv"
    src.write_text("project_id,year,kind,sector,industry_code,paid_in_usd,fx_rate\n"
                   f"P0,2024,new,{sector or ''},{code or ''},20000000,7\n", encoding="utf-8")
    out = tmp_path / "out.parquet"
    score_file(src, out, options=Options(policy=policy))
    batch = pl.read_parquet(out).to_dicts()[0]
    got = dict(zip(COLUMNS + RESULT_COLUMNS, sql_rows(rows_in, policy)[0]))
    assert D(batch["incentive_cny"]) == got["incentive_cny"] == D("0.00"), (batch, got)
    assert got["reason"] == batch["reason"] and got["eligible"] is False


valid_categories = st.lists(st.sampled_from(["real_estate", "finance", "quasi_finance", "manufacturing", "other"]), unique=True)
valid_codes = st.lists(st.sampled_from(["K70", "J66", "L7212", "F", "C36", "C3670", "J", "L72", "M"]), unique=True)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(valid_categories, valid_codes, st.sampled_from(DIALECTS), st.booleans())
@example([], [], "duckdb", True)
@example([], [], "bigquery", False)
def test_every_valid_policy_compiles_in_every_dialect_and_agrees(tmp_path, categories, codes, dialect, inline):
    """`[exclusions] categories = []` validated, then `fdi sql` crashed (KeyError: 'ifs'): any valid policy compiles."""
    import uuid

    policy = get_policy(user_policy(tmp_path, name=f"p{uuid.uuid4().hex[:8]}", categories=categories, codes=codes))
    text = compile_sql(dialect, SqlOptions(policy=policy, inline=inline))
    assert sqlglot.parse_one(text, read=dialect) is not None
    data = [(2024, "new", s, c, D("40000000"), None, None, D("7")) for s, c in
            [("manufacturing", None), ("finance", None), ("批发和零售业", None), (None, "C3670"), ("services", "L7212"), (None, "K7010")]]
    rows_in = table(data)
    src = tmp_path / "in.csv"
    src.write_text("project_id,year,kind,sector,industry_code,paid_in_usd,fx_rate\n" + "".join(
        f"{pid},2024,new,{s or ''},{c or ''},40000000,7\n" for pid, _, _, s, c, *_ in rows_in), encoding="utf-8")
    out = tmp_path / "out.parquet"
    score_file(src, out, options=Options(policy=policy))
    batch = pl.read_parquet(out).to_dicts()
    got = sorted(sql_rows(rows_in, policy, inline=inline), key=lambda r: r[0])
    for want, row in zip(batch, got):
        sql = dict(zip(COLUMNS + RESULT_COLUMNS, row))
        assert (sql["incentive_cny"], sql["reason"], sql["error"]) == (
            None if want["incentive_cny"] is None else D(want["incentive_cny"]), want["reason"], want["error"])


@pytest.mark.parametrize("name", ["proj'ects", "x/*", "x--y", "x;y", "read_parquet('other.parquet')", "Projects", "a.b", 'q"t'])
def test_a_table_name_is_one_identifier_quoted_for_the_dialect(name):
    """--table "x--y" became FROM x /* y */ and scored table x; "read_parquet('other.parquet')" read a file."""
    for dialect in DIALECTS:
        text = compile_sql(dialect, SqlOptions(table=name, inline=True))
        tree = sqlglot.parse_one(text, read=dialect)
        sources = [t for t in tree.find_all(sqlglot.exp.Table) if not t.name.startswith("fdi_")]
        assert [".".join(p for p in (t.db, t.name) if p) for t in sources] == [name], (dialect, name, sources)
        assert len(sqlglot.parse(text, read=dialect)) == 1


@pytest.mark.parametrize("name", ["", " x", ".x", "x.", "a.b.c.d", "x\x00y"])
def test_a_table_name_that_is_no_identifier_is_refused(name):
    from typer.testing import CliRunner

    from fdi_incentive.cli import app

    for option in ("--table", "--view"):
        result = CliRunner().invoke(app, ["sql", option, name])
        assert result.exit_code == 2 and option in result.output and "Traceback" not in result.output, result.output


def test_a_table_name_reads_that_table_not_another(tmp_path):
    import duckdb

    con = duckdb.connect()
    con.execute(f"""CREATE TABLE "x--y" (project_id VARCHAR, year INTEGER, kind VARCHAR, sector VARCHAR, industry_code VARCHAR,
        paid_in_usd DECIMAL(20,3), shareholder_loans_usd DECIMAL(20,3), reinvested_profit_usd DECIMAL(20,3), fx_rate DECIMAL(14,9))""")
    con.execute("""INSERT INTO "x--y" VALUES ('A', 2024, 'new', 'services', NULL, 20000000, NULL, NULL, 7)""")
    con.execute("CREATE TABLE x AS SELECT * FROM \"x--y\" WHERE false")
    rows = con.execute(compile_sql("duckdb", SqlOptions(table="x--y", inline=True))).fetchall()
    assert [r[0] for r in rows] == ["A"]


@pytest.mark.parametrize("text", ["tier \\n with \\t escapes", "CR LF\r\nin a label", "back\\slash", "quote ' and \"", "tab\there"])
def test_reason_texts_with_escapes_and_line_ends_agree(tmp_path, text):
    """A policy label or citation with escape sequences or CR LF: the SQL dropped them."""
    for where in ("label", "citation"):
        policy = get_policy(user_policy(tmp_path, name=f"esc-{where}", **{where: text}))
        rows_in = table([(2024, "new", "services", None, D("20000000"), None, None, D("7")),
                         (2024, "new", "real-estate", None, D("20000000"), None, None, D("7"))])
        src = tmp_path / "in.csv"
        src.write_text("project_id,year,kind,sector,paid_in_usd,fx_rate\nP0,2024,new,services,20000000,7\n"
                       "P1,2024,new,real-estate,20000000,7\n", encoding="utf-8")
        out = tmp_path / "out.parquet"
        score_file(src, out, options=Options(policy=policy))
        batch = pl.read_parquet(out).to_dicts()
        for inline in (True, False):
            got = sorted(sql_rows(rows_in, policy, inline=inline), key=lambda r: r[0])
            assert [dict(zip(COLUMNS + RESULT_COLUMNS, r))["reason"] for r in got] == [b["reason"] for b in batch], (where, inline)


def test_the_whitespace_the_sql_strips_is_pythons():
    import sys

    from fdi_incentive.sql_text import WHITESPACE

    assert WHITESPACE == "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())


def test_batch_engine_spark_refuses_a_column_it_cannot_take_before_spark_starts(tmp_path, monkeypatch):
    """A reinvested_profit column (not USD) was refused only after Spark had started (seconds)."""
    from typer.testing import CliRunner

    from fdi_incentive import spark as fdi_spark
    from fdi_incentive.cli import app

    def started(*a, **k):
        raise AssertionError("Spark was started")

    monkeypatch.setattr(fdi_spark, "local_session", started)
    src = tmp_path / "in.csv"
    src.write_text("project_id,year,sector,paid_in_usd,reinvested_profit,fx_rate\nA,2024,services,25000000,1000000,7.1\n",
                   encoding="utf-8")
    result = CliRunner().invoke(app, ["batch", "--engine", "spark", str(src), "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 2 and "reinvested_profit_usd" in " ".join(result.output.split()), result.output
    assert not isinstance(result.exception, AssertionError)


def test_batch_engine_spark_says_its_own_progress_and_passes_cells_through(tmp_path):
    """Spark's console stage bars and log4j warnings were shown; ' new ' was written as 'new'."""
    import subprocess
    import sys

    try:
        import pyspark  # noqa: F401
    except ImportError:
        unavailable("PySpark")
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text("project_id,year,kind,sector,industry_code,paid_in_usd,fx_rate\n"
                   "A,2024, new ,manufacturing,,40000000,7.1\n B ,2024,new, services ,,20000000,7.1\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "fdi_incentive", "batch", "--engine", "spark", str(src), "-o", str(out)],
                         capture_output=True, text=True, timeout=600)
    if run.returncode != 0 and "JAVA" in run.stderr.upper():
        unavailable(f"a local Spark session ({run.stderr[-200:]})")
    assert run.returncode == 0, run.stderr
    said = run.stderr.strip().splitlines()
    assert said[0].startswith("starting Spark") and "2 rows scored on Spark" in said[-1], said
    assert not any(w in run.stderr for w in ("WARN", "log4j", "Stage", "INFO")), run.stderr
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["project_id"], r["kind"], r["sector"]) for r in rows] == [("A", " new ", "manufacturing"), (" B ", "new", " services ")]


REPRODUCERS = "project_id,year,sector,paid_in_usd,reinvested_profit_usd,fx_rate\nA,2024,services,25000000,1000000,7.1\n" \
              "B,2024,services,20000000.001,,7.1\n"
AMOUNT_ERROR = "paid_in_usd: '20000000.001' is not valid; expected an amount to the cent (at most two decimal places)"


def test_batch_reads_reinvested_profit_usd_and_the_ddl_keeps_a_third_decimal(tmp_path):
    """fdi batch ignored reinvested_profit_usd (CNY 3,550,000.00, exit 0; Spark paid it); the documented
    DECIMAL(18,2) rounded 20000000.001 on insert, so the SQL paid what batch refused."""
    import duckdb

    from fdi_incentive.sql import input_ddl

    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(REPRODUCERS, encoding="utf-8")
    summary = score_file(src, out, options=Options())
    with out.open(encoding="utf-8", newline="") as f:
        batch = {r["project_id"]: r for r in csv.DictReader(f)}
    assert summary.errors == 1 and batch["A"]["incentive_cny"] == "3692000.00"  # (25M + 1M) x 7.1 x 2%
    assert batch["B"]["error"] == AMOUNT_ERROR
    con = duckdb.connect()
    con.execute(input_ddl("duckdb"))
    con.execute(f"INSERT INTO projects SELECT project_id, year, NULL, sector, NULL, paid_in_usd, NULL, reinvested_profit_usd, "
                f"fx_rate FROM read_csv('{src}', header=true, all_varchar=true)")
    rows = {r[0]: dict(zip(COLUMNS + RESULT_COLUMNS, r)) for r in con.execute(compile_sql("duckdb", SqlOptions(inline=True))).fetchall()}
    assert rows["A"]["incentive_cny"] == D("3692000.00") and rows["B"]["error"] == AMOUNT_ERROR


def test_spark_gives_the_reproducers_batchs_values(tmp_path, spark):
    from typer.testing import CliRunner

    from fdi_incentive.cli import app

    src = tmp_path / "in.csv"
    src.write_text(REPRODUCERS, encoding="utf-8")
    result = CliRunner().invoke(app, ["batch", "--engine", "spark", str(src), "-o", str(tmp_path / "spark.csv")])
    assert result.exit_code == 1, result.output
    with (tmp_path / "spark.csv").open(encoding="utf-8", newline="") as f:
        rows = {r["project_id"]: r for r in csv.DictReader(f)}
    assert rows["A"]["incentive_cny"] == "3692000.00" and rows["B"]["error"] == AMOUNT_ERROR


def test_spark_parquet_is_typed_as_batch_parquet(tmp_path, spark):
    """Spark's Parquet output had its money and rates as strings: the types and values of fdi batch's."""
    import duckdb
    from typer.testing import CliRunner

    from fdi_incentive.cli import app

    src = tmp_path / "in.csv"
    src.write_text("project_id,year,kind,sector,paid_in_usd,fx_rate\nA,2024,new,manufacturing,40000000,7.1\n"
                   "B,2024,new,services,30000000.01,7.2\nC,2024,new,real-estate,50000000,7.1\n", encoding="utf-8")
    assert CliRunner().invoke(app, ["batch", "--engine", "spark", str(src), "-o", str(tmp_path / "s.parquet")]).exit_code == 0
    assert CliRunner().invoke(app, ["batch", str(src), "-o", str(tmp_path / "b.parquet")]).exit_code == 0
    con = duckdb.connect()
    types = {p: {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM '{tmp_path / p}'").fetchall()}
             for p in ("s.parquet", "b.parquet")}
    for name in ("eligible", "rate", "base_usd", "base_cny", "gross_cny", "capped", "incentive_cny"):
        assert types["s.parquet"][name] == types["b.parquet"][name], name
    total = {p: con.execute(f"SELECT SUM(incentive_cny) FROM '{tmp_path / p}'").fetchone()[0] for p in ("s.parquet", "b.parquet")}
    assert total["s.parquet"] == total["b.parquet"] == D("14320000.00")  # 10,000,000 capped + 4,320,000.00144 rounded


def test_spark_reason_texts_with_escapes_and_line_ends_agree(tmp_path, spark):
    """Spark's string literals take a backslash as an escape: the texts come through as batch writes them."""
    from fdi_incentive import spark as fdi_spark

    policy = get_policy(user_policy(tmp_path, name="esc-spark", label="tier \\n with \\t escapes",
                                    citation="CR LF\r\nand back\\slash"))
    rows_in = table([(2024, "new", "services", None, D("20000000"), None, None, D("7")),
                     (2024, "new", "real-estate", None, D("20000000"), None, None, D("7"))])
    src = tmp_path / "in.csv"
    src.write_text("project_id,year,kind,sector,paid_in_usd,fx_rate\nP0,2024,new,services,20000000,7\n"
                   "P1,2024,new,real-estate,20000000,7\n", encoding="utf-8")
    out = tmp_path / "out.parquet"
    score_file(src, out, options=Options(policy=policy))
    batch = [b["reason"] for b in pl.read_parquet(out).to_dicts()]
    got = sorted(fdi_spark.score(spark_frame(spark, rows_in), policy=policy).collect(), key=lambda r: r["project_id"])
    assert [r["reason"] for r in got] == batch


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=12), min_size=1, max_size=4).map(".".join), st.sampled_from(DIALECTS))
def test_any_table_name_is_refused_or_read_as_that_one_table(name, dialect):
    """Generated names (quotes, comment markers, semicolons, dots, blanks, NUL): refused with the option named,
    or one statement reading the table of exactly that name, never SQL of the name's making."""
    try:
        text = compile_sql(dialect, SqlOptions(table=name, inline=True))
    except InputError as exc:
        assert exc.field == "--table"
        return
    statements = sqlglot.parse(text, read=dialect)
    assert len(statements) == 1
    sources = [t for t in statements[0].find_all(sqlglot.exp.Table) if not t.name.startswith("fdi_")]
    assert [".".join(p for p in (t.catalog, t.db, t.name) if p) for t in sources] == [name]
