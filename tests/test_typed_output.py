"""A Parquet output's results are typed (decimals and booleans) and hold exactly what the CSV output writes."""

import csv
import zipfile
from decimal import Decimal as D
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import fdi_incentive.batch as batch
from fdi_incentive.batch import score_file
from fdi_incentive.frame import RESULT_COLUMNS, Options
from fdi_incentive.io.writers import BatchWriter
from fdi_incentive.policy import LoadedPolicy

from .strategies import _policy_from, amounts_usd, cents, fx_rates, readings

EXAMPLES = Path(__file__).parents[1] / "examples"
HEADER = ["project_id", "year", "kind", "sector", "industry_code", "paid_in_usd", "shareholder_loans_usd",
          "reinvested_profit", "fx_rate"]
DECIMALS = {"rate": "DECIMAL(9,8)", "base_usd": "DECIMAL(17,2)", "fx_rate": "DECIMAL(12,8)", "base_cny": "DECIMAL(29,10)",
            "gross_cny": "DECIMAL(37,18)", "incentive_cny": "DECIMAL(38,2)"}
BOOLEANS = ("eligible", "capped")


def write_csv(path: Path, rows, header=HEADER) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def schema(path: Path) -> dict[str, str]:
    return {name: kind for name, kind, *_ in duckdb.sql(f"DESCRIBE SELECT * FROM '{path}'").fetchall()}


def as_typed(text: str, column: str):
    """A CSV cell as the Parquet value it must equal: None where empty, a bool, a Decimal."""
    if text == "":
        return None
    if column in BOOLEANS:
        return {"true": True, "false": False}[text]
    return D(text)


def test_a_parquet_output_is_summed_in_duckdb_without_a_cast(tmp_path):
    """Money and rates are decimals, eligible and capped booleans, text stays text; the CSV input's own
    columns stay strings; SUM(incentive_cny) is the summary's total, to the fen."""
    out = tmp_path / "out.parquet"
    summary = score_file(EXAMPLES / "projects.csv", out)
    types = schema(out)
    assert {c: types["fdi_fx_rate" if c == "fx_rate" else c] for c in DECIMALS} == DECIMALS  # (the input has an fx_rate)
    assert {c: types[c] for c in BOOLEANS} == dict.fromkeys(BOOLEANS, "BOOLEAN")
    assert {types[c] for c in ("policy", "policy_status", "tier", "fx_source", "reason", "error")} == {"VARCHAR"}
    assert {types[c] for c in HEADER} == {"VARCHAR"}  # (the input's own, as read)
    total, kind = duckdb.sql(f"SELECT SUM(incentive_cny), typeof(SUM(incentive_cny)) FROM '{out}'").fetchall()[0]
    assert total == summary.total_incentive_cny == D("934377507.53") and kind == "DECIMAL(38,2)"
    eligible, capped = duckdb.sql(f"SELECT COUNT(*) FILTER (WHERE eligible), COUNT(*) FILTER (WHERE capped) FROM '{out}'").fetchall()[0]
    assert eligible == sum(summary.eligible_by_tier.values()) and capped == summary.capped


def test_a_header_alone_gives_the_same_types(tmp_path):
    src, out = tmp_path / "in.csv", tmp_path / "out.parquet"
    write_csv(src, [])
    score_file(src, out)
    types = schema(out)
    assert {c: types["fdi_fx_rate" if c == "fx_rate" else c] for c in DECIMALS} == DECIMALS
    assert {types[c] for c in BOOLEANS} == {"BOOLEAN"} and duckdb.sql(f"SELECT COUNT(*) FROM '{out}'").fetchall() == [(0,)]


def test_a_typed_parquet_input_keeps_its_types_beside_typed_results(tmp_path):
    src, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    duckdb.connect().execute(
        "COPY (SELECT * FROM (VALUES ('P1', 2024, 'services', CAST('15000000.01' AS DECIMAL(18,2)), CAST('7.2' AS DECIMAL(9,4)),"
        " 'x'), ('P2', NULL, 'services', NULL, NULL, 'y')) t(project_id, year, sector, paid_in_usd, fx_rate, rate)) "
        f"TO '{src}' (FORMAT parquet)")
    summary = score_file(src, out)
    types = schema(out)
    assert summary.errors == 1
    assert [types[c] for c in ("project_id", "year", "paid_in_usd", "fx_rate", "rate")] == [
        "VARCHAR", "INTEGER", "DECIMAL(18,2)", "DECIMAL(9,4)", "VARCHAR"]  # the input's, as read
    assert types["fdi_rate"] == "DECIMAL(9,8)" and types["fdi_fx_rate"] == "DECIMAL(12,8)"
    rows = duckdb.sql(f"SELECT paid_in_usd, fdi_rate, base_usd, incentive_cny, eligible FROM '{out}'").fetchall()
    assert rows == [(D("15000000.01"), D("0.02"), D("15000000.01"), D("2160000.00"), True), (None, None, None, None, None)]


def test_a_ledgers_project_years_are_typed_too(tmp_path):
    """A ledger's project-years are ours: their amounts are decimals and their count of arrivals an
    integer; the year stays text, as a project-year file's does. Each value is the CSV's text."""
    args = {"projects_path": EXAMPLES / "ledger-projects.csv",
            "options": Options(rates=batch_rates())}
    score_file(EXAMPLES / "ledger.csv", tmp_path / "out.csv", **args)
    score_file(EXAMPLES / "ledger.csv", tmp_path / "out.parquet", **args)
    types = schema(tmp_path / "out.parquet")
    assert [types[c] for c in ("year", "paid_in_usd", "reinvested_profit", "shareholder_loans_usd", "arrivals")] == [
        "VARCHAR", "DECIMAL(38,2)", "DECIMAL(38,2)", "DECIMAL(38,2)", "BIGINT"]
    typed = pl.read_parquet(tmp_path / "out.parquet").to_dicts()
    texts = read_csv(tmp_path / "out.csv")
    assert len(typed) == len(texts) > 3
    for t, c in zip(typed, texts):
        for name in ("paid_in_usd", "reinvested_profit", "shareholder_loans_usd", *DECIMALS, *BOOLEANS):
            assert t[name] == as_typed(c[name], name), name
        assert t["arrivals"] == int(c["arrivals"]) and t["year"] == c["year"]


def batch_rates():
    from fdi_incentive.fx import RateChain, RateTable

    return RateChain(RateTable.from_csv(EXAMPLES / "pboc-central-parity.csv"))


# amounts and rates up to the bounds of money.py (and past them: those rows are errors), so every
# digit of the decimal types is used; the row's own rate or none (then the ECB rate of the year)
extreme_amounts = st.one_of(amounts_usd.map(str), cents(0, 10**16 - 1).map(lambda d: str(d)),
                            st.sampled_from(["99999999999999.99", "100000000000000", "0.01", "0", "", "abc", "1.001"]))
extreme_rates = st.one_of(fx_rates.map(str), st.integers(1, 10**12 - 1).map(lambda n: str(D(n).scaleb(-8))),
                          st.sampled_from(["0.00000001", "9999.99999999", "7.1000000000", "10000", "", "7.123456789"]))
row = st.tuples(st.integers(2017, 2027).map(str), st.sampled_from(["new", "capital_increase", ""]),
                st.sampled_from(["manufacturing", "services", "real-estate", "不知道", ""]),
                extreme_amounts, extreme_amounts, extreme_amounts, extreme_rates)
# a policy of tiers whose rates have all 8 decimals (gross_cny then has all 18), rounded to any quantum
eight_decimal_policies = st.builds(
    lambda tiers, cap, quantum: _with_rounding(_policy_from(tiers, cap, []), quantum),
    st.lists(st.tuples(cents(1, 10**10), st.sampled_from(["gt", "ge"]), st.integers(1, 10**8).map(lambda n: D(n).scaleb(-8)),
                       st.sampled_from([[], ["manufacturing"]])), min_size=1, max_size=3),
    cents(1, 10**16 - 1), st.sampled_from(["0.01", "1", "10000"]))


def _with_rounding(policy, quantum):
    raw = policy.model_dump(mode="json", by_alias=True)
    raw["rounding"]["quantum"] = quantum
    return LoadedPolicy(policy=type(policy).model_validate(raw), origin="generated", sha256="0" * 64)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row, min_size=1, max_size=12), policy=st.one_of(st.none(), eight_decimal_policies),
       reading=st.one_of(st.none(), readings))
@example(rows=[("2024", "new", "services", "99999999999999.99", "", "99999999999999.99", "9999.99999999")], policy=None,
         reading=None)  # the largest base in CNY there can be
def test_parquet_values_are_the_csv_texts_read_as_decimals(tmp_path, rows, policy, reading):
    """Whatever the rows (errors, the bounds, a policy's rounding), every result of the Parquet output
    is the CSV output's text read as a Decimal (a bool for eligible and capped; None where the
    CSV's cell is empty), and the input's columns are its texts."""
    src = tmp_path / "in.csv"
    write_csv(src, [[f"P{i}", y, k, s, "", paid, loans, profit, fx] for i, (y, k, s, paid, loans, profit, fx) in enumerate(rows)])
    options = Options(policy=policy, reading=reading)
    score_file(src, tmp_path / "out.csv", options=options)
    score_file(src, tmp_path / "out.parquet", options=options)
    texts = read_csv(tmp_path / "out.csv")
    typed = pl.read_parquet(tmp_path / "out.parquet").to_dicts()
    assert len(typed) == len(texts) == len(rows)
    aliases = {name: ("fdi_" + name if name in HEADER else name) for name in RESULT_COLUMNS}
    for t, c in zip(typed, texts):
        for name in HEADER:
            assert t[name] == (c[name] or None) or t[name] == c[name], name  # (CSV input: strings as read)
        for name in (*DECIMALS, *BOOLEANS):
            assert t[aliases[name]] == as_typed(c[aliases[name]], name), name


ledger_arrival = st.tuples(
    st.sampled_from(["p1", "p2", ""]), st.sampled_from(["2024-03-15", "2024-09-02", "2025-04-10", "2024-02-30", ""]),
    st.sampled_from(["equity", "reinvested_profit", "shareholder_loan", "利润再投资"]), extreme_amounts,
    st.sampled_from(["USD", "EUR", "CNY", ""]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(ledger_arrival, min_size=1, max_size=12))
@example([("p1", "2024-03-15", "equity", "99999999999999.99", "USD")] * 3)  # a sum past every bound of money.py
def test_a_ledgers_parquet_values_are_its_csv_texts(tmp_path, arrivals):
    """A ledger's project-years (bad arrivals, undated rows and sums past the bounds among them): each
    amount, result and count in the Parquet output is the CSV output's text, typed."""
    src = tmp_path / "ledger.csv"
    write_csv(src, [[*a, "new", "services"] for a in arrivals],
              header=["project_id", "date", "type", "amount", "currency", "kind", "sector"])
    options = Options(rates=batch_rates())
    score_file(src, tmp_path / "out.csv", options=options)
    score_file(src, tmp_path / "out.parquet", options=options)
    texts = read_csv(tmp_path / "out.csv")
    typed = pl.read_parquet(tmp_path / "out.parquet").to_dicts()
    assert len(typed) == len(texts)
    for t, c in zip(typed, texts):
        for name in ("paid_in_usd", "reinvested_profit", "shareholder_loans_usd", *DECIMALS, *BOOLEANS):
            assert t[name] == as_typed(c[name], name), name
        assert t["arrivals"] == int(c["arrivals"]) and t["year"] == (c["year"] or None)


def test_a_text_that_would_round_stops_the_parquet_write(tmp_path):
    """polars rounds a decimal text with more decimals than the type's scale: the writer refuses it
    instead (trailing zeros past the scale are exact, and pass)."""
    columns = ["money"]
    with BatchWriter(tmp_path / "ok.parquet", "parquet", tmp_path, columns, types={"money": pl.Decimal(10, 2)}) as writer:
        writer.write(pl.DataFrame({"money": ["1.2300", "5", None]}))
    assert pl.read_parquet(tmp_path / "ok.parquet")["money"].to_list() == [D("1.23"), D("5.00"), None]
    with pytest.raises(AssertionError, match="more decimals"):
        with BatchWriter(tmp_path / "bad.parquet", "parquet", tmp_path, columns, types={"money": pl.Decimal(10, 2)}) as writer:
            writer.write_all(iter([(pl.DataFrame({"money": ["1.20", "1.235"]}), False)]))
    finer = pl.DataFrame({"money": ["1.235"]}).with_columns(pl.col("money").cast(pl.Decimal(38, 3)))
    with pytest.raises(AssertionError, match="finer"):
        with BatchWriter(tmp_path / "bad.parquet", "parquet", tmp_path, columns, types={"money": pl.Decimal(10, 2)}) as writer:
            writer.write(finer)
    with pytest.raises(pl.exceptions.InvalidOperationError):  # (a value too large for the type: not written)
        with BatchWriter(tmp_path / "bad.parquet", "parquet", tmp_path, columns, types={"money": pl.Decimal(4, 2)}) as writer:
            writer.write(pl.DataFrame({"money": ["123.45"]}))


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:  # (core.xml holds the time the file was made)
        return {i.filename: z.read(i) for i in z.infolist() if i.filename != "docProps/core.xml"}


@pytest.mark.parametrize("ledger", [False, True])
def test_csv_jsonl_and_excel_outputs_are_the_bytes_they_were_untyped(tmp_path, monkeypatch, ledger):
    """The Parquet types reach no other format: CSV, JSON Lines and Excel are byte for byte what
    they are without them."""
    src = EXAMPLES / ("ledger.csv" if ledger else "projects.csv")
    args = {"projects_path": EXAMPLES / "ledger-projects.csv", "options": Options(rates=batch_rates())} if ledger else {}
    for suffix in ("csv", "jsonl", "xlsx"):
        score_file(src, tmp_path / f"typed.{suffix}", **args)
    monkeypatch.setattr(batch, "_parquet_types", lambda scorer, ledger: {})
    for suffix in ("csv", "jsonl", "xlsx"):
        score_file(src, tmp_path / f"plain.{suffix}", **args)
    for suffix in ("csv", "jsonl"):
        assert (tmp_path / f"typed.{suffix}").read_bytes() == (tmp_path / f"plain.{suffix}").read_bytes()
    assert _parts(tmp_path / "typed.xlsx") == _parts(tmp_path / "plain.xlsx")
    line = (tmp_path / "typed.jsonl").read_text(encoding="utf-8").splitlines()[0]
    assert '"incentive_cny":"' in line and '"rate":"' in line  # (JSON Lines: decimal strings, as before)
