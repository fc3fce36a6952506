"""The Chongqing rule as docs/policy.md states it: worked examples, boundaries, exclusions, loans, codes."""

from decimal import Decimal as D

import pytest

from fdi_incentive import Arrival, Project, assess


def one(year, paid_in, sector=None, fx="7.2", code=None, **kw):
    project = Project.for_year(year, paid_in=paid_in, sector=sector, industry_code=code, **kw)
    return assess(project, fx=fx).years[0]


# docs/policy.md §4, row by row.
@pytest.mark.parametrize(
    "year, sector, paid_in, fx, tier, reward",
    [
        (2024, "services", "15000000.00", "7.2", "general", "2160000.00"),
        (2024, "services", "10000000.00", "7.2", None, "0.00"),
        (2024, "manufacturing", "30000000.00", "7.2", "general", "4320000.00"),
        (2024, "manufacturing", "30000000.01", "7.2", "manufacturing", "8640000.00"),
        (2024, "manufacturing", "50000000.00", "7.2", "manufacturing", "10000000.00"),
        (2024, "real-estate", "80000000.00", "7.2", None, "0.00"),
        (2020, "services", "6000000.00", "6.6", "general", "792000.00"),
    ],
)
def test_worked_examples(year, sector, paid_in, fx, tier, reward):
    y = one(year, paid_in, sector, fx)
    assert y.tier == tier
    assert y.incentive_cny == D(reward)


def test_unrounded_gross_is_kept_and_rounded_once():
    y = one(2024, "30000000.01", "manufacturing")
    assert y.gross_cny == D("8640000.00288")
    assert y.incentive_cny == D("8640000.00")


@pytest.mark.parametrize(
    "year, sector, below, above, tier",
    [
        (2024, "services", "10000000.00", "10000000.01", "general"),
        (2023, "other", "10000000.00", "10000000.01", "general"),
        (2024, "manufacturing", "30000000.00", "30000000.01", "manufacturing"),
        (2018, "services", "5000000.00", "5000000.01", "general"),
        (2022, "manufacturing", "5000000.00", "5000000.01", "general"),
    ],
)
def test_thresholds_are_strict_over(year, sector, below, above, tier):
    """超过 excludes the number itself: exactly at the threshold is not over it."""
    at, over = one(year, below, sector), one(year, above, sector)
    assert over.tier == tier and over.incentive_cny > at.incentive_cny
    if tier == "manufacturing":
        assert at.tier == "general"
    else:
        assert at.tier is None and at.incentive_cny == 0


def test_manufacturing_between_10m_and_30m_gets_2_percent():
    y = one(2024, "20000000", "manufacturing")
    assert (y.tier, y.rate) == ("general", D("0.02"))


def test_non_manufacturing_above_30m_gets_2_percent():
    y = one(2024, "40000000", "services")
    assert (y.tier, y.incentive_cny) == ("general", D("5760000.00"))


def test_cap_binds_at_ten_million_yuan():
    y = one(2024, "50000000", "manufacturing")
    assert y.capped and y.gross_cny == D("14400000.00") and y.incentive_cny == D("10000000.00")
    assert y.sensitivity.cap_binds_above_usd == D("34722222.22")


def test_cap_break_even_points_from_policy():
    assert one(2024, "34722222.22", "manufacturing").capped is False
    assert one(2024, "34722222.23", "manufacturing").capped is True
    assert one(2024, "69444444.44", "services").capped is False
    assert one(2024, "69444444.45", "services").capped is True


def test_2018_rule_has_no_cap():
    y = one(2021, "900000000", "services", fx="6.5")
    assert y.policy == "cn-cq-2018" and not y.capped and y.incentive_cny == D("117000000.00")


@pytest.mark.parametrize("sector", ["real-estate", "finance", "quasi-finance"])
def test_excluded_sectors_get_nothing_2023(sector):
    y = one(2024, "90000000", sector)
    assert y.excluded and not y.eligible and y.incentive_cny == 0


def test_quasi_finance_excluded_in_2018_restatement():
    """The 2018 restatement excludes 房地产业、金融业、及金融类项目: 金融类 read as quasi-finance."""
    assert one(2019, "9000000", "quasi-finance").excluded
    assert one(2019, "9000000", "finance").excluded


def test_shareholder_loans_are_shown_never_counted():
    y = one(2024, "9000000", "services", shareholder_loans_usd="50000000")
    assert y.shareholder_loans_usd == D("50000000") and y.base_usd == D("9000000")
    assert y.incentive_cny == 0
    assert any("not counted" in r for r in y.reasons)


def test_reinvested_profits_count_toward_the_base():
    # CNY 7.2M at 7.2 CNY/USD = USD 1M: 9.5M equity alone is under 10M, with profits it is over.
    y = one(2024, "9500000", "services", reinvested_profit="7200000")
    assert y.reinvested_usd == D("1000000.00") and y.base_usd == D("10500000.00")
    assert y.tier == "general"


@pytest.mark.parametrize("industry", ["electronics", "equipment", "automobile", "materials", "consumer-goods", "pharmaceutical"])
def test_matchmaking_industries_are_manufacturing(industry):
    y = one(2024, "40000000", industry)
    assert y.category == "manufacturing" and y.tier == "manufacturing"


@pytest.mark.parametrize(
    "code, category",
    [
        ("C", "manufacturing"), ("36", "manufacturing"), ("C36", "manufacturing"), ("367", "manufacturing"),
        ("C3670", "manufacturing"), ("c 3670", "manufacturing"), ("K", "real_estate"), ("70", "real_estate"),
        ("K7010", "real_estate"), ("J66", "finance"), ("6631", "quasi_finance"), ("7212", "quasi_finance"),
        ("L7296", "quasi_finance"), ("7299", "other"), ("I65", "other"), ("F51", "other"),
    ],
)
def test_gbt_codes_at_every_depth(code, category):
    y = one(2024, "40000000", code=code)
    assert y.category == category
    assert y.eligible == (category in ("manufacturing", "other"))


def test_7299_the_users_sector_decides_and_the_output_says_so():
    a = assess(Project.for_year(2024, paid_in="40000000", sector="quasi-finance", industry_code="7299"), fx="7.2")
    assert a.years[0].excluded and any("decides" in n for n in a.classification.notes)
    b = assess(Project.for_year(2024, paid_in="40000000", industry_code="7299"), fx="7.2")
    assert b.years[0].eligible and any("factoring" in n for n in b.classification.notes)


def test_granted_rate_above_floor_is_used():
    project = Project.for_year(2024, paid_in="20000000", sector="services")
    y = assess(project, fx="7", granted_rate="0.03").years[0]
    assert (y.rate, y.rate_basis, y.incentive_cny) == (D("0.03"), "granted", D("4200000.00"))


def test_nominal_reading_pays_rate_times_usd_figure():
    project = Project.for_year(2024, paid_in="15000000", sector="services")
    y = assess(project, fx="7.2", reading="nominal").years[0]
    assert y.incentive_cny == D("300000.00") and y.reading == "nominal"
    assert y.other_reading_incentive_cny == D("2160000.00")


def test_nominal_cap_points():
    for paid_in, capped in (("250000000", False), ("250000000.01", True)):
        p = Project.for_year(2024, paid_in=paid_in, sector="manufacturing")
        assert assess(p, fx="7.2", reading="nominal").years[0].capped is capped


def test_several_arrivals_in_a_year_aggregate():
    project = Project(sector="services", arrivals=[
        Arrival(year=2024, amount="6000000"), Arrival(year=2024, amount="4000000.01"),
    ])
    y = assess(project, fx="7").years[0]
    assert y.base_usd == D("10000000.01") and y.eligible


def test_one_line_per_year_and_a_total():
    project = Project(sector="manufacturing", arrivals=[
        Arrival(year=2024, amount="40000000"), Arrival(year=2025, amount="40000000"),
    ])
    a = assess(project, fx="7.1")
    assert [y.year for y in a.years] == [2024, 2025]
    # The example: USD 80M in two halves earns about twice the cap of one year.
    assert a.total_incentive_cny == D("20000000.00")


def test_next_tier_amount_is_one_cent_over():
    y = one(2024, "25000000", "manufacturing")
    assert y.sensitivity.next_tier == "manufacturing" and y.sensitivity.next_tier_from_usd == D("30000000.01")
