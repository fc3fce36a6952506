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
    # each name of __all__ is the object its module defines, and is listed by dir()
    import importlib

    for name in fdi_incentive.__all__:
        value = getattr(fdi_incentive, name)
        if name != "__version__":
            assert value is getattr(importlib.import_module(value.__module__), name) and name in dir(fdi_incentive)
    try:
        fdi_incentive.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("an unknown name must raise AttributeError")


def test_batch_does_not_import_the_calculators_models():
    """`fdi batch` loads the policies and the columnar scorer, not calc's engine and models (~0.1 s of start-up)."""
    import subprocess
    import sys

    code = ("import sys; from fdi_incentive import batch, cli, render; "
            "print(sorted(m for m in sys.modules if m in ('fdi_incentive.engine', 'fdi_incentive.models')))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"


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


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.decimals(min_value=D("-1e14"), max_value=D("1e14"), allow_nan=False, allow_infinity=False, places=2),
                 st.decimals(min_value=D("-1"), max_value=D("1"), allow_nan=False, allow_infinity=False, places=6),
                 st.sampled_from([D("-0.07"), D("-0.5"), D("-0.01"), D("0.07"), D("-1000.5"), D("-0.00")])),
       st.sampled_from(["", "CNY", "USD"]))
def test_money_fmt_keeps_the_sign_and_the_value(value, currency):
    """Issue 22 #22: money_fmt(-0.07) read '0.07' (the sign of a value under 1 was lost). The text,
    read back without its separators, is the value, sign and all."""
    from fdi_incentive.money import money_fmt, money_str

    text = money_fmt(value, currency)
    number = text.removeprefix(f"{currency} ") if currency else text
    assert D(number.replace(",", "")) == value
    assert number.startswith("-") == (value < 0)
    assert number.replace(",", "") == (money_str(value) if value else money_str(abs(value)))


def test_library_errors_name_the_arguments_the_caller_gave_not_the_cli_options():
    """Issue 22 #27: FxError told a Python caller to use --fx-rate / --fx-table, and
    Project.for_year(paid_in=1.5e7) named the field `amount`. In the library an error names the
    argument; on the command line, the option."""
    import pytest

    from fdi_incentive import FxError
    from fdi_incentive.fx import RateChain, assumed_rate
    from fdi_incentive.plan import plan

    with pytest.raises(InputError) as e:
        Project.for_year(2024, paid_in=1.5e7, sector="services")
    assert str(e.value).startswith("paid_in: ")
    with pytest.raises(FxError) as f:
        assess(Project.for_year(2031, paid_in="15000000", sector="services"))
    assert "--" not in str(f.value) and "fx" in str(f.value) and "RateTable" in str(f.value)
    with pytest.raises(FxError) as f:
        assumed_rate(RateChain(embedded=False), 2035)
    assert "--" not in str(f.value) and "fx_assume" in str(f.value)
    for bad, named in [(dict(max_per_year="1", min_per_year="2"), "max_per_year: "), (dict(fixed={2030: "1"}), "fixed: "),
                       (dict(fixed={2024: "90000000"}), "fixed: "), (dict(step="7000000"), "step: "), (dict(kind="x"), "kind: "),
                       (dict(fixed={2024: "1", 2025: "2"}), "fixed: "), (dict(max_per_year="1000"), "total_usd: ")]:
        with pytest.raises(InputError) as e:
            plan(**{"total_usd": "30000000", "years": [2024, 2025], "sector": "services", "fx": "7.1", **bad})
        assert str(e.value).startswith(named) and "--" not in str(e.value), (bad, str(e.value))
    # on the command line, the options
    out = CliRunner().invoke(app, ["calc", "--year", "2031", "--sector", "services", "--paid-in-usd", "15000000"]).output
    assert "give --fx-rate or --fx-table" in out
    out = CliRunner().invoke(app, ["plan", "--total-usd", "30000000", "--years", "2024-2025", "--sector", "services",
                                   "--fx-rate", "7.1", "--max-per-year", "1", "--min-per-year", "2"]).output
    assert "--max-per-year: " in out and "at least --min-per-year" in out
