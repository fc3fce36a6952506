"""The library as another program embeds it: typed, quiet, the same numbers as the CLI."""

import json
from decimal import Decimal as D

from typer.testing import CliRunner

import fdi_incentive
from fdi_incentive import Assessment, InputError, Project, assess
from fdi_incentive.cli import app


def test_public_names_are_exported():
    for name in ["assess", "Project", "Arrival", "Assessment", "YearResult", "FdiError", "RateTable", "get_policy"]:
        assert name in fdi_incentive.__all__ and hasattr(fdi_incentive, name)


def test_library_never_prints(capsys):
    assess(Project.for_year(2024, paid_in="42000000", sector="manufacturing"), fx="7.1")
    try:
        assess(Project.for_year(2024, paid_in="42000000", sector="manufacturing"), fx="7.1", granted_rate="0.01")
    except InputError:
        pass
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_api_and_cli_give_the_same_numbers():
    api = assess(
        Project.for_year(2024, paid_in="42000000", shareholder_loans_usd="5000000", sector="manufacturing"), fx="7.1"
    ).model_dump(mode="json")
    cli = json.loads(CliRunner().invoke(app, [
        "calc", "--year", "2024", "--sector", "manufacturing", "--paid-in-usd", "42000000",
        "--loans-usd", "5000000", "--fx-rate", "7.1", "--json"]).output)
    assert api["years"] == cli["years"] and api["total_incentive_cny"] == cli["total_incentive_cny"]


def test_json_round_trips_through_the_models():
    a = assess(Project.for_year(2024, paid_in="30000000.01", industry_code="C"), fx="7.2")
    again = Assessment.model_validate_json(a.model_dump_json())
    assert again.years[0].gross_cny == D("8640000.00288") and again == a


def test_callers_decimal_context_is_untouched():
    import decimal

    before = decimal.getcontext().prec
    assess(Project.for_year(2024, paid_in="99999999999.99", sector="services"), fx="7.123456")
    assert decimal.getcontext().prec == before


def test_doctest_in_package_docstring():
    import doctest

    assert doctest.testmod(fdi_incentive).failed == 0
