"""Every value read by one parser, within the bounds where exactness ends: calc, batch, plan and
the API accept and refuse the same texts, and a bad value is one row's error or one line."""

import csv
from decimal import Decimal as D

import pytest

from fdi_incentive import FdiError, Project, assess
from fdi_incentive.batch import score_file
from fdi_incentive.cli import main
from fdi_incentive.money import FX_RATE_DECIMALS, MAX_AMOUNT, MAX_FX_RATE, MIN_FX_RATE

HEADER = ["project_id", "year", "sector", "paid_in", "currency", "reinvested_profit", "fx_rate"]


def batch_rows(tmp_path, rows, header=HEADER):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    with src.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *rows])
    summary = score_file(src, out)
    with out.open(encoding="utf-8", newline="") as f:
        return summary, list(csv.DictReader(f))


def test_the_bounds_are_what_the_batch_arithmetic_holds():
    """Cents below 10^16 fit 64 bits; a base (two amounts) x FX x rate, both scaled by 10^8, fits 128 bits."""
    assert MAX_AMOUNT == D(10) ** 14 and FX_RATE_DECIMALS == 8 and MIN_FX_RATE == D("0.00000001")
    cents, fx_e8, rate_e8 = int(MAX_AMOUNT * 100), int(MAX_FX_RATE * 10**8), 10**8
    assert cents < 2**63 and 2 * cents * fx_e8 * rate_e8 < 2**127


def test_an_fx_rate_with_inner_spaces_is_refused_in_batch_as_in_calc(tmp_path, capsys):
    summary, rows = batch_rows(tmp_path, [["P1", "2024", "services", "15000000", "USD", "", "7 1"],
                                          ["P2", "2024", "services", "15000000", "USD", "", "7.1"]])
    assert rows[0]["error"].startswith("fx_rate: '7 1' is not valid") and rows[0]["incentive_cny"] == ""
    assert rows[1]["incentive_cny"] == "2130000.00" and summary.errors == 1
    assert main(["calc", "--year", "2024", "--sector", "services", "--paid-in-usd", "15000000", "--fx-rate", "7 1"]) == 2


@pytest.mark.parametrize("rate, ok", [("7.12345678", True), ("7.123456789", False), ("7.1000000000", True),
                                      ("0.00000001", True), ("0.000000009", False), ("9999.99999999", True),
                                      ("10000", False), ("7_1", False), ("７．１", True), ("Infinity", False)])
def test_rates_are_read_alike_everywhere(tmp_path, rate, ok):
    """More than 8 decimals (by value), 10,000 and over, underscores: refused by calc, batch and the API alike."""
    _, rows = batch_rows(tmp_path, [["P1", "2024", "services", "15000000", "USD", "", rate]])
    assert (rows[0]["error"] == "") == ok, rows[0]
    code = main(["calc", "--year", "2024", "--sector", "services", "--paid-in-usd", "15000000", "--fx-rate", rate, "--json"])
    assert code == (0 if ok else 2)
    if ok:
        got = assess(Project.for_year(2024, paid_in="15000000", sector="services"), fx=rate).years[0]
        assert str(got.incentive_cny) == rows[0]["incentive_cny"]
    else:
        with pytest.raises(FdiError):
            assess(Project.for_year(2024, paid_in="15000000", sector="services"), fx=rate)


@pytest.mark.parametrize("year, ok", [("2024", True), ("2024.0", True), ("2024年", True), (" 2024 年", True),
                                      ("2024.5", False), ("2,024", False), ("2.024e3", False), ("+2024", False),
                                      ("1899", False), ("2201", False), ("２０２４", True)])
def test_years_are_read_alike_in_calc_batch_plan_and_the_api(tmp_path, year, ok):
    _, rows = batch_rows(tmp_path, [["P1", year, "services", "15000000", "USD", "", "7.1"]])
    assert (rows[0]["error"] == "") == ok, rows[0]
    calc = ["calc", "--year", year, "--sector", "services", "--paid-in-usd", "15000000", "--fx-rate", "7.1", "--json"]
    assert main(calc) == (0 if ok else 2)
    plan = ["plan", "--total-usd", "15000000", "--years", year, "--sector", "services", "--fx-rate", "7.1", "--json"]
    assert main(plan) == (0 if ok else 2)
    if ok:
        assert Project.for_year(year, paid_in="1").arrivals[0].year == 2024
    else:
        with pytest.raises(FdiError):
            Project.for_year(year, paid_in="1")


def test_one_row_past_the_bounds_never_aborts_the_batch(tmp_path):
    """A EUR amount at a USD rate of 0.0001 and CNY profit at 0.00000001 convert to more than any
    amount may be (once an i128 -> i64 overflow that aborted the run): those rows' errors, the rest scored."""
    summary, rows = batch_rows(tmp_path, [
        ["P1", "2024", "services", "99999999999999", "EUR", "", "0.0001"],
        ["P2", "2024", "services", "1", "USD", "99999999999999", "0.00000001"],
        ["P3", "2024", "services", "15000000", "USD", "", "7.1"],
        ["P4", "2024", "services", "100000000000000", "USD", "", "7.1"],
        ["P5", "2024", "services", "99999999999999.99", "USD", "99999999999999.99", "9999.99999999"],
    ])
    assert summary.rows == 5 and summary.errors == 3
    assert "converted to USD" in rows[0]["error"] and "converted to USD" in rows[1]["error"]
    assert rows[2]["incentive_cny"] == "2130000.00"
    assert rows[3]["error"].startswith("paid_in: '100000000000000' is not valid; expected an amount below")
    assert rows[4]["error"] == "" and rows[4]["capped"] == "true"
    for project in (Project.for_year(2024, paid_in="99999999999999", currency="EUR", sector="services"),
                    Project.for_year(2024, paid_in="1", reinvested_profit="99999999999999", sector="services")):
        fx = "0.0001" if project.arrivals[0].currency == "EUR" else "0.00000001"
        with pytest.raises(FdiError, match="converted to USD"):
            assess(project, fx=fx)


@pytest.mark.parametrize("args", [
    ["calc", "--year", "2024", "--sector", "services", "--paid-in-usd", "1e26"],
    ["calc", "--year", "2024", "--sector", "services", "--paid-in-usd", "1", "--loans-usd", "1e30"],
    ["calc", "--year", "2024", "--sector", "services", "--paid-in-usd", "1", "--reinvested-profit-cny", "1e30"],
    *(["calc", "--year", "2024", "--sector", "services", "--paid-in-usd", "15000000", "--fx-rate", r]
      for r in ("1e-30", "1e30", "1e999999", "1e-999999", "NaN", "-0")),
    ["plan", "--total-usd", "1" + "0" * 26, "--years", "2024-2025", "--sector", "services", "--fx-rate", "7.1"],
    ["plan", "--total-usd", "100000000", "--years", "2024-2025", "--sector", "services", "--fx-rate", "1e-20"],
])
def test_huge_amounts_and_rates_are_one_line_errors(capsys, args):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("fdi: error: ") and err.count("\n") == 1 and "Traceback" not in err, err


@pytest.mark.parametrize("big", ["x" * 2_000_000, "9" * 2_000_000 + "x", "9." + "9" * 2_000_000 + "x",
                                 "2024." + "0" * 2_000_000 + "x", "1,000" * 400_000 + "x"],
                         ids=["letters", "digits-then-a-letter", "decimals-then-a-letter", "a-year-then-a-letter", "grouped"])
def test_a_huge_invalid_cell_is_quoted_at_a_bounded_length(tmp_path, big):
    """A 2 MB invalid cell in any column makes a short message (the summary once rendered such
    messages in time quadratic in their length), and is read in time linear in its length: digits
    followed by a letter once took the number pattern minutes to refuse, the batch deaf to SIGTERM."""
    rows = [["P1", big, "services", "1", "USD", "", "7.1"], ["P2", "2024", big, "1", "USD", "", "7.1"],
            ["P3", "2024", "services", big, "USD", "", "7.1"], ["P4", "2024", "services", "1", big, "", "7.1"],
            ["P5", "2024", "services", "1", "USD", "", big]]
    summary, out = batch_rows(tmp_path, rows)
    assert summary.errors == 5 and all(0 < len(r["error"]) < 600 for r in out), [len(r["error"]) for r in out]
    assert all(len(e.error) < 600 for e in summary.first_errors) and "more characters" in out[0]["error"]
    with pytest.raises(FdiError) as info:
        Project.for_year(2024, paid_in=big)
    assert len(str(info.value)) < 600
    ledger = tmp_path / "ledger.csv"  # and a ledger's cells
    with ledger.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["project_id", "date", "type", "amount", "currency", "kind", "sector"],
                                 ["A", big, "equity", "1", "USD", "new", "services"],
                                 ["B", "2024-03-15", big, "1", "USD", "new", "services"],
                                 ["C", "2024-03-15", "equity", big, "USD", "new", "services"],
                                 ["D", "2024-03-15", "equity", "1", big, "new", "services"]])
    from fdi_incentive.frame import Options

    summary = score_file(ledger, tmp_path / "l.csv", options=Options(fx_rate=D("7.1")))
    assert summary.errors == 4 and all(len(e.error) < 600 for e in summary.first_errors), summary.first_errors


def test_formula_starts_are_neutralised_in_headers_results_and_after_blanks(tmp_path):
    """A header cell, a policy's tier label copied into `reason`, and cells whose first non-blank
    character starts a formula after spaces, NBSP or a BOM: all neutralised in CSV (records copied
    as they stand, or rebuilt) and in Excel."""
    import tomllib

    from python_calamine import CalamineWorkbook

    from fdi_incentive.frame import Options
    from fdi_incentive.policy import parse_policy

    from importlib import resources

    text = resources.files("fdi_incentive").joinpath("policies/cn-cq-2023.toml").read_text(encoding="utf-8")
    assert 'label = "general tier"' in text and tomllib.loads(text)
    policy = parse_policy(text.replace('label = "general tier"', 'label = "=HYPERLINK(\\"http://x\\")"'), "evil.toml")
    src = tmp_path / "in.csv"
    cells = [" =1+1", "\xa0@SUM(A1)", "\ufeff-2", "\u3000+3", "ok", "a=b"]
    header = ["project_id", "year", "sector", "paid_in_usd", "fx_rate", '=HYPERLINK("http://evil")', " @x"]
    with src.open("w", encoding="utf-8", newline="") as f:  # (no quote in the file: records copied as they stand)
        f.write(",".join(h.replace('"', "") for h in header) + "\n")
        for cell in cells:
            f.write(f"{cell},2024,services,15000000,7.1,{cell},x\n")
    for name in ("out.csv", "out.xlsx"):
        score_file(src, tmp_path / name, options=Options(policy=policy))
    with (tmp_path / "out.csv").open(encoding="utf-8", newline="") as f:
        got = list(csv.reader(f))
    sheet = CalamineWorkbook.from_path(str(tmp_path / "out.xlsx")).get_sheet_by_index(0).to_python()
    for rows in (got, sheet):
        head = rows[0]
        assert head[5] == "'=HYPERLINK(http://evil)" and head[6] == "'@x"  # (the reader strips a name's blanks)
        for cell, row in zip(cells, rows[1:]):
            shown = cell if cell in ("ok", "a=b") else "'" + cell
            assert row[0] == shown and row[5] == shown, (row, cell)
            assert row[head.index("reason")].startswith("'=HYPERLINK"), row


def test_control_characters_never_reach_the_terminal(tmp_path, capsys):
    """ESC, OSC and CSI in a CSV header, a cell quoted in a message or a policy's title are not printed."""
    from importlib import resources

    src = tmp_path / "in.csv"
    src.write_text("project_id,year,sector,paid_in_usd,fx_rate,no\x1b]0;pwned\x07te\n"
                   "P1,2024,\x1b[2J[/x],15000000,7.1,x\n", encoding="utf-8")
    assert main(["batch", str(src), "-o", str(tmp_path / "out.csv")]) == 1
    text = resources.files("fdi_incentive").joinpath("policies/cn-cq-2023.toml").read_text(encoding="utf-8")
    evil = tmp_path / "evil.toml"
    evil.write_text(text.replace('title = "', 'title = "\\u001b]0;pwned\\u0007\\u009b31m', 1), encoding="utf-8")
    assert main(["policy", "show", str(evil)]) == 0
    assert main(["policy", "validate", str(evil)]) == 0
    assert main(["calc", "--year", "2024", "--sector", "services", "--paid-in-usd", "15000000", "--fx-rate", "7.1",
                 "--policy", str(evil)]) == 0
    assert main(["calc", "--year", "2024", "--sector", "services", "--paid-in-usd", "15000000", "--fx-rate", "7.1",
                 "--policy", str(evil), "--json"]) == 0
    assert main(["calc", "--year", "2024", "--sector", "\x1b[31mx", "--paid-in-usd", "1"]) == 2
    out = capsys.readouterr()
    for stream in (out.out, out.err):
        assert "\x1b" not in stream and "\x9b" not in stream and "\x07" not in stream
    assert "pwned" in out.out and "[/x]" in out.out  # (shown as text, never obeyed nor read as markup)


# --- generated: calc and batch accept and refuse the same texts, and agree where they accept --------

from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from .strategies import amount_texts, control_texts, formula_texts, rate_texts, year_texts  # noqa: E402

COMPARED = ["policy", "policy_status", "eligible", "tier", "rate", "base_usd", "fx_rate", "base_cny", "gross_cny", "capped",
            "incentive_cny"]
row_texts = st.tuples(year_texts, st.sampled_from(["services", "manufacturing"]), amount_texts,
                      st.one_of(st.just(""), amount_texts), rate_texts)


def calc_of(year, sector, paid, profit, fx):
    """What calc (the API) makes of the texts: its JSON fields, or None for an error."""
    try:
        # (a blank cell in a file is no amount: calc is given none)
        project = Project.for_year(year, paid_in=paid, reinvested_profit=profit if profit.strip() else "0", sector=sector)
        y = assess(project, fx=fx).years[0].model_dump(mode="json")
    except FdiError:
        return None
    return {k: ("" if y[k] is None else str(y[k]).lower() if isinstance(y[k], bool) else str(y[k])) for k in COMPARED}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(row_texts, min_size=1, max_size=30))
@example([("2024", "services", "99999999999999", "", "0.0001"), ("2024", "services", "1", "99999999999999", "0.00000001"),
          ("2024年", "services", "15 000 000", "", "7 1"), ("2024.0", "services", "1e13", "1e13", "9999.99999999")])
def test_calc_and_batch_read_every_text_alike(tmp_path, rows):
    """Spaced numbers, extreme magnitudes, exponents, other scripts, years as sheets write them: a
    row is an error in the batch exactly when calc refuses its texts, and scored alike otherwise."""
    rows = [r for r in rows if r[2].strip() and r[4].strip()]  # (a blank paid-in or rate means another thing in a file)
    if not rows:
        return
    summary, got = batch_rows(tmp_path, [[f"P{i}", y, s, p, "USD", pr, fx] for i, (y, s, p, pr, fx) in enumerate(rows)])
    assert summary.rows == len(rows) == len(got)
    for r, g in zip(rows, got):
        expected = calc_of(*r)
        if expected is None:
            assert g["error"] != "" and g["incentive_cny"] == "", (r, g)
        else:
            assert g["error"] == "" and {k: g["fdi_" + k if k == "fx_rate" else k] for k in COMPARED} == expected, \
                (r, g, expected)  # (the input has an fx_rate column: the result's is fdi_fx_rate)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.one_of(formula_texts, control_texts, st.text(max_size=12)),
                          st.one_of(formula_texts, control_texts)), min_size=1, max_size=12),
       st.one_of(formula_texts, control_texts))
def test_generated_formula_starts_and_controls_are_safe_in_every_output(tmp_path, capsys, rows, name):
    """Formula starts after any blanks, in cells and in a header, are neutralised in CSV and Excel;
    controls in cells and headers never reach the terminal; no row is lost."""
    from python_calamine import CalamineWorkbook

    from fdi_incentive.text import is_formula

    src = tmp_path / "in.csv"
    with src.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["project_id", "year", "sector", "paid_in_usd", "fx_rate", "note " + name],
                                 *[[a, "2024", "services", "15000000", "7.1", b] for a, b in rows]])
    for out in ("out.csv", "out.xlsx"):
        assert main(["batch", str(src), "-o", str(tmp_path / out)]) in (0, 1)
        shown = capsys.readouterr()
        assert not any(c in shown.out + shown.err for c in "\x1b\x9b\x07"), shown
    with (tmp_path / "out.csv").open(encoding="utf-8", newline="") as f:
        written = list(csv.reader(f))
    sheet = CalamineWorkbook.from_path(str(tmp_path / "out.xlsx")).get_sheet_by_index(0).to_python()
    for table in (written, sheet):
        assert len(table) == len(rows) + 1
        assert not any(is_formula(str(c)) for row in table for c in row if isinstance(c, str) and c), table


@pytest.mark.parametrize("call", [
    lambda: Project.for_year(2024, reinvested_profit="bad"),
    lambda: Project.for_year(2024, paid_in="-1"),
    lambda: Project.for_year(2024, paid_in=15000000.5),
    lambda: assess(Project.for_year(2024, paid_in="1", sector="services"), fx=7.2),
    lambda: assess(Project.for_year(2024, paid_in="1", sector="services"), fx="7.2", granted_rate=0.05),
    lambda: assess(Project.for_year(2024, paid_in="1", sector="services"), fx="7.2", reading="both"),
    lambda: assess(Project.for_year(2024, paid_in="1", sector="services"), fx=object()),
    lambda: assess(Project.for_year(2024, paid_in="1", sector="services"), policy=5),
    lambda: assess("a project"),
    lambda: Project.for_year(2024.0, paid_in="1"),
    lambda: Project.model_validate_json("{bad"),
    lambda: Project.model_validate({"arrivals": [{"year": 2024, "amount": 1.5}]}),
    lambda: __import__("fdi_incentive").FixedRate(__import__("decimal").Decimal("1e30")),
    lambda: __import__("fdi_incentive.frame").frame.Options(fx_rate=__import__("decimal").Decimal("1e-30")),
])
def test_the_api_raises_fdi_errors_for_bad_input(call):
    """Every error for bad input is an FdiError (pydantic's ValidationError wrapped as its cause);
    a float is refused everywhere with the one message."""
    with pytest.raises(FdiError) as info:
        call()
    if isinstance(info.value.__cause__, Exception):
        from pydantic import ValidationError

        assert isinstance(info.value.__cause__, ValidationError)
    if "float" in str(info.value):
        assert "a float is refused (it cannot hold every decimal exactly)" in str(info.value)


def test_a_ledger_arrival_past_the_bounds_is_its_project_years_error(tmp_path):
    """In a ledger too: an arrival converted past MAX_AMOUNT (once an i128 -> i64 overflow that
    aborted the run) and a project-year whose arrivals add up past it are errors; the rest scored."""
    from fdi_incentive.frame import Options

    src, out = tmp_path / "ledger.csv", tmp_path / "out.csv"
    with src.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["project_id", "date", "type", "amount", "currency", "kind", "sector"],
                                 ["A", "2024-03-15", "equity", "99999999999999", "EUR", "new", "services"],
                                 ["B", "2024-03-15", "reinvested_profit", "99999999999999", "CNY", "new", "services"],
                                 ["C", "2024-03-15", "equity", "15000000", "USD", "new", "services"],
                                 ["D", "2024-03-15", "equity", "90000000000000", "USD", "new", "services"],
                                 ["D", "2024-04-15", "equity", "90000000000000", "USD", "new", "services"]])
    summary = score_file(src, out, options=Options(fx_rate=D("0.00000001")))
    with out.open(encoding="utf-8", newline="") as f:
        rows = {r["project_id"]: r for r in csv.DictReader(f)}
    assert summary.rows == 4 and summary.errors == 3 and rows["C"]["error"] == ""
    assert "converted to USD" in rows["A"]["error"] and "converted to USD" in rows["B"]["error"]
    assert "below 100,000,000,000,000" in rows["D"]["error"]
    project = Project.model_validate({"sector": "services", "arrivals": [
        {"date": "2024-03-15", "amount": "90000000000000"}, {"date": "2024-04-15", "amount": "90000000000000"}]})
    with pytest.raises(FdiError, match="a year's total below"):
        assess(project, fx="7.1")


def test_rows_written_to_a_terminal_carry_no_controls(tmp_path):
    """Without -o the CSV goes to stdout: to a terminal, without the escapes a cell may hold (to a
    pipe or a file, byte for byte)."""
    import io

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    src = tmp_path / "in.csv"
    src.write_text("project_id,year,sector,paid_in_usd,fx_rate\nP\x1b]0;pwned\x07,2024,services,15000000,7.1\n",
                   encoding="utf-8")
    shown, piped = Terminal(), io.StringIO()
    score_file(src, None, stdout=shown)
    score_file(src, None, stdout=piped)
    assert "\x1b" not in shown.getvalue() and "P]0;pwned," in shown.getvalue() and "2130000.00" in shown.getvalue()
    assert "P\x1b]0;pwned\x07," in piped.getvalue()


@pytest.mark.parametrize("typed, means", [("loan", None), ("Loan", None), ("shareholder-loan", "shareholder_loan"),
                                          ("外方股东贷款", "shareholder_loan"), ("货币出资", "equity"), ("股权出资", "equity"),
                                          ("利润再投资", "reinvested_profit"), ("Reinvested Profit", "reinvested_profit")])
def test_an_arrivals_type_is_a_documented_spelling_or_an_error(tmp_path, typed, means):
    """`type = "loan"` in a project file was quietly a shareholder loan; README names the types (and
    their Chinese names): any other is refused naming them, in a project file and in a ledger alike."""
    from fdi_incentive.frame import Options

    data = {"sector": "services", "arrivals": [{"date": "2024-03-15", "amount": "15000000", "type": typed}]}
    if means is None:
        with pytest.raises(FdiError, match="equity, reinvested-profit, shareholder-loan"):
            Project.model_validate(data)
    else:
        assert Project.model_validate(data).arrivals[0].type == means
    src, out = tmp_path / "ledger.csv", tmp_path / "out.csv"
    with src.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["project_id", "date", "type", "amount", "currency", "kind", "sector"],
                                 ["A", "2024-03-15", typed, "15000000", "USD", "new", "services"]])
    score_file(src, out, options=Options(fx_rate=D("7.1")))
    with out.open(encoding="utf-8", newline="") as f:
        [row] = csv.DictReader(f)
    if means is None:
        assert f"type: {typed!r} is not valid; expected equity, reinvested_profit or shareholder_loan" in row["error"]
    else:
        assert row["error"] == ""
