"""The rule's new shapes in the engine (calc and compare): bands, parts paid by different
governments, a tier's own cap and a cap over a period of years, tiers for some kinds or flags,
a base of the amount spent, a fixed reading, statuses before and after a policy's dates."""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fdi_incentive import Project, assess
from fdi_incentive.models import Arrival

from .shapes import policy, tier

M = Decimal(1_000_000)
BANDS = policy([tier("b1", "0.01", "1000000", "ge", below="10000000"), tier("b2", "0.02", "10000000", "ge", below="30000000"),
                tier("b3", "0.03", "30000000", "ge", cap={"amount": "100000000", "citation": "x"})])
PARTS = policy([tier("both", "0.03", "50000000", parts=[
    {"payer": "province", "label": "province", "rate": "0.02", "rate_type": "exact", "citation": "x"},
    {"payer": "city", "label": "city", "rate": "0.01", "rate_type": "floor", "citation": "x"}], rate_type="floor")], cap="100000000")
PERIOD = policy([tier("m", "0.03", "0", rate_type="ceiling", cap={"amount": "50000000", "citation": "x"},
                      period_cap={"amount": "150000000", "from": 2023, "to": 2027, "citation": "x"})])


def one(lp, year, usd, sector="manufacturing", fx="7", **more):
    return assess(Project.for_year(year, paid_in=str(usd), sector=sector, **more), policy=lp, fx=fx)


@pytest.mark.parametrize("usd, rate", [(999_999.99, None), (1_000_000, "0.01"), (9_999_999.99, "0.01"), (10_000_000, "0.02"),
                                       (29_999_999.99, "0.02"), (30_000_000, "0.03")])
def test_a_band_pays_its_own_rate_on_the_whole_amount_from_its_lower_bound_to_below_its_upper(usd, rate):
    y = one(BANDS, 2024, Decimal(str(usd))).years[0]
    assert (str(y.rate) if y.rate is not None else None) == rate
    if rate:
        assert y.incentive_cny == (Decimal(str(usd)) * 7 * Decimal(rate)).quantize(Decimal("0.01"))


def test_only_the_top_band_is_capped():
    assert one(BANDS, 2024, 29_999_999).years[0].cap_cny is None
    top = one(BANDS, 2024, 600_000_000).years[0]
    assert top.capped and top.incentive_cny == 100_000_000


@given(usd=st.integers(50_000_001, 1_000_000_000).map(Decimal), fx=st.decimals("6", "8", places=4))
@settings(max_examples=60, deadline=None)
def test_parts_are_each_rounded_once_and_add_up_to_the_payout_under_one_cap_on_their_sum(usd, fx):
    y = one(PARTS, 2024, usd, fx=str(fx)).years[0]
    assert [p.payer for p in y.parts] == ["province", "city"]
    assert sum(p.incentive_cny for p in y.parts) == y.incentive_cny <= 100_000_000
    province = (usd * fx * Decimal("0.02")).quantize(Decimal("0.01"), ROUND_HALF_UP)  # (rounded once, half-up, alone)
    assert y.parts[0].incentive_cny == (province if not y.capped else min(province, Decimal(100_000_000)))


def test_a_period_cap_gives_the_year_that_crosses_it_the_remainder_and_later_years_nothing():
    arrivals = [Arrival(year=y, amount=Decimal(300_000_000)) for y in (2023, 2024, 2025, 2026)]
    a = assess(Project(sector="manufacturing", arrivals=arrivals), policy=PERIOD, fx="7")
    # 300M × 7 × 3% = 63M, capped at 50M a year: 50M, 50M, then the 150M total leaves 50M, then 0
    assert [y.incentive_cny for y in a.years] == [50_000_000, 50_000_000, 50_000_000, 0]
    assert a.total_incentive_cny == 150_000_000 and a.years[3].period_left_cny == 0
    assert all(y.rate_type == "ceiling" for y in a.years)


@given(amounts=st.lists(st.integers(0, 3_000_000_000), min_size=1, max_size=6))
@settings(max_examples=60, deadline=None)
def test_a_period_cap_is_never_passed_and_each_year_is_within_its_own_cap(amounts):
    arrivals = [Arrival(year=2022 + i, amount=Decimal(a)) for i, a in enumerate(amounts)]
    a = assess(Project(sector="manufacturing", arrivals=arrivals), policy=PERIOD, fx="7")
    in_period = [y for y in a.years if 2023 <= y.year <= 2027]
    assert sum(y.incentive_cny for y in in_period) <= 150_000_000
    assert all(y.incentive_cny <= 50_000_000 for y in a.years)


def test_tiers_for_one_kind_or_one_flag_are_reached_by_those_only():
    lp = policy([tier("new", "0.02", "50000000", kinds=["new"]), tier("ci", "0.02", "30000000", kinds=["capital_increase"]),
                 tier("hnte", "0.015", "5000000", "ge", requires=["hnte"]), tier("general", "0.01", "5000000", "ge")])
    assert one(lp, 2024, 40_000_000, kind="new").years[0].tier == "general"
    assert one(lp, 2024, 40_000_000, kind="capital_increase").years[0].tier == "ci"
    assert one(lp, 2024, 40_000_000, kind="new", hnte=True).years[0].tier == "hnte"
    assert "only for" in " ".join(one(lp, 2024, 40_000_000).years[0].reasons)


def test_a_base_of_the_amount_spent_uses_it_when_given_and_says_so_when_not():
    lp = policy([tier("t", "0.02", "50000000")], base={**PARTS.policy.base.model_dump(by_alias=True), "measure": "spent",
                                                      "citation": "实际支出金额"})
    spent = one(lp, 2024, 80_000_000, spent_usd="60000000").years[0]
    assert spent.base_usd == 60_000_000 and spent.incentive_cny == Decimal(60_000_000) * 7 * Decimal("0.02")
    assert any("amount spent" in r for r in one(lp, 2024, 80_000_000).years[0].reasons)
    # the threshold is tested on what was paid in (年度到账外资金额), the rate applied to what was spent
    low_spent = one(lp, 2024, 80_000_000, spent_usd="40000000").years[0]
    assert low_spent.eligible and low_spent.incentive_cny == Decimal(40_000_000) * 7 * Decimal("0.02")
    assert not one(lp, 2024, 40_000_000, spent_usd="60000000").years[0].eligible


def test_a_fixed_nominal_reading_pays_yuan_per_usd_whatever_reading_is_asked():
    lp = policy([tier("t", "0.02")], conversion={"default": "nominal", "fixed": True, "citation": "0.02元人民币/美元"})
    p = Project.for_year(2025, paid_in="1000000", sector="services")
    for reading in (None, "converted", "nominal"):
        y = assess(p, policy=lp, fx="7", reading=reading).years[0]
        assert y.incentive_cny == 20_000 and y.reading == "nominal" and y.other_reading_incentive_cny is None


def test_a_year_after_a_stated_end_is_expired_and_before_the_start_not_yet():
    lp = policy([tier("t", "0.01", "1000000", "ge")], effective={"to": date(2025, 12, 31)}, start=date(2023, 1, 1))
    assert one(lp, 2026, 50_000_000).years[0].policy_status == "expired"
    assert one(lp, 2022, 50_000_000).years[0].policy_status == "not_yet"
    assert one(lp, 2026, 50_000_000).total_incentive_cny == 0
    assert one(lp, 2025, 50_000_000).years[0].policy_status == "in_force"


def test_an_october_to_september_year_groups_dated_arrivals_by_the_year_they_began_in():
    lp = policy([tier("t", "0.03", "5000000", "ge")], base={**PARTS.policy.base.model_dump(by_alias=True), "period": "october_september"})
    arrivals = [Arrival(date=date(2023, 10, 1), amount=Decimal(3_000_000)), Arrival(date=date(2024, 9, 30), amount=Decimal(3_000_000)),
                Arrival(date=date(2024, 10, 1), amount=Decimal(3_000_000))]
    a = assess(Project(sector="manufacturing", arrivals=arrivals), policy=lp, fx="7")
    assert [(y.year, y.base_usd, y.eligible) for y in a.years] == [(2023, 6_000_000, True), (2024, 3_000_000, False)]
    assert "reward year from 1 October 2023 to 30 September 2024" in " ".join(a.years[0].reasons)
