"""The planner: exact against brute force, consistent with `fdi calc`, honest about its constraints."""

import datetime as dt
import itertools
import json
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fdi_incentive import InputError, Project, assess
from fdi_incentive.cli import app
from fdi_incentive import optimum
from fdi_incentive.errors import FxError
from fdi_incentive.fx import RateChain, RateTable, assumed_rate
from fdi_incentive.money import money_fmt
from fdi_incentive.plan import parse_years, plan

from .strategies import generated_bases, junk_values

FX_TABLE = __import__("pathlib").Path(__file__).parents[1] / "examples" / "pboc-central-parity.csv"


def calc_reward(year, amount, sector, fx, reading=None, granted=None):
    project = Project.for_year(year, paid_in=amount, sector=sector)
    return assess(project, fx=fx, reading=reading, granted_rate=granted).years[0].incentive_cny


def rates_by_year(rates):
    """A rate table with one rate a year (each year's average is that rate)."""
    return RateChain(RateTable("test rates", {"USD": [(dt.date(y, 6, 30), r) for y, r in sorted(rates.items())]}))


def brute_force(total, years, fixed, step, lo, hi, reward):
    """Every schedule on the grid: the best paid total and, of those paying it, the earliest."""
    free = [y for y in years if y not in fixed]
    free_units = int((total - sum(fixed.values(), D(0))) / step)
    lo_u, hi_u = int(-(-lo // step)), int(min(hi // step, free_units))
    memo = {}

    def value(y, units):
        if (y, units) not in memo:
            memo[(y, units)] = reward(y, units * step)
        return memo[(y, units)]

    best = None
    for combo in itertools.product(range(lo_u, hi_u + 1), repeat=len(free) - 1):
        rest = free_units - sum(combo)
        if not (lo_u <= rest <= hi_u):
            continue
        units = list(combo) + [rest]
        key = (sum(value(y, u) for y, u in zip(free, units)), units)
        best = key if best is None or key > best else best
    fixed_paid = sum((reward(y, a) for y, a in fixed.items()), D(0))
    return best[0] + fixed_paid, [u * step for u in best[1]]


@st.composite
def small_problems(draw):
    """2-5 years on a grid of at most 7 amounts a year, where every reward is a whole number of fen
    (steps of a multiple of USD 100,000, exchange rates of four decimals, rates of at most three)."""
    n = draw(st.integers(2, 5))
    first = draw(st.integers(2019, 2026 - n + 1))
    years = list(range(first, first + n))
    step = D(100_000) * draw(st.sampled_from([25, 50, 75, 100, 150, 200, 300]))
    hi_units = draw(st.integers(2, 6 if n < 5 else 4))
    lo_units = draw(st.integers(0, 1))
    fixed = {}
    for y in draw(st.lists(st.sampled_from(years), max_size=n - 2, unique=True)):
        fixed[y] = D(draw(st.integers(0, 4000))) * D(10_000)
    free_n = n - len(fixed)
    units = draw(st.integers(free_n * lo_units, free_n * hi_units))
    return dict(
        years=years, step=step, fixed=fixed, total=units * step + sum(fixed.values(), D(0)),
        lo=lo_units * step, hi=hi_units * step,
        sector=draw(st.sampled_from(["manufacturing", "services", "electronics", "real-estate"])),
        reading=draw(st.sampled_from([None, "nominal"])),
        granted=draw(st.sampled_from([None, D("0.045"), D("0.05")])),
        rates={y: D(draw(st.integers(60_000, 80_000))) / 10_000 for y in years},
    )


@settings(max_examples=60, deadline=None)
@given(small_problems())
def test_plan_equals_brute_force_on_small_problems(pb):
    """The docstring's claims: the family holds an optimum, and of the optimal ones the earliest."""
    fx = rates_by_year(pb["rates"])

    def reward(year, amount):
        return calc_reward(year, amount, pb["sector"], fx, pb["reading"], pb["granted"])

    p = plan(pb["total"], pb["years"], sector=pb["sector"], fx=fx, reading=pb["reading"], granted_rate=pb["granted"],
             step=pb["step"], min_per_year=pb["lo"], max_per_year=pb["hi"], fixed=pb["fixed"])
    best, earliest = brute_force(pb["total"], pb["years"], pb["fixed"], pb["step"], pb["lo"], pb["hi"], reward)
    assert p.total_incentive_cny == best
    assert [y.paid_in_usd for y in p.schedule if not y.fixed] == earliest
    assert sum(y.paid_in_usd for y in p.schedule) == pb["total"]


@settings(max_examples=12, deadline=None)
@given(
    edge=st.sampled_from([D(10_000_000), D(30_000_000), D("35211267.60"), D("70422535.21")]),
    offset=st.integers(-600, 600), width=st.integers(1, 700), fx=st.sampled_from([D("7.1"), D("7.123456"), D("6.9871")]),
    sector=st.sampled_from(["manufacturing", "services"]),
)
def test_to_the_cent_no_schedule_pays_a_fen_more(edge, offset, width, fx, sector):
    """At a step of one cent each year's payout is rounded to the fen, so the plan may trail the best
    paid total, but by less than a fen a year: two years, every cent of a window around an edge."""
    cent = D("0.01")
    lo = edge + offset * cent
    total = 2 * lo + width * cent
    p = plan(total, [2024, 2025], sector=sector, fx=fx, min_per_year=lo)
    best = max(calc_reward(2024, lo + k * cent, sector, fx) + calc_reward(2025, total - lo - k * cent, sector, fx)
               for k in range(width + 1))
    assert best - D("0.01") <= p.total_incentive_cny <= best


def greedy(free_units, n, lo_u, hi_u, cap_u):
    """Each year in turn up to its cap point (within its bounds), what is left to the first years with room."""
    units = [lo_u] * n
    left = free_units - lo_u * n
    for i in range(n):
        add = min(left, max(0, min(hi_u, cap_u) - lo_u))
        units[i] += add
        left -= add
    for i in range(n):
        add = min(left, hi_u - units[i])
        units[i] += add
        left -= add
    return units


@settings(max_examples=10, deadline=None)
@given(
    n=st.integers(10, 30), per_year=st.integers(5, 60), sector=st.sampled_from(["manufacturing", "services"]),
    seed=st.randoms(use_true_random=False), bounded=st.booleans(), varied=st.booleans(),
)
def test_long_horizons_beat_greedy_and_random_schedules_and_reassess(n, per_year, sector, seed, bounded, varied):
    years = list(range(2024, 2024 + n))
    step = D(10_000)
    total = D(per_year) * D(1_000_000) * n
    # as when a rate table or the embedded data ends: a rate for each of the first years, one after them
    rates = {y: D("7.1") + (D(seed.randint(-300, 300)) / 10_000 if varied and i < 3 else 0) for i, y in enumerate(years)}
    fx = rates_by_year(rates)
    hi = max(total / n * 2, D(40_000_000)) if bounded else None
    p = plan(total, years, sector=sector, fx=fx, step=step, max_per_year=hi)
    assert sum(y.paid_in_usd for y in p.schedule) == total

    def paid(amounts):
        return sum(calc_reward(y, a, sector, fx) for y, a in zip(years, amounts))

    for y in p.schedule:  # every planned year, re-assessed, pays what the plan claims
        assert calc_reward(y.year, y.paid_in_usd, sector, fx) == y.incentive_cny
    units, hi_u = int(total / step), int((hi or total) / step)
    cap_u = int(D(10_000_000) / (D("7.1") * D("0.04" if sector == "manufacturing" else "0.02")) / step)
    assert p.total_incentive_cny >= paid([u * step for u in greedy(units, n, 0, hi_u, cap_u)])
    for _ in range(3):
        cuts = sorted(seed.randint(0, units) for _ in range(n - 1))
        schedule = [b - a for a, b in zip([0] + cuts, cuts + [units])]
        if all(u <= hi_u for u in schedule):
            assert p.total_incentive_cny >= paid([u * step for u in schedule])


def test_the_issue_ten_year_plan_prints_its_optimum_and_its_json_reassesses():
    args = ["plan", "--total-usd", "200000000", "--years", "2024-2033", "--sector", "manufacturing", "--fx-rate", "7.1"]
    table = CliRunner().invoke(app, args)
    assert table.exit_code == 0, table.output
    assert "56,800,000.00" in table.output and "pays in earliest" in table.output
    data = json.loads(CliRunner().invoke(app, [*args, "--json"]).output)
    assert sum(D(y["paid_in_usd"]) for y in data["schedule"]) == D(200_000_000)
    assert data["total_incentive_cny"] == "56800000.00"
    reassessed = sum(calc_reward(y["year"], D(y["paid_in_usd"]), "manufacturing", "7.1") for y in data["schedule"])
    assert reassessed == D(56_800_000)
    year = data["schedule"][0]
    assert set(year) >= {"tier", "incentive_cny", "cap_binds_above_usd", "distance_to_threshold_usd", "fx_assumed"}
    assert year["cap_binds_above_usd"] == "35211267.60"  # the 4% tier's cap point, not the 2% one
    assert data["search"]["candidates_usd"]["2024"] and data["search"]["states_examined"] > 0
    assert data["search"]["seconds"] >= 0 and "earliest" in data["search"]["tie_rule"]
    # of the schedules paying CNY 56.8M, the earliest: capital in the first years, nothing at the end
    amounts = [D(y["paid_in_usd"]) for y in data["schedule"]]
    assert amounts[0] >= D("35211267.60") and amounts[-1] == 0


def test_a_year_past_the_rates_is_planned_at_an_assumed_rate_and_marked():
    args = ["plan", "--total-usd", "60000000", "--years", "2025-2027", "--sector", "services",
            "--fixed", "2025=15000000", "--step", "1000000"]
    table = CliRunner().invoke(app, args)
    assert table.exit_code == 0, table.output
    assert "2027~" in table.output and "assumed exchange rate" in table.output and "FX assumed" in table.output
    data = json.loads(CliRunner().invoke(app, [*args, "--json"]).output)
    by_year = {y["year"]: y for y in data["schedule"]}
    assert by_year[2027]["fx_assumed"] is True and by_year[2025]["fx_assumed"] is False
    assert data["fx_assumed_years"] == [2027] and data["fx_sources"]["2027"].startswith("assumed: the 2025 average")
    given = json.loads(CliRunner().invoke(app, [*args, "--json", "--fx-assume", "6.5"]).output)
    assert given["schedule"][2]["fx_rate"] == "6.5" and "6.5" in given["fx_sources"]["2027"]
    # calc still refuses to invent a rate for an actual arrival
    calc = CliRunner().invoke(app, ["calc", "--year", "2027", "--sector", "services", "--paid-in-usd", "45000000"])
    assert calc.exit_code == 2 and "no USD rate" in calc.output


def test_years_after_the_stated_period_are_marked_as_assumed_continuation():
    p = plan(D(60_000_000), [2024, 2025, 2026], sector="services", fx="7.1")
    status = {y.year: y.policy_status for y in p.schedule}
    assert status == {2024: "in_force", 2025: "assumed_continuation", 2026: "assumed_continuation"}
    assert p.assumed_continuation_years == [2025, 2026]
    assert any("2025, 2026" in n for n in p.notes if "assumed continuation" in n)


def test_thirty_years_are_planned():
    p = plan(D(1_000_000_000), list(range(2024, 2054)), sector="manufacturing", fx="7.1")
    assert len(p.schedule) == 30 and sum(y.paid_in_usd for y in p.schedule) == D(1_000_000_000)
    # every year in the 4% tier: 0.284 CNY a USD, and ten fen more: the equal split's USD 33,333,333.34
    # (CNY 9,466,666.66856) is paid 9,466,666.67 once rounded, and so is its 33,333,333.33; the search's
    # schedule (three fen more, from years at the cap point's last cent) pays less once rounded
    assert p.total_incentive_cny == D("284000000.10")
    assert [y.paid_in_usd for y in p.schedule] == [y.paid_in_usd for y in p.baselines["equal_split"].schedule]


def test_issue_example_and_every_year_matches_calc():
    p = plan(D(80_000_000), [2024, 2025, 2026], sector="manufacturing", fx="7.1")
    assert p.total_incentive_cny == D("21300000.00")
    assert p.total_incentive_cny > p.baselines["all_in_first_year"].total_incentive_cny == D("10000000.00")
    assert p.total_incentive_cny > p.baselines["equal_split"].total_incentive_cny
    for y in p.schedule:
        assert calc_reward(y.year, y.paid_in_usd, "manufacturing", "7.1") == y.incentive_cny


def test_threshold_edge_is_found_to_the_cent():
    """USD 30,000,000.01 of manufacturing earns 4%, 30,000,000.00 only 2%: the plan must find the cent."""
    p = plan(D("40000000.01"), [2024, 2025], sector="manufacturing", fx="7", min_per_year=D(10_000_000))
    amounts = sorted(y.paid_in_usd for y in p.schedule)
    assert D("30000000.01") in amounts or all(y.tier == "manufacturing" for y in p.schedule)


def test_fixed_years_and_bounds_are_respected():
    p = plan(D(60_000_000), [2024, 2025, 2026], sector="services", fx="7", fixed={2024: D(15_000_000)},
             max_per_year=D(30_000_000), step=D(1_000_000))
    by_year = {y.year: y for y in p.schedule}
    assert by_year[2024].paid_in_usd == D(15_000_000) and by_year[2024].fixed
    assert all(y.paid_in_usd <= D(30_000_000) for y in p.schedule if not y.fixed)


def test_fx_shock_moves_the_reward():
    p = plan(D(80_000_000), [2024, 2025, 2026], sector="manufacturing", fx="7.1")
    assert p.fx_sensitivity["fx_-5%"] < p.total_incentive_cny < p.fx_sensitivity["fx_+5%"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(fixed={2030: D(1)}), "a year within years"),
        (dict(fixed={2024: D(90_000_000)}), "no more than total_usd"),
        (dict(max_per_year=D(10_000_000)), "a total from 0.00 to 30,000,000.00"),
        (dict(step=D("3000000")), "a step that divides"),
    ],
)
def test_infeasible_plans_are_clear_errors(kwargs, message):
    with pytest.raises(InputError, match=message):
        plan(D(80_000_000), [2024, 2025, 2026], sector="manufacturing", fx="7.1", **kwargs)


def test_parse_years():
    assert parse_years("2024-2026") == [2024, 2025, 2026]
    assert parse_years("2027,2024") == [2024, 2027]
    with pytest.raises(InputError):
        parse_years("soon")


def test_cli_plan_json_and_table():
    runner = CliRunner()
    args = ["plan", "--total-usd", "80000000", "--years", "2024-2026", "--sector", "manufacturing", "--fx-rate", "7.1"]
    data = json.loads(runner.invoke(app, [*args, "--json"]).output)
    assert set(data) >= {"schedule", "total_incentive_cny", "baselines"}
    assert set(data["schedule"][0]) >= {"year", "paid_in_usd", "tier", "incentive_cny"}
    assert data["total_incentive_cny"] == "21300000.00"
    table = runner.invoke(app, args)
    assert table.exit_code == 0 and "21,300,000.00" in table.output and "Advice under the stated policy" in table.output
    bad = runner.invoke(app, [*args, "--fixed", "2024:5"])
    assert bad.exit_code == 2 and "YEAR=AMOUNT" in bad.output


def test_the_assumed_rate_is_the_last_full_year_of_the_sources_or_the_one_given():
    table = RateTable("t", {"USD": [(dt.date(2030, 1, 2), D("7.0")), (dt.date(2030, 12, 30), D("7.2")),
                                    (dt.date(2031, 3, 1), D("9"))]})
    q = assumed_rate(RateChain(table, embedded=False), 2035)
    assert q.assumed and q.rate == D("7.1") and "2030 average" in q.source  # 2031 is not a full year
    given = assumed_rate(RateChain(table, embedded=False), 2035, rate=D("6.8"))
    assert given.assumed and given.rate == D("6.8")
    with pytest.raises(FxError, match="give fx_assume"):
        assumed_rate(RateChain(embedded=False), 2035)


def test_a_search_past_its_budget_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(optimum, "MAX_STATES", 50)
    with pytest.raises(InputError, match="coarser step"):
        plan(D(200_000_000), list(range(2024, 2034)), sector="manufacturing", fx="7.1")


GOOD_PLAN = dict(total_usd=D(30_000_000), years=[2024, 2025], sector="services", fx="7.1", step=D(1_000_000))


@pytest.mark.parametrize("bad, message", [
    (dict(years=[2024, 2024]), "given twice"),
    (dict(years=["2024", 2024]), "given twice"),
    (dict(total_usd=30000000.0), "a float is refused (it cannot hold every decimal exactly)"),
    (dict(total_usd=D("1e30")), "below 100,000,000,000,000"),
    (dict(total_usd=D("NaN")), "total_usd"),
    (dict(total_usd=D(-1)), "total_usd.*zero or more"),
    (dict(min_per_year=D("sNaN")), "min_per_year"),
    (dict(max_per_year=7.5), "a float is refused"),
    (dict(years=2024), "years"),
    (dict(years=[]), "years"),
    (dict(years=[2024.0]), "a float is refused"),
    (dict(years=[None]), "years"),
    (dict(step=D("0.001")), "step.*to the cent"),
    (dict(step=D(0)), "step"),
    (dict(fx_assume=7.1), "a float is refused"),
    (dict(fixed={2024: 1.5}), "a float is refused"),
    (dict(fixed={"2024": D(1), 2024: D(2)}), "given twice"),
    (dict(fixed=[2024]), "fixed"),
    (dict(granted_rate=0.05), "a float is refused"),
    (dict(policy=5), "policy"),
    (dict(reading="both"), "reading"),
    (dict(kind=5), "kind"),
])
def test_plan_refuses_bad_arguments_with_input_errors_naming_them(bad, message):
    """The API reads every argument with the parsers the CLI uses (money.py): bad input is an
    InputError naming the argument, a float is refused with the one message, a year given twice
    is a mistake (once it planned the year twice and paid CNY 0.00)."""
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        plan(**{**GOOD_PLAN, **bad})


def test_plan_reads_strings_as_the_cli_does():
    """Amounts, rates and years as text are read by the one parser of each (as Project.for_year does)."""
    text = plan("30,000,000", ["2024", "2025年"], sector="services", fx="7.1", step="1000000", min_per_year="0",
                fixed={"2024": "10000000"}, fx_assume="7.1")
    exact = plan(D(30_000_000), [2024, 2025], sector="services", fx="7.1", step=D(1_000_000), fixed={2024: D(10_000_000)})
    assert text.model_dump(exclude={"search"}) == exact.model_dump(exclude={"search"})  # (search: its wall time)
    assert plan("30000000", "2024", sector="services", fx="7.1").total_incentive_cny == D("4260000.00")
    assert plan("30000000", "2024-2025", sector="services", fx="7.1").total_incentive_cny == plan(
        D(30_000_000), [2024, 2025], sector="services", fx="7.1").total_incentive_cny


def test_cli_refuses_a_year_given_twice_as_the_api_does():
    out = CliRunner().invoke(app, ["plan", "--total-usd", "30000000", "--years", "2024,2024", "--sector", "services",
                                   "--fx-rate", "7.1"])
    assert out.exit_code != 0 and "given twice" in out.output


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["total_usd", "years", "sector", "kind", "fx", "fx_assume", "policy", "reading",
                        "min_per_year", "max_per_year", "fixed", "step", "granted_rate", "industry_code"]),
       junk_values)
def test_plan_with_junk_in_any_argument_raises_only_fdi_errors(name, junk):
    from fdi_incentive.errors import FdiError

    try:
        p = plan(**{**GOOD_PLAN, name: junk})
    except FdiError as e:
        assert not str(e).startswith("--") and not getattr(e, "field", "").startswith("--"), str(e)  # (an argument, not an option)
        if "float" in str(e):
            assert "a float is refused (it cannot hold every decimal exactly)" in str(e)
        return
    assert sum(y.paid_in_usd for y in p.schedule) == p.total_usd
    assert p.total_incentive_cny == sum(y.incentive_cny for y in p.schedule)


def test_a_policy_that_does_not_count_equity_plans_what_calc_pays():
    """Issue 22 #5: a policy counting only reinvested profits paid CNY 2,800,000 on USD 20M of equity in
    the plan while `fdi calc` paid 0.00 for the same year."""
    from .strategies import _policy_from
    from fdi_incentive.policy import LoadedPolicy

    pol = LoadedPolicy(policy=_policy_from([(D(10_000_000), "gt", D("0.02"), [])], D(10_000_000), [],
                                           counts=["reinvested_profit"]), origin="test", sha256="0" * 64)
    p = plan(D(20_000_000), [2024], sector="services", fx="7", policy=pol)
    calc = assess(Project.for_year(2024, paid_in=D(20_000_000), sector="services"), fx="7", policy=pol)
    assert calc.total_incentive_cny == D(0)
    assert p.total_incentive_cny == D(0) and p.schedule[0].incentive_cny == D(0)
    assert any("does not count equity" in n for n in p.notes)


@settings(max_examples=60, deadline=None)
@given(policy=generated_bases, kind=st.sampled_from(["new", "capital_increase"]),
       sector=st.sampled_from(["manufacturing", "services", "real-estate"]),
       total=st.integers(0, 120).map(lambda n: D(n) * D(1_000_000)), fx=st.sampled_from([D("7.1"), D("6.9871")]))
def test_every_planned_year_reassessed_pays_what_the_plan_claims_under_generated_policies(policy, kind, sector, total, fx):
    """Over generated valid policies (counted contributions, rewarded kinds, tiers, caps, exclusions):
    each planned year, assessed as `fdi calc` assesses it, pays the plan's payout."""
    from fdi_incentive.policy import LoadedPolicy

    lp = LoadedPolicy(policy=policy, origin="generated", sha256="0" * 64)
    p = plan(total, [2024, 2025, 2026], sector=sector, kind=kind, fx=fx, policy=lp, step=D(1_000_000))
    for y in p.schedule:
        project = Project.for_year(y.year, paid_in=y.paid_in_usd, sector=sector, kind=kind)
        assert assess(project, fx=fx, policy=lp).years[0].incentive_cny == y.incentive_cny, y
    for b in p.baselines.values():
        for y in b.schedule:
            project = Project.for_year(y.year, paid_in=y.paid_in_usd, sector=sector, kind=kind)
            assert assess(project, fx=fx, policy=lp).years[0].incentive_cny == y.incentive_cny, y


def test_a_plan_never_pays_less_than_a_naive_schedule_it_prints():
    """Issue 22 #22: over 30 years the equal split paid CNY 0.07 more once each year was rounded to the
    fen, and the terminal said "plan's gain CNY 0.07" (the sign lost). The plan takes a schedule
    within the constraints that pays more, says so, and never shows a gain below zero."""
    args = ["plan", "--total-usd", "1000000000", "--years", "2024-2053", "--sector", "manufacturing", "--fx-rate", "7.1"]
    data = json.loads(CliRunner().invoke(app, [*args, "--json"]).output)
    assert all(D(g) >= 0 for g in data["gain_over_baselines_cny"].values())
    assert D(data["total_incentive_cny"]) >= D(data["baselines"]["equal_split"]["total_incentive_cny"])
    assert any("rounded to the fen" in n and "equal split" in n for n in data["notes"])
    table = CliRunner().invoke(app, args, env={"COLUMNS": "100"})
    assert "-0.07" not in table.output and "pays CNY 0.07 more" in " ".join(table.output.split())


@settings(max_examples=15, deadline=None)
@given(n=st.integers(2, 30), per_year=st.integers(1, 60), cents=st.integers(0, 99),
       sector=st.sampled_from(["manufacturing", "services"]), fx=st.sampled_from([D("7.1"), D("7.123456"), D("6.9871")]))
def test_no_naive_schedule_within_the_constraints_pays_more_than_the_plan(n, per_year, cents, sector, fx):
    p = plan(D(per_year) * D(1_000_000) * n + D(cents) / 100, list(range(2024, 2024 + n)), sector=sector, fx=fx)
    for key, b in p.baselines.items():
        if b.within_constraints:
            assert p.gain_over_baselines_cny[key] >= 0, key


def test_a_gain_that_only_an_assumed_rate_rewards_is_named_with_its_amount():
    """Issue 22 #23: README's third example moved USD 45M to 2027 because 2027's rate is assumed
    (the last full year's average, above 2026's); with one rate the gain is 0. The plan says how much
    of its gain rests on the assumed rates: planned with those years at no more than the lowest rate
    a source gives, the gain is what remains."""
    args = ["plan", "--total-usd", "60000000", "--years", "2025-2027", "--sector", "services",
            "--fixed", "2025=15000000", "--step", "1000000"]
    data = json.loads(CliRunner().invoke(app, [*args, "--json"]).output)
    gain = D(data["gain_over_baselines_cny"]["equal_split"])
    assert gain > 0
    assert D(data["gain_resting_on_assumed_rates_cny"]["equal_split"]) == gain  # all of it
    table = CliRunner().invoke(app, args, env={"COLUMNS": "100"})
    text = " ".join(table.output.split())
    assert "rests on the assumed exchange rate" in text and money_fmt(gain) in text
    # with one rate for every year no gain rests on an assumption, and nothing is said
    one = plan(D(60_000_000), [2025, 2026, 2027], sector="services", fx="7.1", fixed={2025: D(15_000_000)}, step=D(1_000_000))
    assert one.gain_resting_on_assumed_rates_cny == {}


@settings(max_examples=15, deadline=None)
@given(rates=st.lists(st.integers(65_000, 75_000).map(lambda n: D(n) / 10_000), min_size=1, max_size=3),
       assume=st.integers(65_000, 75_000).map(lambda n: D(n) / 10_000), later=st.integers(1, 3),
       total=st.integers(10, 90).map(lambda n: D(n) * D(1_000_000)), sector=st.sampled_from(["manufacturing", "services"]))
def test_the_gain_resting_on_assumed_rates_is_what_a_plan_without_their_advantage_loses(rates, assume, later, total, sector):
    """Known years at their rates, later years at an assumed one: the part of each gain resting on the
    assumed rates is the gain less the gain of the plan made with those years at the lowest known rate."""
    years = list(range(2024, 2024 + len(rates) + later))
    fx = rates_by_year(dict(zip(years, rates)))
    p = plan(total, years, sector=sector, fx=RateChain(fx.sources[0], embedded=False), fx_assume=assume, step=D(1_000_000))
    low = plan(total, years, sector=sector, fx=RateChain(fx.sources[0], embedded=False), fx_assume=min(rates), step=D(1_000_000))
    for key, gain in p.gain_over_baselines_cny.items():
        resting = gain - low.gain_over_baselines_cny[key]
        assert p.gain_resting_on_assumed_rates_cny.get(key, D(0)) == max(resting, D(0))


def test_a_ten_year_plan_shows_its_shape_in_bars_the_naive_schedules_by_totals_and_one_cap_point():
    """Issue 22 #30: at 10-30 years the comparison put every year's amount in one wrapped cell (30
    lines for three schedules at 100 columns) and the cap point was repeated once per year."""
    args = ["plan", "--total-usd", "200000000", "--years", "2024-2033", "--sector", "manufacturing", "--fx-rate", "7.1"]
    for width in (80, 100):
        out = CliRunner().invoke(app, args, env={"COLUMNS": str(width)}).output
        lines = out.splitlines()
        assert max(len(line.rstrip()) for line in lines) <= width
        start = next(i for i, line in enumerate(lines) if "against the naive schedules" in line)
        end = next(i for i, line in enumerate(lines) if i > start and "fragility" in line)
        assert end - start <= 10, "\n".join(lines[start:end + 1])  # a line or two per schedule, not a wall
        assert sum(line.strip()[:4].isdigit() and "█" in line for line in lines[:start]) == 6  # a bar per year paid in
        assert " ".join(out.split()).count("the cap binds above USD 35,211,267.60") == 1
        assert "2025: the cap binds" not in out
    # a year whose cap point differs is named with its own
    varied = CliRunner().invoke(app, ["plan", "--total-usd", "80000000", "--years", "2024-2026", "--sector", "manufacturing",
                                      "--fx-table", str(FX_TABLE)], env={"COLUMNS": "100"}).output
    assert " ".join(varied.split()).count("the cap binds above") >= 1
