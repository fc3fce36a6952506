"""The `fdi` command as a user meets it: help, output, JSON shape, exit codes, one-line errors."""

import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fdi_incentive.cli import ExitCode, app

ROOT = Path(__file__).parents[1]
runner = CliRunner()


def fdi(*args):
    return runner.invoke(app, [str(a) for a in args])


COMMANDS = [[], ["calc"], ["policy"], ["policy", "list"], ["policy", "show"], ["policy", "validate"], ["schema"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "fdi")
def test_every_command_has_help(command):
    result = fdi(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output
    if command and command != ["policy"]:
        assert "Example" in result.output


CALC = ["calc", "--year", "2024", "--sector", "manufacturing", "--paid-in-usd", "42000000", "--loans-usd", "5000000", "--fx-rate", "7.1"]


def test_calc_itemised_breakdown():
    result = fdi(*CALC)
    assert result.exit_code == 0, result.output
    for expected in ["cn-cq-2023", "USD 42,000,000.00", "USD 5,000,000.00", "not counted", "manufacturing tier",
                     "7.1 CNY/USD", "CNY 11,928,000.00", "binds", "CNY 10,000,000.00", "caveats",
                     "what would change the answer"]:
        assert expected in result.output, expected
    assert "不低于4%" in fdi(*CALC, "--caveats").output  # (a footnote's whole clause)


def test_calc_json_shape():
    result = fdi(*CALC, "--json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert set(data) >= {"project", "years", "total_incentive_cny"}
    year = data["years"][0]
    for key in ["year", "policy", "eligible", "tier", "rate", "base_usd", "fx_rate", "fx_source", "base_cny",
                "gross_cny", "capped", "incentive_cny", "reasons"]:
        assert key in year, key
    assert year["tier"] == "manufacturing" and year["eligible"] is True and year["capped"] is True
    assert year["incentive_cny"] == "10000000.00" and data["total_incentive_cny"] == "10000000.00"
    assert year["rate"] == "0.04" and year["fx_rate"] == "7.1"
    money = [year[k] for k in ("base_usd", "base_cny", "gross_cny", "incentive_cny")]
    assert all(isinstance(m, str) and re.fullmatch(r"\d+\.\d{2,}", m) for m in money)
    assert isinstance(year["reasons"], list) and all(isinstance(r, str) for r in year["reasons"])


def test_calc_project_file_gives_a_line_per_year_and_a_total():
    result = fdi("calc", "--project", ROOT / "examples/project.toml", "--fx-table", ROOT / "examples/pboc-central-parity.csv", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [y["year"] for y in data["years"]] == [2024, 2025, 2026]
    total = sum(float(y["incentive_cny"]) for y in data["years"])
    assert abs(total - float(data["total_incentive_cny"])) < 0.001


def test_calc_project_json_file(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"sector": "services", "kind": "capital-increase", "arrivals": [
        {"year": 2024, "amount": "15000000", "currency": "USD", "type": "equity"}]}), encoding="utf-8")
    data = json.loads(fdi("calc", "--project", path, "--fx-rate", "7.2", "--json").output)
    assert data["total_incentive_cny"] == "2160000.00"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--paid-in-usd", "-5"], "--paid-in-usd: '-5' is not valid; expected an amount of zero or more"),
        (["--paid-in-usd", "abc"], "--paid-in-usd: 'abc' is not valid"),
        (["--paid-in-usd", "5", "--sector", "widgets"], "--sector: 'widgets' is not valid; expected a sector such as manufacturing"),
        (["--paid-in-usd", "5", "--industry-code", "K36"], "--industry-code: 'K36' is not valid"),
        (["--paid-in-usd", "5", "--paid-in", "5", "--currency", "EUR"], "give one of them"),
        (["--paid-in", "5", "--currency", "EURO"], "--currency: 'EURO' is not valid"),
        (["--paid-in-usd", "5", "--fx-rate", "0"], "--fx-rate: '0' is not valid"),
        (["--paid-in-usd", "50000000", "--sector", "manufacturing", "--fx-rate", "7", "--rate", "0.03"], "at least 0.04"),
        (["--paid-in-usd", "5", "--year", "2017"], "no policy is in force in 2017"),
        (["--paid-in-usd", "5", "--kind", "merger"], "--kind: 'merger' is not valid; expected one of new, capital-increase"),
        (["--paid-in-usd", "5", "--policy", "nope"], "'nope' is neither a shipped policy"),
        (["--paid-in-usd", "5", "--reading", "both"], "--reading: 'both' is not valid"),
        (["--paid-in-usd", "5.001"], "at most two decimal places"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message):
    base = {"--year": "2024", "--sector": "services", "--fx-rate": "7"}
    for i in range(0, len(args), 2):
        base[args[i]] = args[i + 1]
    result = fdi("calc", *[x for kv in base.items() for x in kv])
    assert result.exit_code == ExitCode.USAGE, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.output.strip().count("\n") == 0


def test_missing_year_and_bad_project_file(tmp_path):
    result = fdi("calc", "--sector", "services", "--paid-in-usd", "5")
    assert result.exit_code == 2 and "--year: missing" in result.output
    bad = tmp_path / "p.toml"
    bad.write_text('sector = "services"\n[[arrivals]]\namount = "-1"\n', encoding="utf-8")
    result = fdi("calc", "--project", bad)
    assert result.exit_code == 2 and "arrivals[0]" in result.output and "Traceback" not in result.output


def test_policy_commands(tmp_path):
    listing = fdi("policy", "list")
    assert listing.exit_code == 0 and "cn-cq-2018" in listing.output and "cn-cq-2023" in listing.output
    shown = fdi("policy", "show", "cn-cq-2023")
    assert shown.exit_code == 0 and "超过3000万美元" in shown.output and "CNY 10,000,000.00" in shown.output
    good = ROOT / "src/fdi_incentive/policies/cn-cq-2023.toml"
    assert fdi("policy", "validate", good).exit_code == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(good.read_text(encoding="utf-8").replace('rate = "0.04"', "rate = 0.04"), encoding="utf-8")
    result = fdi("policy", "validate", bad)
    assert result.exit_code == 2 and "tiers[1].rate" in result.output


def test_schema_prints_input_and_output():
    data = json.loads(fdi("schema").output)
    assert data["input"]["title"] == "Project" and data["output"]["title"] == "Assessment"
    year = data["output"]["$defs"]["YearResult"]["properties"]
    assert year["incentive_cny"]["type"] == "string"


def test_batch_piped_into_a_reader_that_stops_early(tmp_path):
    """`fdi batch FILE | head`: the reader leaving is not an error; the summary still goes to stderr."""
    import subprocess
    import sys
    from pathlib import Path

    src = tmp_path / "in.csv"
    subprocess.run([sys.executable, str(Path(__file__).parents[1] / "bench" / "generate.py"), "3000", str(src)], check=True)
    proc = subprocess.Popen([sys.executable, "-m", "fdi_incentive", "batch", str(src), "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline().startswith(b"project_id,")
    proc.stdout.close()  # as `head -1` does: the rest (well over a pipe's buffer) has nowhere to go
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, stderr
    assert "rows" in stderr and "3,000" in stderr and "Traceback" not in stderr and "BrokenPipe" not in stderr


def test_batch_to_stdout_gives_the_bytes_of_an_output_file(tmp_path):
    """Without -o the results go to standard output, through a pipe or into a file (`> out.csv`),
    byte for byte as -o writes them; the summary goes to stderr."""
    import subprocess
    import sys

    src, written = ROOT / "examples" / "projects.csv", tmp_path / "o.csv"
    command = [sys.executable, "-m", "fdi_incentive", "batch", str(src), "--no-progress"]
    subprocess.run([*command, "-o", str(written)], check=True, capture_output=True)
    piped = subprocess.run(command, check=True, capture_output=True)
    assert piped.stdout == written.read_bytes() and b"rows" in piped.stderr
    with (tmp_path / "redirected.csv").open("wb") as out:
        subprocess.run(command, check=True, stdout=out, stderr=subprocess.DEVNULL)
    assert (tmp_path / "redirected.csv").read_bytes() == written.read_bytes()


def test_the_process_ends_with_everything_written_and_its_exit_code(tmp_path):
    """`fdi` ends its process without tearing the interpreter down (`cli.run`): what it printed,
    the summary JSON and the output are whole, no temporary file is left, and the exit code is
    0, 1 (rows with errors) or 2 (usage) as documented."""
    import subprocess
    import sys

    fdi_ = [sys.executable, "-m", "fdi_incentive"]
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    calc = subprocess.run([*fdi_, "calc", "--year", "2024", "--kind", "new", "--sector", "manufacturing",
                           "--paid-in-usd", "40000000", "--fx-rate", "7.1", "--json"], capture_output=True, env=env)
    assert calc.returncode == 0 and json.loads(calc.stdout)["total_incentive_cny"] == "10000000.00"
    bad = tmp_path / "bad.csv"
    bad.write_text("project_id,year,kind,sector,paid_in_usd,fx_rate\nA,2024,new,manufacturing,40000000,7.1\n"
                   "B,2024,new,manufacturing,lots,7.1\n", encoding="utf-8")
    out, summary = tmp_path / "out.csv", tmp_path / "summary.json"
    run = subprocess.run([*fdi_, "batch", str(bad), "-o", str(out), "--summary-json", str(summary), "--no-progress"],
                         capture_output=True, env=env)
    assert run.returncode == 1 and b"rows with errors" in run.stdout and run.stdout.rstrip().endswith(b"out.csv")
    assert json.loads(summary.read_text())["errors"] == 1 and len(out.read_text().splitlines()) == 3
    usage = subprocess.run([*fdi_, "batch", str(tmp_path / "missing.csv")], capture_output=True, env=env)
    assert usage.returncode == 2 and b"missing.csv" in usage.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "out.csv", "summary.json"]


def test_an_output_that_is_a_folder_is_refused_before_any_work(tmp_path):
    (tmp_path / "out.csv").mkdir()
    result = fdi("batch", ROOT / "examples" / "projects.csv", "-o", tmp_path / "out.csv", "--no-progress")
    assert result.exit_code == ExitCode.USAGE and "a file, not a folder" in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"] and not list((tmp_path / "out.csv").iterdir())


def test_the_summary_json_never_replaces_the_input_or_the_output(tmp_path):
    """--summary-json naming the input or the output file would have overwritten it with the
    summary, after the run; it is refused before any work. One in a folder that does not exist
    is refused then too, not after the batch has run."""
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_bytes((ROOT / "examples" / "projects.csv").read_bytes())
    rates = tmp_path / "rates.csv"
    rates.write_text("date,currency,cny_per_unit\n2024-01-02,USD,7.1\n", encoding="utf-8")
    result = fdi("batch", src, "-o", rates, "--fx-table", rates, "--no-progress")
    assert result.exit_code == ExitCode.USAGE and result.output.startswith("fdi: error: -o") and "7.1" in rates.read_text()
    rates.unlink()
    for summary in (src, out, tmp_path / "missing" / "s.json"):
        result = fdi("batch", src, "-o", out, "--summary-json", summary, "--no-progress")
        assert result.exit_code == ExitCode.USAGE and result.output.startswith("fdi: error: --summary-json"), result.output
        assert src.read_bytes() == (ROOT / "examples" / "projects.csv").read_bytes() and not out.exists()
    result = fdi("batch", src, "-o", out, "--summary-json", tmp_path / "s.json", "--no-progress")
    assert result.exit_code == 0 and json.loads((tmp_path / "s.json").read_text())["rows"] == 200
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv", "s.json"]


def test_a_disk_that_fills_up_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    """An output that cannot be written (a full disk, no permission) is a one-line error with exit
    code 2, not a traceback, and no partial file is left behind."""
    import errno

    from fdi_incentive.io import writers

    def full(self, df, csv_ready=False):
        raise OSError(errno.ENOSPC, "No space left on device", str(self.path))

    monkeypatch.setattr(writers.BatchWriter, "write", full)
    out = tmp_path / "out.csv"
    result = fdi("batch", ROOT / "examples" / "projects.csv", "-o", out, "--no-progress")
    assert result.exit_code == ExitCode.USAGE and "Traceback" not in result.output
    assert result.output.startswith("fdi: error: ") and "No space left on device" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_ledger_summary_names_a_few_fx_sources_and_counts_the_rest(tmp_path):
    """Each arrival day of a ledger has a rate source of its own: the summary on the terminal
    names five and counts the others (a 1M-arrival ledger had filled the screen with 2,900);
    --summary-json keeps them all."""
    src = tmp_path / "ledger.csv"
    days = [f"2024-03-{d:02d}" for d in range(4, 16)]
    src.write_text("project_id,date,type,amount,currency,kind,sector\n" + "".join(
        f"P{i},{day},equity,40000000,USD,new,manufacturing\n" for i, day in enumerate(days)), encoding="utf-8")
    result = fdi("batch", src, "-o", tmp_path / "out.csv", "--summary-json", tmp_path / "s.json", "--no-progress")
    everyone = json.loads((tmp_path / "s.json").read_text())["fx_sources"]
    assert result.exit_code == 0 and len(everyone) == 12
    fx = " ".join(result.output.split("FX: ", 1)[1].split())  # (the line as Rich wraps it)
    assert f"… and {len(everyone) - 5} more (every one in --summary-json)" in fx
    assert sum(source in fx for source in everyone) == 5


def test_batch_help_wraps_its_paragraphs_at_the_terminal_width():
    """Each paragraph of `fdi batch --help` flows to the terminal's width (a line break in the
    source had cut lines short mid-sentence)."""
    text = fdi("batch", "--help").output
    description = text.split("Usage:", 1)[1].split("╭", 1)[0].splitlines()[2:]
    for line, after in zip(description, description[1:] + [""]):
        if line.strip() and after.strip() and not line.strip().endswith((":", "\\")):  # (an example continues after a \\)
            assert len(line.rstrip()) > 60, line


def test_the_example_ledger_and_its_projects_file_are_on_the_record(tmp_path):
    """examples/ledger.csv as README runs it: a title line, Chinese headers and dates, 货币出资;
    the summary states the --projects file's columns too, and --summary-json names and hashes
    it beside the ledger (an input of the result as much as the ledger is)."""
    import hashlib

    projects = ROOT / "examples" / "ledger-projects.csv"
    result = fdi("batch", ROOT / "examples" / "ledger.csv", "--projects", projects, "-o", tmp_path / "out.csv",
                 "--summary-json", tmp_path / "s.json", "--no-progress")
    assert result.exit_code == 0, result.output
    assert "from --projects: 项目编号 → project_id, 项目类型 →" in " ".join(result.output.split())
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert summary["projects"].endswith("ledger-projects.csv") and summary["errors"] == 0
    assert (summary["arrivals"], summary["rows"]) == (9, 6) and "arrivals" in result.output
    assert summary["projects_sha256"] == hashlib.sha256(projects.read_bytes()).hexdigest()
    assert summary["projects_column_mapping"]["sector"] == "行业"
    rows = {(r["project_id"], r["year"]): r for r in __import__("csv").DictReader((tmp_path / "out.csv").open(encoding="utf-8"))}
    assert rows[("CQ-001", "2024")]["shareholder_loans_usd"] == "5000000.00"  # (shown, not counted)
    assert rows[("CQ-001", "2024")]["base_usd"] == "12000000.00" and rows[("CQ-003", "2025")]["eligible"] == "false"


def test_a_batch_names_each_rate_in_a_few_words_and_explains_the_ecb_cross_once(tmp_path):
    """Issue 22 #24: each row's fx_source carried a ~150-character disclaimer, and the summary repeated
    it once per year in no order. The cell names the source in a few words; the summary explains it
    once, its sources in year order."""
    import csv

    src = tmp_path / "in.csv"
    src.write_text("project_id,year,sector,paid_in_usd\nA,2024,services,20000000\nB,2021,services,20000000\n"
                   "C,2023,services,20000000\nD,2022,services,20000000\n", encoding="utf-8")
    out, summary = tmp_path / "out.csv", tmp_path / "summary.json"
    result = fdi("batch", src, "-o", out, "--summary-json", summary, "--no-progress")
    assert result.exit_code == 0, result.output
    cells = [r["fx_source"] for r in csv.DictReader(out.open(encoding="utf-8"))]
    assert cells == ["ECB cross, 2024 average", "ECB cross, 2021 average", "ECB cross, 2023 average", "ECB cross, 2022 average"]
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert data["fx_sources"] == [f"ECB cross, {y} average" for y in (2021, 2022, 2023, 2024)]
    said = json.dumps(data)
    assert said.count("not the PBOC central parity") == 1 and "--fx-table" in said
    shown = " ".join(result.output.split())
    assert shown.count("not the PBOC central parity") == 1


ONE_YEAR = [CALC, ["calc", "--year", "2024", "--sector", "services", "--paid-in-usd", "12000000", "--reinvested-profit-cny",
                   "5000000", "--fx-rate", "7.1"],
            ["calc", "--year", "2025", "--sector", "services", "--paid-in", "12000000", "--currency", "EUR"],
            ["calc", "--year", "2024", "--industry-code", "K7010", "--paid-in-usd", "20000000", "--fx-rate", "7.1"],
            ["calc", "--year", "2021", "--sector", "manufacturing", "--paid-in-usd", "8000000", "--fx-rate", "6.5"]]


@pytest.mark.parametrize("args", ONE_YEAR, ids=lambda a: " ".join(a[1:5]))
def test_a_one_year_calc_fits_a_40_line_terminal_with_its_caveats_a_line_each(args):
    """Issue 22 #25: one year printed about 100 lines at 80 columns. It fits 40 lines: each caveat a
    line under its id; the full texts with --caveats (and in `fdi policy show`)."""
    short = runner.invoke(app, args, env={"COLUMNS": "80"})
    assert short.exit_code == 0, short.output
    lines = short.output.splitlines()
    assert len(lines) <= 40, short.output
    assert max(len(line) for line in lines) <= 80
    for needed in ["payout", "rounded once", "base", "[floor-rates]", "[fx-rate]", "--caveats"]:
        assert needed in short.output, needed
    full = runner.invoke(app, [*args, "--caveats"], env={"COLUMNS": "80"})
    assert full.exit_code == 0 and len(full.output.splitlines()) > len(lines)
    assert "no bureau uses that rate" in " ".join(full.output.split())  # a caveat's full text
    assert "no bureau uses that rate" not in " ".join(short.output.split())


def test_services_are_shown_as_category_other_with_the_sector_that_put_them_there():
    """Issue 22 #28: `services` was reported as category `other`, and a reader could not see why."""
    calc = fdi("calc", "--year", "2024", "--sector", "services", "--paid-in-usd", "20000000", "--fx-rate", "7.1")
    assert re.search(r"category\s+│\s+other \(services\)", calc.output), calc.output
    plan = fdi("plan", "--total-usd", "30000000", "--years", "2024-2025", "--sector", "services", "--fx-rate", "7.1")
    assert "of other (services) capital" in " ".join(plan.output.split()), plan.output
    same = fdi("calc", "--year", "2024", "--sector", "manufacturing", "--paid-in-usd", "20000000", "--fx-rate", "7.1")
    assert "manufacturing (manufacturing)" not in same.output


def test_a_sheets_project_name_labels_its_rows_and_a_total_that_differs_exits_1(tmp_path):
    """Issue 22 #28: with no id column, a sheet's 项目名称 labels the rows in errors and the summary;
    a 合计 that does not match the rows above it exits 1, naming the row."""
    src = tmp_path / "in.csv"
    src.write_text("项目名称,年份,行业,实际到位外资（万美元）,汇率\n长安新厂,2024,汽车,3500,7.1\n西永二期,2024,火箭,1200,7.1\n"
                   "合计,,,4800,\n", encoding="utf-8")
    summary = tmp_path / "s.json"
    result = fdi("batch", src, "-o", tmp_path / "o.csv", "--summary-json", summary, "--no-progress")
    assert result.exit_code == ExitCode.ROW_ERRORS, result.output
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert data["first_errors"][0]["project_name"] == "西永二期"
    assert "(西永二期)" in result.output
    assert "line 4 (合计)" in " ".join(result.output.split())
    # the rows right, the total wrong: exit 1 all the same, naming the row
    src.write_text("项目名称,年份,行业,实际到位外资（万美元）,汇率\n长安新厂,2024,汽车,3500,7.1\n西永二期,2024,电子信息,1200,7.1\n"
                   "合计,,,4800,\n", encoding="utf-8")
    result = fdi("batch", src, "-o", tmp_path / "o.csv", "--no-progress")
    assert result.exit_code == ExitCode.ROW_ERRORS, result.output
    assert re.search(r"line 4 \(合计\).*does not match", " ".join(result.output.split())), result.output
    src.write_text("项目名称,年份,行业,实际到位外资（万美元）,汇率\n长安新厂,2024,汽车,3500,7.1\n西永二期,2024,电子信息,1200,7.1\n"
                   "合计,,,4700,\n", encoding="utf-8")
    assert fdi("batch", src, "-o", tmp_path / "o.csv", "--no-progress").exit_code == 0


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(2019, 2025), min_size=1, max_size=12), st.booleans())
def test_any_years_in_any_order_name_their_ecb_rate_briefly_sorted_and_explained_once(tmp_path, years, dated):
    """The family of #24: rows of any years in any order, undated (a year's average) or a ledger's
    dated arrivals: each cell a short name, the summary's sources sorted, the explanation once."""
    import csv

    from fdi_incentive.batch import score_file

    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    if dated:
        src.write_text("project_id,date,type,amount,sector\n" + "".join(
            f"P{i},{y}-03-1{i % 10},equity,20000000,services\n" for i, y in enumerate(years)), encoding="utf-8")
    else:
        src.write_text("project_id,year,sector,paid_in_usd\n" + "".join(
            f"P{i},{y},services,20000000\n" for i, y in enumerate(years)), encoding="utf-8")
    summary = score_file(src, out)
    cells = [r["fx_source"] for r in csv.DictReader(out.open(encoding="utf-8-sig"))]
    assert all(c.startswith("ECB cross, ") and len(c) <= 60 for c in cells), cells
    assert summary.fx_sources == sorted(set(summary.fx_sources))
    assert sum("not the PBOC central parity" in n for n in summary.notes) == 1
