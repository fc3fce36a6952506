"""The new shapes of rule in `fdi sql` and Spark: what calc's `assess` gives each project-year, the
SQL gives on the same rows (bands, parts paid by different governments, a tier's own cap and a cap
over a period of years, tiers for some kinds, place groups and flags, a base of the amount spent,
years outside a named policy's dates, places outside the area or excluded), with the query's
reference tables inline and joined. Policies of each shape are built from Chongqing's file
(tests/shapes.py); places are resolved by `fdi_incentive.places`, as calc resolves them.

PostgreSQL needs FDI_TEST_PG_DSN; Spark needs PySpark and Java (as tests/test_sql.py)."""

from __future__ import annotations

import os
from datetime import date
from functools import cache
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from .shapes import policy, tier

from fdi_incentive import Project, assess, placing
from fdi_incentive.rules import status_reason
from fdi_incentive.errors import FdiError, InputError
from fdi_incentive.models import Arrival
from fdi_incentive.reference import OPTIONAL_COLUMNS
from fdi_incentive.sql import DIALECTS, RESULT_COLUMNS, SqlOptions, compile_sql, reference_sql
from fdi_incentive.money import parse_flag
from fdi_incentive.policy import get_policy

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
COLUMNS = ["project_id", "year", "kind", "sector", "industry_code", "paid_in_usd", "shareholder_loans_usd",
           "reinvested_profit_usd", "fx_rate", *OPTIONAL_COLUMNS]
X = {"citation": "x"}
PARTS = [{"payer": "province", "label": "province", "rate": "0.02", "rate_type": "exact", **X},
         {"payer": "city", "label": "city", "rate": "0.01", "rate_type": "floor", **X}]
GD = {"within": ["440000"], "groups": [{"id": "prd", "label": "PRD", "places": ["440100", "440600"], **X}], **X}
SPENT = {"currency": "USD", "period": "calendar_year", "kinds": ["new", "capital_increase"], "counts": ["equity", "reinvested_profit"],
         "excludes": ["shareholder_loan"], "measure": "spent", **X}

POLICIES = {
    "bands": policy([tier("b1", "0.01", "1000000", "ge", below="10000000"), tier("b2", "0.02", "10000000", "ge", below="30000000"),
                     tier("b3", "0.03", "30000000", "ge", cap={"amount": "10000000", **X})], id="x-bands"),
    "parts": policy([tier("both", "0.03", "5000000", parts=PARTS, rate_type="floor")], id="x-parts", cap="9000000"),
    "period": policy([tier("m", "0.03", "0", rate_type="ceiling", cap={"amount": "5000000", **X},
                           period_cap={"amount": "12000000", "from": 2023, "to": 2027, **X})], id="x-period"),
    "flags": policy([tier("new", "0.02", "5000000", kinds=["new"]), tier("hnte", "0.015", "1000000", "ge", requires=["hnte"]),
                     tier("ht", "0.025", "8000000", "ge", requires=["high_tech", "priority"]), tier("general", "0.01", "1000000", "ge")],
                    id="x-flags"),
    "spent": policy([tier("t", "0.02", "5000000")], id="x-spent", base=SPENT, cap="8000000"),
    "groups": policy([tier("prd", "0.02", "5000000", "ge", groups=["prd"]), tier("rest", "0.02", "1000000", "ge", groups=["rest"])],
                     id="x-groups", place={**GD, "others": "rest", "others_label": "elsewhere", "excludes": ["440604"]}),
    "dated": policy([tier("t", "0.01", "1000000", "ge")], id="x-dated", effective={"to": date(2025, 12, 31)}, start=date(2023, 1, 1)),
    # every shape at once: groups with no others over two provinces, one of its cities excluded, flags, bands,
    # parts, a period cap on some tiers only, a spent base, an end date
    "all": policy([
        tier("top", "0.03", "10000000", "ge", groups=["prd"], requires=["hnte"], parts=PARTS, rate_type="floor",
             period_cap={"amount": "15000000", "from": 2023, "to": 2026, **X}),
        tier("band", "0.01", "1000000", "ge", below="10000000", groups=["prd"], cap={"amount": "60000", **X}),
        tier("north", "0.02", "5000000", groups=["north"], period_cap={"amount": "9000000", "from": 2022, "to": 2027, **X}),
        tier("prd", "0.01", "10000000", "ge", groups=["prd"])],
        id="x-all", cap="20000000", base=SPENT, effective={"to": date(2026, 12, 31)}, start=date(2022, 1, 1),
        place={"within": ["440000", "370000"], "excludes": ["370200"],
               "groups": [{"id": "prd", "label": "PRD", "places": ["440100", "440600"], **X},
                          {"id": "north", "label": "Shandong", "places": ["370000"], **X}], **X}),
}
LOCATIONS = [None, "", " ", "440100", "广州", "广州市", " 佛山 ", "foshan", "Guang zhou", "ｆｏｓｈａｎ", "440604", "禅城区", "441400",
             "梅江区", "广东", "370100", "济南", "山东省济南市", "370202", "青岛", "370000", "500151", "重庆铜梁", "110105",
             "朝阳区", "999999", "nowhere", "x'y", "广州\t"]
FLAG_CELLS = [None, "", "true", "1", "yes", "是", "false", "0", "no", "否", " TRUE ", "maybe"]

amounts = st.one_of(st.sampled_from([D(1_000_000), D("999999.99"), D(5_000_000), D("5000000.01"), D(10_000_000), D("9999999.99"),
                                     D(30_000_000), D("29999999.99"), D(300_000_000)]),
                    st.integers(1, 4 * 10**10).map(lambda c: D(c) / 100))
SHIPPED = ["cn-sd-2023", "cn-sd-jinan-2020", "cn-gd-2018", "cn-gd-2024", "cn-gd-foshan-2023", "cn-sn-2023", "cn-fj-2023",
           "cn-cq-tongliang-2025"]
POLICIES.update({pid: get_policy(pid) for pid in SHIPPED})
PLACED = ("groups", "all", *SHIPPED)  # (the runs that read a location: the place tables hold every name the resolver reads)
LOCATIONS += ["厦门", "三明市", "350100", "福建", "山东济南", "青岛市", "广东省佛山市", "江门", "陕西", "西安", "铜梁区", "重庆市铜梁区"]


def project(placed: bool):
    return st.fixed_dictionaries({
    "kind": st.sampled_from(["new", "capital_increase"]),
    "sector": st.sampled_from(["manufacturing", "services", "real_estate", "finance"]),
    "location": st.sampled_from(LOCATIONS if placed else [None]),
    "high_tech": st.sampled_from(FLAG_CELLS), "hnte": st.sampled_from(FLAG_CELLS), "priority": st.sampled_from(FLAG_CELLS),
    "fx": st.sampled_from([D("7.1"), D("6.8542"), D("7.00000001")]),
    "years": st.dictionaries(st.integers(2020, 2028), st.tuples(amounts, st.one_of(st.none(), amounts)), min_size=1, max_size=5),
    "named": st.booleans(),
    })


def projects(placed: bool):
    return st.lists(project(placed), min_size=1, max_size=6)


def flag(cell) -> bool | None:
    """A flag cell as the batch reads it: True, False, or None for a cell that is no boolean."""
    try:
        return parse_flag(cell, "flag")
    except InputError:
        return None


def rows_of(projects_: list[dict]) -> list[tuple]:
    rows = []
    for i, p in enumerate(projects_):
        for year, (paid, spent) in sorted(p["years"].items()):
            rows.append((f"P{i}" if p["named"] else None, year, p["kind"], p["sector"], None, paid, None, None, p["fx"], p["location"],
                         p["high_tech"], p["hnte"], p["priority"], spent))
    return rows


def expected(projects_: list[dict], lp) -> list[dict | str]:
    """What calc gives each row (in rows_of's order): its year's result, or the error text."""
    out: list[dict | str] = []
    for p in projects_:
        years = sorted(p["years"].items())
        flags = {f: flag(p[f]) for f in ("high_tech", "hnte", "priority")}
        bad = []
        for f, v in flags.items():
            try:
                parse_flag(p[f], f)
            except InputError as exc:
                bad.append(str(exc))
        try:
            placing.resolve(p["location"])
        except InputError as exc:
            bad.append(str(exc))
        groups = [years] if p["named"] else [[y] for y in years]  # (a row without project_id is a project of its own)
        for group in groups:
            if bad:
                out += ["; ".join(bad)] * len(group)
                continue
            arrivals = [Arrival(year=y, amount=paid) for y, (paid, _) in group]
            project_ = Project(kind=p["kind"], sector=p["sector"], arrivals=arrivals, location=p["location"] or None,
                               spent_usd={y: s for y, (_, s) in group if s is not None}, **flags)
            try:
                a = assess(project_, policy=lp, fx=p["fx"])
            except FdiError as exc:
                out += [str(exc)] * len(group)
                continue
            by_year = {y.year: y for y in a.years}
            out += [by_year[y] for y, _ in group]
    return out


def sql_options(lp, inline=True) -> SqlOptions:
    placed = any(lp is POLICIES[s] for s in PLACED)
    return SqlOptions(policy=lp, inline=inline, columns=tuple(c for c in OPTIONAL_COLUMNS if placed or c != "location"))


@cache
def statements(shape: str, dialect: str, inline: bool) -> tuple[tuple[str, ...], str]:
    """The reference tables' statements (none inline) and the query, for a shape's policy."""
    lp = POLICIES[shape]
    return (() if inline else tuple(reference_sql(dialect, sql_options(lp, False)))), compile_sql(dialect, sql_options(lp, inline))


@cache
def duckdb_with_tables(shape: str):
    """A DuckDB connection holding the reference tables of a shape's policy (made once: the place tables are large)."""
    import duckdb

    con = duckdb.connect()
    for s in statements(shape, "duckdb", False)[0]:
        con.execute(s)
    return con


def duckdb_rows(rows: list[tuple], shape: str, inline: bool) -> list[dict]:
    import duckdb

    con = duckdb.connect() if inline else duckdb_with_tables(shape)
    query = statements(shape, "duckdb", inline)[1]
    placed = shape in PLACED
    if not placed:
        rows = [r[:9] + r[10:] for r in rows]
    con.execute("""CREATE OR REPLACE TABLE projects (project_id VARCHAR, year INTEGER, kind VARCHAR, sector VARCHAR, industry_code VARCHAR,
        paid_in_usd DECIMAL(20, 3), shareholder_loans_usd DECIMAL(20, 3), reinvested_profit_usd DECIMAL(20, 3), fx_rate DECIMAL(14, 9),
        """ + ("location VARCHAR, " if placed else "") + """high_tech VARCHAR, hnte VARCHAR, priority VARCHAR, spent_usd DECIMAL(20, 3))""")
    con.executemany(f"INSERT INTO projects VALUES ({', '.join('?' * len(rows[0]))})", rows)
    cur = con.execute(query + " ORDER BY project_id NULLS LAST, year")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def ordered(rows: list[tuple]) -> list[int]:
    return sorted(range(len(rows)), key=lambda i: (rows[i][0] is None, rows[i][0] or "", rows[i][1]))


def assert_agree(projects_: list[dict], lp, got: list[dict]) -> None:
    rows = rows_of(projects_)
    want = expected(projects_, lp)
    assert len(got) == len(rows)
    payers = [p.payer for t in lp.policy.tiers for p in t.parts]
    # (the SQL's rows come sorted; rows without project_id are told apart by their cells)
    unnamed = sorted([i for i in range(len(rows)) if rows[i][0] is None], key=lambda i: rows[i][1])
    named = [i for i in ordered(rows) if rows[i][0] is not None]
    if len({rows[i][1:] for i in unnamed}) < len(unnamed):
        return  # (two identical unnamed rows: either order is right)
    by_cells = {tuple(r.get(c) for c in COLUMNS[1:]): r for r in got[len(named):]}
    for i, g in zip(named, got[:len(named)]):
        check_row(rows[i], want[i], g, payers)
    for i in unnamed:
        key = tuple(_as_cell(v) for v in rows[i][1:])
        check_row(rows[i], want[i], by_cells[key], payers)


def _as_cell(v):
    return v


def lp_of(pid: str):
    from fdi_incentive.policy import get_policy

    return next((lp.policy for lp in POLICIES.values() if lp.policy.id == pid), None) or get_policy(pid).policy


def test_shipped_policies_score_in_sql():
    assert all(POLICIES[pid].policy.id == pid for pid in SHIPPED)


def check_row(row, want, got: dict, payers: list[str]) -> None:
    said = (row, got)
    if isinstance(want, str):
        assert got["error"] == want, said
        return
    assert got["error"] is None, said
    assert got["policy"] == want.policy and got["policy_status"] == want.policy_status, said
    assert got["eligible"] == want.eligible and got["tier"] == want.tier, said
    assert got["rate"] == want.rate, said
    # (calc scales the converted base by spent / paid in, a division: its last of 28 digits may be off where the SQL
    # multiplies the amount spent by the rate exactly)
    near = D("1e-18") if row[-1] is not None else D(0)
    # (where nothing can be paid, a year outside the policy's dates or a place outside or excluded, calc converts
    # nothing and says base_cny 0; fdi batch and the SQL convert the base as for any row that pays nothing)
    shut = want.policy_status in ("not_yet", "expired") or (not want.eligible and any(r.startswith("Place:") and "nothing is paid" in r
                                                                                       for r in want.reasons))
    assert got["base_usd"] == want.base_usd and (shut or abs(got["base_cny"] - want.base_cny) <= near), said
    assert abs(got["gross_cny"] - want.gross_cny) <= near and got["capped"] == want.capped, said
    assert got["incentive_cny"] == want.incentive_cny, (said, want.incentive_cny)
    parts = {p.payer: p.incentive_cny for p in want.parts}
    for payer in dict.fromkeys(payers):
        assert got[f"incentive_{payer}_cny"] == parts.get(payer, D(0)), (said, payer, parts)
    if "location_group" in got:
        assert got["location_group"] == want.location_group, said
    if want.policy_status in ("not_yet", "expired"):
        assert got["reason"] == status_reason(lp_of(want.policy), want.policy_status), said
    limited = any(r.startswith("Capped by the total over") for r in want.reasons)
    assert limited == ("limited by the total of CNY" in (got["reason"] or "")), said


# --- DuckDB: every shape, Hypothesis ---------------------------------------------------------------

@pytest.mark.parametrize("shape", list(POLICIES))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])  # (shrinking a list of projects takes minutes: none)
@given(st.data())
def test_duckdb_gives_calcs_values_for_every_shape(shape, data):
    """With the reference tables inline and joined (a run that reads a location: joined, its inline
    statement holding every place name is megabytes long)."""
    placed = shape in PLACED
    projects_ = data.draw(projects(placed))
    inline = not placed and data.draw(st.booleans())
    assert_agree(projects_, POLICIES[shape], duckdb_rows(rows_of(projects_), shape, inline))


# --- every dialect: the query compiles and parses back with every shape ---------------------------

@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_writes_every_shape_and_parses_it_back(dialect):
    import sys

    import sqlglot

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 20000))
    try:
        text = compile_sql(dialect, SqlOptions(policy=POLICIES["all"], view="fdi_scored", columns=OPTIONAL_COLUMNS))
        tree = sqlglot.parse_one(text, read=dialect)
    finally:
        sys.setrecursionlimit(old)
    assert [e.alias_or_name for e in tree.expression.expressions] == [
        *COLUMNS, *RESULT_COLUMNS[:RESULT_COLUMNS.index("incentive_cny") + 1], "incentive_province_cny", "incentive_city_cny",
        "location_group", "reason", "error"]


def test_a_run_without_the_new_shapes_has_the_query_and_tables_of_before():
    """Chongqing's rule on a table without the new columns: no place tables, no new layer or column."""
    text = compile_sql("duckdb", SqlOptions())
    assert "location" not in text and "_f_payout" not in text and "fdi_place" not in text
    assert not any("fdi_place" in s for s in reference_sql("duckdb", SqlOptions()))
    # a location column alone (Chongqing names its place) resolves it, and a place outside pays nothing
    with_place = compile_sql("duckdb", SqlOptions(columns=("location",), inline=True))
    assert "fdi_place_name" in with_place and "location_group" not in with_place


# --- PostgreSQL and Spark: one check each ------------------------------------------------------------

PG_TABLE = """(project_id TEXT, year INTEGER, kind TEXT, sector TEXT, industry_code TEXT, paid_in_usd NUMERIC(20, 3),
    shareholder_loans_usd NUMERIC(20, 3), reinvested_profit_usd NUMERIC(20, 3), fx_rate NUMERIC(14, 9), location TEXT,
    high_tech TEXT, hnte TEXT, priority TEXT, spent_usd NUMERIC(20, 3))"""
FIXED = [  # projects over several years, in and out of places, with flags, spent amounts, a period's total crossed
    {"kind": "new", "sector": "manufacturing", "location": "广州", "high_tech": None, "hnte": "是", "priority": None, "fx": D("7.1"),
     "years": {2022: (D(40_000_000), None), 2023: (D(60_000_000), D(50_000_000)), 2024: (D(90_000_000), None),
               2025: (D(5_000_000), None), 2026: (D(80_000_000), None), 2027: (D(80_000_000), None)}, "named": True},
    {"kind": "capital_increase", "sector": "services", "location": "济南", "high_tech": "1", "hnte": "no", "priority": "",
     "fx": D("6.8542"), "years": {2022: (D("5000000.01"), None), 2023: (D(70_000_000), D(40_000_000)), 2024: (D(70_000_000), None)},
     "named": True},
    {"kind": "new", "sector": "manufacturing", "location": "佛山", "high_tech": None, "hnte": None, "priority": None, "fx": D("7.1"),
     "years": {2024: (D("9999999.99"), None), 2025: (D(1_000_000), None)}, "named": False},
    {"kind": "new", "sector": "manufacturing", "location": "青岛", "high_tech": None, "hnte": None, "priority": None, "fx": D("7.1"),
     "years": {2024: (D(60_000_000), None)}, "named": True},
    {"kind": "new", "sector": "manufacturing", "location": "梅州", "high_tech": None, "hnte": None, "priority": None, "fx": D("7.1"),
     "years": {2024: (D(60_000_000), None)}, "named": True},
    {"kind": "new", "sector": "manufacturing", "location": "500151", "high_tech": "maybe", "hnte": None, "priority": None,
     "fx": D("7.1"), "years": {2024: (D(60_000_000), None)}, "named": True},
]


@pytest.fixture(scope="module")
def pg():
    dsn = os.environ.get("FDI_TEST_PG_DSN")
    if not dsn:
        unavailable("a PostgreSQL server (FDI_TEST_PG_DSN)")
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("SET statement_timeout = '120s'")
        yield con


def unavailable(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} is needed in CI")
    pytest.skip(f"{what} is not available here")


@pytest.mark.parametrize("inline", [True, False])
def test_postgres_gives_calcs_values(pg, inline):
    rows = rows_of(FIXED)
    with pg.cursor() as cur:
        made, query = statements("all", "postgres", inline)
        for s in made:
            name = s.split("(")[0].split()[-1] if s.startswith("CREATE") else None
            if name:
                cur.execute(f"DROP TABLE IF EXISTS {name}")
            cur.execute(s.replace("CREATE TABLE", "CREATE TEMP TABLE", 1))
        cur.execute("DROP TABLE IF EXISTS projects")
        cur.execute(f"CREATE TEMP TABLE projects {PG_TABLE}")
        cur.executemany(f"INSERT INTO projects VALUES ({', '.join(['%s'] * len(COLUMNS))})", rows)
        cur.execute(query + " ORDER BY project_id NULLS LAST, year")
        names = [d.name for d in cur.description]
        got = [dict(zip(names, r)) for r in cur.fetchall()]
    assert_agree(FIXED, POLICIES["all"], got)


@pytest.fixture
def loopback_only(no_network, monkeypatch):
    """Spark's driver talks to its JVM on this machine (127.0.0.1): that much is allowed, nothing further."""
    import socket

    refused = socket.socket.connect

    def connect(sock, address, *args):
        if sock.family == socket.AF_UNIX or (isinstance(address, tuple) and address[0] in ("127.0.0.1", "::1", "localhost")):
            return REAL_CONNECT(sock, address, *args)
        return refused(sock, address, *args)

    monkeypatch.setattr(socket.socket, "connect", connect)


REAL_CONNECT = __import__("socket").socket.connect


@pytest.fixture(scope="module")
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


def test_spark_gives_calcs_values(loopback_only, spark):
    from pyspark.sql import types as T

    from fdi_incentive import spark as fdi_spark

    amount = T.DecimalType(20, 3)
    schema = T.StructType([T.StructField("project_id", T.StringType()), T.StructField("year", T.IntegerType()),
                           *[T.StructField(n, T.StringType()) for n in ("kind", "sector", "industry_code")],
                           *[T.StructField(n, amount) for n in ("paid_in_usd", "shareholder_loans_usd", "reinvested_profit_usd")],
                           T.StructField("fx_rate", T.DecimalType(14, 9)),
                           *[T.StructField(n, T.StringType()) for n in ("location", "high_tech", "hnte", "priority")],
                           T.StructField("spent_usd", amount)])
    scored = fdi_spark.score(spark.createDataFrame(rows_of(FIXED), schema), policy=POLICIES["all"])
    got = [r.asDict() for r in scored.orderBy(scored.project_id.asc_nulls_last(), "year").collect()]
    assert_agree(FIXED, POLICIES["all"], got)
