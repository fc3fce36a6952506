"""The new shapes in `fdi batch` (polars): every row pays what calc pays for that project-year under
the same named policy: bands, parts, a tier's own cap, a cap over a period summed over a project's
rows in year order, tiers for kinds and flags, a base of the amount spent, a fixed reading, years
before and after a policy's dates."""

import csv
from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fdi_incentive import Project, assess
from fdi_incentive.batch import score_file
from fdi_incentive.models import Arrival
from fdi_incentive.options import Options

from .shapes import policy, tier
from .test_shapes import BANDS, PARTS, PERIOD

FLAGGED = policy([tier("new", "0.02", "50000000", kinds=["new"]), tier("ci", "0.02", "30000000", kinds=["capital_increase"]),
                  tier("hnte", "0.015", "5000000", "ge", requires=["hnte"]), tier("prio", "0.018", "3000000", "ge", requires=["priority"]),
                  tier("general", "0.01", "5000000", "ge")])
SPENT = policy([tier("t", "0.02", "50000000")], base={**PARTS.policy.base.model_dump(by_alias=True), "measure": "spent"})
NOMINAL = policy([tier("t", "0.02")], conversion={"default": "nominal", "fixed": True, "citation": "x"})
ENDED = policy([tier("t", "0.01", "1000000", "ge")], effective={"to": date(2025, 12, 31)}, start=date(2023, 1, 1))
POLICIES = {"bands": BANDS, "parts": PARTS, "period": PERIOD, "flagged": FLAGGED, "spent": SPENT, "nominal": NOMINAL, "ended": ENDED}

row = st.fixed_dictionaries({
    "project_id": st.sampled_from(["A", "B", "C", ""]),
    "year": st.integers(2021, 2028),
    "kind": st.sampled_from(["new", "capital-increase"]),
    "sector": st.sampled_from(["manufacturing", "services", "real-estate"]),
    "paid_in_usd": st.one_of(st.integers(0, 700_000_000), st.sampled_from([1_000_000, 5_000_000, 9_999_999, 10_000_000, 30_000_000,
                                                                           50_000_000, 50_000_001])).map(str),
    "fx_rate": st.sampled_from(["7", "7.1", "6.8765"]),
    "hnte": st.sampled_from(["", "true", "0", "是"]),
    "priority": st.sampled_from(["", "1", "no"]),
    "spent_usd": st.one_of(st.just(""), st.integers(0, 300_000_000).map(str)),
})


def batch(tmp_path, lp, rows):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    with src.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    score_file(src, out, options=Options(policy=lp))
    with out.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def calc(lp, r, years_before=()):
    flags = {"hnte": r["hnte"] in ("true", "是"), "priority": r["priority"] == "1"}
    arrivals = [Arrival(year=int(r["year"]), amount=Decimal(r["paid_in_usd"]))]
    spent = {int(r["year"]): Decimal(r["spent_usd"])} if r["spent_usd"] else {}
    p = Project(kind=r["kind"].replace("-", "_"), sector=r["sector"], arrivals=arrivals, spent_usd=spent, **flags)
    return assess(p, policy=lp, fx=r["fx_rate"]).years[0]


@given(name=st.sampled_from(sorted(set(POLICIES) - {"period"})), rows=st.lists(row, min_size=1, max_size=8))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_row_pays_what_calc_pays_under_each_shape(tmp_path, name, rows):
    lp = POLICIES[name]
    for r, got in zip(rows, batch(tmp_path, lp, rows)):
        want = calc(lp, r)
        assert got["error"] == "", got
        assert (got["incentive_cny"], got["tier"] or None, got["policy_status"]) == (
            format(want.incentive_cny, ".2f"), want.tier, want.policy_status), (name, r, got, want)
        if want.parts:
            assert [got[f"incentive_{p.payer}_cny"] for p in want.parts] == [format(p.incentive_cny, ".2f") for p in want.parts]


@given(rows=st.lists(row, min_size=1, max_size=10))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_period_cap_sums_a_projects_rows_in_year_order_as_calc_sums_its_years(tmp_path, rows):
    rows = [dict(r, sector="manufacturing") for r in rows]
    got = batch(tmp_path, PERIOD, rows)
    paid: dict[str, Decimal] = {}
    for r, g in zip(rows, got):  # each project alone, as calc over its rows' years (a row without an id alone)
        assert g["error"] == ""
        paid[r["project_id"] or id(g)] = paid.get(r["project_id"] or id(g), Decimal(0)) + Decimal(g["incentive_cny"])
    for project in {r["project_id"] for r in rows if r["project_id"]}:
        mine = sorted((int(r["year"]), i) for i, r in enumerate(rows) if r["project_id"] == project)
        arrivals = [Arrival(year=y, amount=Decimal(rows[i]["paid_in_usd"])) for y, i in mine]
        # (calc adds a year's arrivals up; the batch pays each row: compare over rows with distinct years)
        if len({y for y, _ in mine}) == len(mine) and len({rows[i]["fx_rate"] for _, i in mine}) == 1:
            want = assess(Project(sector="manufacturing", arrivals=arrivals), policy=PERIOD, fx=rows[mine[0][1]]["fx_rate"])
            assert paid[project] == want.total_incentive_cny
    assert all(Decimal(g["incentive_cny"]) <= 50_000_000 for g in got)


def test_a_ledger_adds_arrivals_up_by_the_policys_october_to_september_year_as_calc_does(tmp_path):
    lp = policy([tier("t", "0.03", "5000000", "ge")], base={**PARTS.policy.base.model_dump(by_alias=True), "period": "october_september"})
    src, out = tmp_path / "ledger.csv", tmp_path / "out.csv"
    days = ["2023-10-01", "2024-09-30", "2024-10-01"]
    src.write_text("project_id,date,type,amount,currency,kind,sector\n" + "".join(
        f"A,{d},equity,3000000,USD,new,manufacturing\n" for d in days), encoding="utf-8")
    score_file(src, out, options=Options(policy=lp, fx_rate=Decimal("7")))
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [(r["year"], r["paid_in_usd"], r["eligible"]) for r in rows] == [("2023", "6000000.00", "true"), ("2024", "3000000.00", "false")]
    arrivals = [Arrival(date=date.fromisoformat(d), amount=Decimal(3_000_000)) for d in days]
    want = assess(Project(sector="manufacturing", arrivals=arrivals), policy=lp, fx="7")
    assert [r["incentive_cny"] for r in rows] == [format(y.incentive_cny, ".2f") for y in want.years]


MIXED = policy([tier("big", "0.03", "50000000", period_cap={"amount": "5000000", "from": 2023, "to": 2027, "citation": "x"}),
                tier("small", "0.01", "1000000", "ge")])


@given(amounts=st.lists(st.sampled_from([2_000_000, 20_000_000, 60_000_000, 90_000_000]), min_size=1, max_size=6))
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_a_period_cap_counts_the_years_paid_under_an_uncapped_tier_too_as_calc_does(tmp_path, amounts):
    rows = [dict(project_id="A", year=str(2023 + i), kind="new", sector="manufacturing", paid_in_usd=str(a), fx_rate="7",
                 hnte="", priority="", spent_usd="") for i, a in enumerate(amounts)]
    got = batch(tmp_path, MIXED, rows)
    want = assess(Project(sector="manufacturing", arrivals=[Arrival(year=2023 + i, amount=Decimal(a)) for i, a in enumerate(amounts)]),
                  policy=MIXED, fx="7")
    assert [g["incentive_cny"] for g in got] == [format(y.incentive_cny, ".2f") for y in want.years]
