"""Every shipped policy, named, scores a project-year alike in calc and in the batch: over rows at the
places each policy names (inside, in each of its groups, excluded, outside), with flags, spent
amounts, kinds, sectors, years around its dates and amounts around its thresholds."""

import csv
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fdi_incentive import Project, assess
from fdi_incentive.batch import score_file
from fdi_incentive.models import Arrival
from fdi_incentive.options import Options
from fdi_incentive.policy import bundled_policies

from .test_shapes_sql import assert_agree, projects, rows_of

pytest.importorskip("fdi_incentive.places")

SHIPPED = [lp for lp in bundled_policies()]


def places_of(lp) -> list[str]:
    """Codes a policy names (its area, groups, exclusions) and a place outside it, as a row may give them."""
    area = lp.policy.place
    codes = ["500151", "440600", "370200", "350200", "110105"]  # (Tongliang, Foshan, Qingdao, Xiamen, Beijing Chaoyang)
    if area is not None:
        codes += area.within + area.excludes + [c for g in area.groups for c in g.places]
    return sorted(set(codes))


def amounts(lp) -> st.SearchStrategy[Decimal]:
    edges = {t.threshold.amount for t in lp.policy.tiers} | {t.below for t in lp.policy.tiers if t.below is not None}
    near = sorted({max(Decimal(0), e + d) for e in edges for d in (Decimal("-0.01"), Decimal(0), Decimal("0.01"))})
    return st.one_of(st.sampled_from(near), st.integers(0, 3_000_000_000).map(Decimal))


@st.composite
def rows(draw, lp):
    start = lp.policy.effective.from_.year
    return {
        "project_id": draw(st.sampled_from(["A", "B", ""])),
        "year": str(draw(st.integers(start - 1, start + 6))),
        "kind": draw(st.sampled_from(["new", "capital_increase"])),
        "sector": draw(st.sampled_from(["manufacturing", "services", "real-estate", "finance"])),
        "paid_in_usd": str(draw(amounts(lp))),
        "fx_rate": draw(st.sampled_from(["7.1", "6.9"])),
        "location": draw(st.sampled_from(places_of(lp))),
        "high_tech": draw(st.sampled_from(["", "true"])),
        "hnte": draw(st.sampled_from(["", "是"])),
        "priority": draw(st.sampled_from(["", "1"])),
        "spent_usd": draw(st.one_of(st.just(""), amounts(lp).map(str))),
    }


def calc(lp, r):
    p = Project(kind=r["kind"], sector=r["sector"], location=r["location"], high_tech=r["high_tech"] == "true",
                hnte=r["hnte"] == "是", priority=r["priority"] == "1",
                arrivals=[Arrival(year=int(r["year"]), amount=Decimal(r["paid_in_usd"]))],
                spent_usd={int(r["year"]): Decimal(r["spent_usd"])} if r["spent_usd"] else {})
    return assess(p, policy=lp, fx=r["fx_rate"]).years[0]


@pytest.mark.parametrize("lp", SHIPPED, ids=[lp.policy.id for lp in SHIPPED])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_each_shipped_policy_pays_each_row_as_calc_pays_it(lp, data, tmp_path):
    got_rows = data.draw(st.lists(rows(lp), min_size=1, max_size=6))
    if any(t.period_cap for t in lp.policy.tiers):  # (a period cap sums a project's rows: one row a project here)
        got_rows = [dict(r, project_id=f"P{i}") for i, r in enumerate(got_rows)]
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    with src.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(got_rows[0]))
        w.writeheader()
        w.writerows(got_rows)
    score_file(src, out, options=Options(policy=lp))
    with out.open(encoding="utf-8") as f:
        scored = list(csv.DictReader(f))
    for r, got in zip(got_rows, scored):
        try:
            want = calc(lp, r)
        except Exception as exc:  # (calc refuses the row: the batch gives it an error naming the same thing)
            assert got["error"], (r, got, exc)
            continue
        assert got["error"] == "", (r, got)
        assert (got["incentive_cny"], got["tier"] or None, got["policy_status"]) == (
            format(want.incentive_cny, ".2f"), want.tier, want.policy_status), (lp.policy.id, r, got["reason"], want.reasons)
        for part in want.parts:
            assert got[f"incentive_{part.payer}_cny"] == format(part.incentive_cny, ".2f")


# --- and in fdi sql on DuckDB (the query inline, as one statement a user pastes) ----------------------------

@pytest.mark.parametrize("lp", SHIPPED, ids=[lp.policy.id for lp in SHIPPED])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_each_shipped_policy_pays_each_row_in_the_sql_as_calc_pays_it(lp, data):
    import duckdb

    ps = data.draw(projects(True))
    rows = rows_of(ps)
    con = duckdb.connect()
    con.execute("""CREATE TABLE projects (project_id VARCHAR, year INTEGER, kind VARCHAR, sector VARCHAR, industry_code VARCHAR,
        paid_in_usd DECIMAL(20, 3), shareholder_loans_usd DECIMAL(20, 3), reinvested_profit_usd DECIMAL(20, 3), fx_rate DECIMAL(14, 9),
        location VARCHAR, high_tech VARCHAR, hnte VARCHAR, priority VARCHAR, spent_usd DECIMAL(20, 3))""")
    con.executemany(f"INSERT INTO projects VALUES ({', '.join('?' * len(rows[0]))})", rows)
    query = _query(lp.policy.id)
    cur = con.execute(query + " ORDER BY project_id NULLS LAST, year")
    names = [d[0] for d in cur.description]
    assert_agree(ps, lp, [dict(zip(names, r)) for r in cur.fetchall()])


_QUERIES: dict[str, str] = {}


def _query(pid: str) -> str:
    from fdi_incentive.policy import get_policy
    from fdi_incentive.reference import OPTIONAL_COLUMNS
    from fdi_incentive.sql import SqlOptions, compile_sql

    if pid not in _QUERIES:
        _QUERIES[pid] = compile_sql("duckdb", SqlOptions(policy=get_policy(pid), inline=True, columns=tuple(OPTIONAL_COLUMNS)))
    return _QUERIES[pid]
