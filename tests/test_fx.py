"""Exchange rates: given, tabled or embedded, always with their source; never from the network."""

from datetime import date
from decimal import Decimal as D

import pytest

from fdi_incentive import Arrival, EmbeddedECB, FixedRate, FxError, Project, RateChain, RateTable, assess


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "parity.csv"
    path.write_text(
        "date,currency,cny_per_unit\n2024-03-15,USD,7.1\n2024-06-03,USD,7.2\n2024-06-03,EUR,7.8\n", encoding="utf-8"
    )
    return RateTable.from_csv(path)


def test_table_gives_the_days_rate_the_last_before_it_and_the_years_average(table):
    assert table.quote("USD", on=date(2024, 3, 15), year=2024).rate == D("7.1")
    q = table.quote("USD", on=date(2024, 3, 18), year=2024)  # a Monday after a Friday rate
    assert q.rate == D("7.1") and "last rate on or before" in q.source
    assert table.quote("USD", on=None, year=2024).rate == D("7.150000")
    assert table.quote("USD", on=date(2024, 5, 1), year=2024) is None  # too stale: do not guess


def test_given_rate_wins_over_the_table_and_embedded_data(table):
    chain = RateChain(FixedRate(D("6.9")), table)
    assert chain.quote("USD", on=date(2024, 3, 15), year=2024).rate == D("6.9")
    assert chain.quote("EUR", on=date(2024, 6, 3), year=2024).rate == D("7.8")


def test_embedded_ecb_rates_are_offline_and_say_so():
    q = RateChain().quote("USD", on=date(2024, 3, 15), year=2024)
    assert D(6) < q.rate < D(8) and "ECB" in q.source and "2024-03-15" in q.source
    avg = RateChain().quote("USD", on=None, year=2024)
    assert avg.source == "ECB cross, 2024 average" and avg.rate == avg.rate.quantize(D("0.000001"))


def test_no_rate_is_an_error_that_says_what_to_give():
    last = EmbeddedECB.load().last_date()
    with pytest.raises(FxError, match="give fx, a rate such as '7.1' or a RateTable"):
        RateChain().quote("USD", on=None, year=last.year + 3)


def test_non_usd_converts_to_usd_before_the_threshold_test(table):
    # EUR 9.5M at 7.8 / 7.2 = USD 10,291,666.67: over USD 10M only after conversion.
    project = Project(sector="services", arrivals=[Arrival(date=date(2024, 6, 3), amount="9500000", currency="EUR")])
    y = assess(project, fx=table).years[0]
    assert y.base_usd == D("10291666.67") and y.tier == "general"
    assert y.fx_rate == D("7.2") and "parity.csv" in y.fx_source


def test_each_arrival_converts_at_its_own_days_rate(table):
    project = Project(sector="services", arrivals=[
        Arrival(date=date(2024, 3, 15), amount="6000000"), Arrival(date=date(2024, 6, 3), amount="6000000"),
    ])
    y = assess(project, fx=table).years[0]
    assert y.base_cny == D("6000000") * D("7.1") + D("6000000") * D("7.2")
    assert "weighted" in y.fx_source


def test_malformed_table_names_the_line(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("date,currency,rate\n2024-01-02,USD,7.1\n2024-13-01,USD,7.1\n", encoding="utf-8")
    with pytest.raises(FxError, match="line 3: date '2024-13-01' is not YYYY-MM-DD"):
        RateTable.from_csv(path)
