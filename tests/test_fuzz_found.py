"""What `python -m tests.fuzz_engines` found, each as a minimal reproducer that failed before its fix."""

import csv

import pytest

from fdi_incentive.cli import main

HEADER = ["project_id", "year", "sector", "paid_in_usd"]


def batch_cells(tmp_path, capsys, rows: list[list[str]], *args: str) -> list[dict]:
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    with src.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([HEADER, *rows])
    main(["batch", str(src), "-o", str(out), "--no-progress", *args])
    capsys.readouterr()
    with out.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def sql_cells(capsys, rows: list[tuple], *args: str) -> list[dict]:
    import duckdb

    assert main(["sql", "--dialect", "duckdb", "--inline", *args]) == 0
    statement = capsys.readouterr().out
    con = duckdb.connect()
    con.execute("""CREATE TABLE projects (project_id VARCHAR, year INTEGER, kind VARCHAR, sector VARCHAR,
        industry_code VARCHAR, paid_in_usd DECIMAL(18, 2), shareholder_loans_usd DECIMAL(18, 2),
        reinvested_profit_usd DECIMAL(18, 2), fx_rate DECIMAL(12, 6))""")
    con.executemany("INSERT INTO projects VALUES (?, ?, NULL, ?, NULL, ?, NULL, NULL, NULL)", rows)
    cur = con.execute(statement)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def test_a_year_without_an_fx_rate_is_the_same_error_in_sql_as_in_batch(tmp_path, capsys):
    """fuzz_engines --seed 1: a 2027 row with no fx_rate and no --fx-rate (the embedded rates end in 2026)."""
    batch = batch_cells(tmp_path, capsys, [["P1", "2027", "manufacturing", "30000000.01"]])
    sql = sql_cells(capsys, [("P1", 2027, "manufacturing", "30000000.01")])
    assert batch[0]["error"].startswith("fx: no USD rate in 2027") and "--fx-rate" in batch[0]["error"]
    assert sql[0]["error"] == batch[0]["error"]


@pytest.mark.parametrize("paid_in", ["0", ""])
def test_a_zero_amount_in_a_currency_without_a_rate_is_scored_alike_by_batch_and_calc(tmp_path, capsys, paid_in):
    """fuzz_engines --seed 22: `paid_in` 0 (or empty) in currency ABC beside a reinvested profit: batch paid the
    profit, calc refused the project (no rate for ABC). Nothing is converted from a zero amount, so neither needs a
    rate: both pay the profit's reward."""
    import json

    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text(f"project_id,year,sector,paid_in,currency,reinvested_profit,fx_rate\nP1,2024,manufacturing,{paid_in},ABC,"
                   "100000000,7.1\n", encoding="utf-8")
    main(["batch", str(src), "-o", str(out), "--no-progress"])
    capsys.readouterr()
    calc = main(["calc", "--year", "2024", "--sector", "manufacturing", "--paid-in", paid_in or "0", "--currency", "ABC",
                 "--reinvested-profit-cny", "100000000", "--fx-rate", "7.1", "--json"])
    said = capsys.readouterr().out
    with out.open(encoding="utf-8", newline="") as f:
        row = next(csv.DictReader(f))
    assert calc == 0 and row["error"] == "", (said, row)
    assert json.loads(said)["total_incentive_cny"] == row["incentive_cny"] == "2000000.00"  # CNY 100M profit = 2% of itself
