"""The planner: exact against brute force, consistent with `fdi calc`, honest about its constraints."""

import itertools
import json
from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fdi_incentive import InputError, Project, assess
from fdi_incentive.cli import app
from fdi_incentive.plan import parse_years, plan


def calc_reward(year, amount, sector, fx):
    return assess(Project.for_year(year, paid_in=amount, sector=sector), fx=fx).years[0].incentive_cny


def brute_force(total, years, sector, fx, step, lo, hi, fixed):
    free = [y for y in years if y not in fixed]
    free_total = total - sum(fixed.values())
    grid = [k * step for k in range(int(lo / step), int(hi / step) + 1)]
    best = None
    for combo in itertools.product(grid, repeat=len(free) - 1):
        rest = free_total - sum(combo)
        if not (lo <= rest <= hi) or (rest / step) % 1:
            continue
        amounts = dict(zip(free, list(combo) + [rest]), **{str(k): v for k, v in {}.items()})
        amounts.update(fixed)
        value = sum(calc_reward(y, amounts[y], sector, fx) for y in years)
        best = value if best is None else max(best, value)
    return best


@settings(max_examples=40, deadline=None)
@given(
    n_years=st.integers(2, 3),
    step=st.sampled_from([D(2_500_000), D(5_000_000), D(10_000_000)]),
    units=st.integers(0, 20),
    sector=st.sampled_from(["manufacturing", "services", "real-estate"]),
    fx=st.sampled_from([D("6.5"), D("7.1"), D("7.2")]),
    hi_units=st.integers(4, 20),
    fix_first=st.booleans(),
)
def test_planner_matches_brute_force_on_small_instances(n_years, step, units, sector, fx, hi_units, fix_first):
    years = list(range(2024, 2024 + n_years))
    total = units * step
    hi = hi_units * step
    fixed = {2024: min(step * 3, total)} if fix_first and n_years > 1 else {}
    try:
        p = plan(total, years, sector=sector, fx=fx, step=step, max_per_year=hi, fixed=fixed)
    except InputError:
        return  # infeasible constraints: brute force would find nothing either
    expected = brute_force(total, years, sector, fx, step, D(0), min(hi, total - sum(fixed.values())), fixed)
    assert expected is not None
    assert p.total_incentive_cny == expected
    assert sum(y.paid_in_usd for y in p.schedule) == total


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
        (dict(fixed={2030: D(1)}), "a year within --years"),
        (dict(fixed={2024: D(90_000_000)}), "no more than --total-usd"),
        (dict(max_per_year=D(10_000_000)), "fits between the per-year minimum and maximum"),
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
    assert table.exit_code == 0 and "CNY 21,300,000.00" in table.output and "Advice under the stated policy" in table.output
    bad = runner.invoke(app, [*args, "--fixed", "2024:5"])
    assert bad.exit_code == 2 and "YEAR=AMOUNT" in bad.output
