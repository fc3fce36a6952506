"""`fdi batch`: the same numbers as `fdi calc`, every row kept, bad rows explained."""

import csv
import io
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fdi_incentive import InputError, Project, assess
from fdi_incentive.batch import score_file
from fdi_incentive.columnar import Options

from .strategies import amounts_usd, fx_rates

COMPARED = ["policy", "eligible", "tier", "rate", "base_usd", "fx_rate", "base_cny", "gross_cny", "capped", "incentive_cny"]
HEADER = ["project_id", "year", "kind", "sector", "industry_code", "paid_in_usd", "shareholder_loans_usd",
          "reinvested_profit", "fx_rate"]

sector_or_code = st.one_of(
    st.tuples(st.sampled_from(["manufacturing", "services", "Electronics", "real-estate", "finance", "quasi_finance",
                               "consumer-goods", "other"]), st.just("")),
    st.tuples(st.just(""), st.sampled_from(["C", "36", "C3670", "K7010", "J66", "7212", "I65", "7299", "L7296"])),
    st.tuples(st.sampled_from(["manufacturing"]), st.sampled_from(["C36", "3670"])),
)
project_year = st.tuples(
    st.integers(2018, 2026), st.sampled_from(["new", "capital_increase", "Capital-Increase", "增资", ""]), sector_or_code,
    amounts_usd, st.one_of(st.just(D(0)), amounts_usd), st.one_of(st.just(D(0)), amounts_usd.map(lambda a: a * 7)), fx_rates,
)


def write_csv(path: Path, rows: list[list[str]], header=HEADER, encoding="utf-8") -> None:
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def calc_json(year, kind, sector, code, paid, loans, profit, fx):
    project = Project.for_year(year, paid_in=paid, shareholder_loans_usd=loans, reinvested_profit=profit,
                               kind=kind or "new", sector=sector or None, industry_code=code or None)
    y = assess(project, fx=fx).years[0].model_dump(mode="json")
    return {k: ("" if y[k] is None else str(y[k]).lower() if isinstance(y[k], bool) else str(y[k])) for k in COMPARED}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(project_year, min_size=1, max_size=40))
def test_batch_equals_calc_field_by_field(tmp_path, rows):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    write_csv(src, [[f"P{i}", str(y), k, s, c, f"{p}", f"{lo}" if lo else "", f"{pr}" if pr else "", f"{fx}"]
                    for i, (y, k, (s, c), p, lo, pr, fx) in enumerate(rows)])
    summary = score_file(src, out)
    got = read_csv(out)
    assert len(got) == len(rows) == summary.rows and summary.errors == 0
    for i, ((y, k, (s, c), p, lo, pr, fx), row) in enumerate(zip(rows, got)):
        assert row["project_id"] == f"P{i}"  # input order kept
        expected = calc_json(y, k, s, c, p, lo, pr, fx)
        assert {k2: row[k2] for k2 in COMPARED} == expected, (i, rows[i])
