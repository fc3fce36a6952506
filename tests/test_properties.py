"""What must always hold, on random project-years that crowd the thresholds and cap points."""

from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from fdi_incentive import Project, assess, get_policy, policy_for_year

from .oracle import oracle_reward
from .strategies import SECTORS, amounts_usd, fx_rates, readings, sectors, years


def run(year, sector, paid_in, fx, reading="converted"):
    return assess(Project.for_year(year, paid_in=paid_in, sector=sector), fx=fx, reading=reading).years[0]


@given(years, sectors, amounts_usd, fx_rates, readings)
def test_engine_agrees_with_the_plain_oracle(year, sector, paid_in, fx, reading):
    y = run(year, sector, paid_in, fx, reading)
    assert y.incentive_cny == oracle_reward(year, SECTORS[sector], paid_in, fx, reading)


@given(years, sectors, amounts_usd, fx_rates, readings)
def test_never_negative_never_above_the_cap(year, sector, paid_in, fx, reading):
    y = run(year, sector, paid_in, fx, reading)
    assert y.incentive_cny >= 0
    cap = policy_for_year(year).policy.cap.amount
    if cap is not None:
        assert y.incentive_cny <= cap
        assert y.capped == (y.gross_cny > cap)


@given(years, st.sampled_from(["real-estate", "finance"]), amounts_usd, fx_rates)
def test_zero_for_excluded_sectors(year, sector, paid_in, fx):
    y = run(year, sector, paid_in, fx)
    assert y.incentive_cny == 0 and y.excluded and y.tier is None


@given(st.integers(2023, 2026), amounts_usd, fx_rates)
def test_quasi_finance_excluded_from_2023(year, paid_in, fx):
    assert run(year, "quasi-finance", paid_in, fx).incentive_cny == 0


@given(years, sectors, amounts_usd, amounts_usd, fx_rates, readings)
def test_non_decreasing_in_paid_in_capital(year, sector, a, b, fx, reading):
    lo, hi = sorted((a, b))
    assert run(year, sector, lo, fx, reading).incentive_cny <= run(year, sector, hi, fx, reading).incentive_cny


@given(years, sectors, amounts_usd, fx_rates)
def test_tiers_never_stack(year, sector, paid_in, fx):
    """The gross is the base times exactly one tier's rate, or zero: never the sum of two."""
    y = run(year, sector, paid_in, fx)
    rates = {t.rate for t in policy_for_year(year).policy.tiers}
    if y.tier is None:
        assert y.gross_cny == 0
    else:
        assert y.rate in rates and y.gross_cny == y.base_cny * y.rate
        assert sum(1 for t in y.tier_tests if t.tier == y.tier) == 1


@given(years, sectors, amounts_usd, fx_rates)
def test_readings_differ_by_exactly_the_fx_factor_where_the_cap_does_not_bite(year, sector, paid_in, fx):
    conv, nom = run(year, sector, paid_in, fx, "converted"), run(year, sector, paid_in, fx, "nominal")
    assert conv.gross_cny == nom.gross_cny * fx
    if not conv.capped and not nom.capped:
        assert conv.incentive_cny == (nom.gross_cny * fx).quantize(D("0.01"), rounding="ROUND_HALF_UP")
    assert conv.other_reading_incentive_cny == nom.incentive_cny


@given(st.integers(2023, 2026), sectors, amounts_usd, fx_rates)
def test_forcing_the_policy_in_force_changes_nothing(year, sector, paid_in, fx):
    forced = assess(Project.for_year(year, paid_in=paid_in, sector=sector), fx=fx, policy=get_policy("cn-cq-2023"))
    assert forced.years[0] == run(year, sector, paid_in, fx)
