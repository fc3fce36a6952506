"""Files the user has are never lost or overwritten, temporary files never left behind, and
policies that validate are policies every engine applies alike."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from fdi_incentive import PolicyError, Project, assess
from fdi_incentive.batch import score_file
from fdi_incentive.cli import app
from fdi_incentive.frame import Options
from fdi_incentive.policy import parse_policy

from .strategies import policy_edits, policy_rows

ROOT = Path(__file__).parents[1]
SHIPPED = ROOT / "src" / "fdi_incentive" / "policies" / "cn-cq-2023.toml"
runner = CliRunner()


def fdi(*args):
    return runner.invoke(app, [str(a) for a in args])


def shipped(*edits: tuple[str, str]) -> str:
    """The shipped 2023 policy's text with each (old, new) replaced once."""
    text = SHIPPED.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def small_csv(path: Path, rows: int = 3) -> Path:
    lines = ["project_id,year,sector,paid_in_usd,fx_rate"] + [f"P{i},2024,manufacturing,{40000000 + i * 123457},7.1"
                                                             for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def env() -> dict:
    import fdi_incentive

    return {**os.environ, "PYTHONPATH": str(Path(fdi_incentive.__file__).parents[1])}  # (the code under test)


# --- item 6: a rounding quantum is applied alike by calc and batch, or refused ------------------

QUANTA = ["0.01", "0.1", "1", "10", "100", "1000", "10000"]


@pytest.mark.parametrize("quantum", QUANTA)
@pytest.mark.parametrize("mode", ["half_up", "half_even", "down", "up"])
def test_every_allowed_quantum_rounds_alike_in_calc_and_batch(tmp_path, quantum, mode):
    path = tmp_path / "p.toml"
    path.write_text(shipped(('\nquantum = "0.01"', f'\nquantum = "{quantum}"'), ('mode = "half_up"\nusd', f'mode = "{mode}"\nusd')),
                    encoding="utf-8")
    amounts = ["10000000.01", "15000123", "15000125", "15000175", "30000001.37", "34722222.22", "34999999.99"]
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text("project_id,year,sector,paid_in_usd,fx_rate\n"
                   + "".join(f"P{i},2024,{s},{a},{fx}\n" for i, a in enumerate(amounts)
                             for s in ("services", "manufacturing") for fx in ("7.1", "6.54321"))
                   , encoding="utf-8")
    from fdi_incentive import load_policy_file

    lp = load_policy_file(path)
    score_file(src, out, options=Options(policy=lp))
    import csv

    with out.open(encoding="utf-8") as f:
        got = list(csv.DictReader(f))
    for row in got:
        project = Project.for_year(2024, paid_in=row["paid_in_usd"], sector=row["sector"])
        y = assess(project, policy=str(path), fx=row["fx_rate"]).years[0]
        assert row["incentive_cny"] == json.loads(y.model_dump_json())["incentive_cny"], row
        q = D(quantum)
        assert D(row["incentive_cny"]) % q == 0, row  # rounded to the quantum, not to the yuan


@pytest.mark.parametrize("quantum", ["0.03", "0.001", "1e-100", "100000", "5", "0.25", "1e40", "0"])
def test_a_quantum_no_engine_applies_alike_is_refused(quantum):
    with pytest.raises(PolicyError, match=r"rounding\.quantum: .*0\.01, 0\.1, 1, 10, 100, 1000 or 10000"):
        parse_policy(shipped(('\nquantum = "0.01"', f'\nquantum = "{quantum}"')), "x.toml")


def test_a_usd_quantum_other_than_the_cent_is_refused():
    with pytest.raises(PolicyError, match=r"rounding\.usd_quantum: .*0\.01"):
        parse_policy(shipped(('usd_quantum = "0.01"', 'usd_quantum = "1"')), "x.toml")


# --- item 13: what validates, every engine can apply -------------------------------------------

@pytest.mark.parametrize("old, new, message", [
    ('amount = "10000000"\ncurrency = "CNY"', 'amount = "1e40"\ncurrency = "CNY"', r"cap\.amount: .*expected a number below 100000000000000"),
    ('amount = "10000000", currency = "USD"', 'amount = "1' + "0" * 100 + '", currency = "USD"', r"threshold\.amount: .*expected a number below 100000000000000"),
    ('rate = "0.02"', 'rate = "1e-30"', r"rate: .*at most 8 decimals"),
    ('rate = "0.02"', 'rate = "0.020000001"', r"rate: .*at most 8 decimals"),
    ('amount = "10000000", currency = "USD"', 'amount = "10000000.001", currency = "USD"', r"threshold\.amount: .*to the cent"),
    ('amount = "10000000"\ncurrency = "CNY"', 'amount = "0.001"\ncurrency = "CNY"', r"cap\.amount: .*to the fen"),
])
def test_bounds_the_engines_cannot_apply_are_refused_on_validation(old, new, message):
    text = SHIPPED.read_text(encoding="utf-8")
    assert old in text
    with pytest.raises(PolicyError, match=message):
        parse_policy(text.replace(old, new, 1), "x.toml")


def _policy_text(edits: dict) -> str:
    """The shipped 2023 policy with tiers, cap and rounding as ``edits`` give them (see strategies.policy_edits)."""
    head, _, rest = SHIPPED.read_text(encoding="utf-8").partition("[[tiers]]")
    rest = rest[rest.index("[exclusions]"):]
    tiers = "".join(
        f'[[tiers]]\nid = "t{i}"\nlabel = "tier {i}"\ncategories = {json.dumps(cats)}\n'
        f'threshold = {{ amount = "{amount}", currency = "USD", comparator = "{cmp}" }}\n'
        f'rate = "{rate}"\nrate_type = "floor"\ncitation = "c"\n\n'
        for i, (cats, amount, cmp, rate) in enumerate(edits["tiers"]))
    cap = f'amount = "{edits["cap"]}"\n' if edits["cap"] is not None else ""
    for old, new in (('amount = "10000000"\ncurrency = "CNY"', cap + 'currency = "CNY"'),
                     ('quantum = "0.01"\nmode = "half_up"', f'quantum = "{edits["quantum"]}"\nmode = "{edits["mode"]}"')):
        assert old in rest, old
        rest = rest.replace(old, new)
    return head + tiers + rest


# (a long run: FDI_FUZZ_POLICIES=1000 ... pytest tests/test_files.py -k validates_scores --hypothesis-show-statistics)
@settings(max_examples=int(os.environ.get("FDI_FUZZ_POLICIES", 40)), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(edits=policy_edits(), rows=policy_rows)
@example(edits={"tiers": [([], "1e40", "gt", "0.02")], "cap": None, "quantum": "0.01", "mode": "half_up"}, rows=[("1", "7.1")])
@example(edits={"tiers": [([], "1", "gt", "1e-30")], "cap": "1e40", "quantum": "1e-100", "mode": "up"}, rows=[("1", "7.1")])
@example(edits={"tiers": [([], "10000000", "gt", "0.64701226")], "cap": None, "quantum": "0.01", "mode": "half_up"},
         rows=[("99999999999999.99", "7.5284")])  # (a gross of 30 digits: calc wrote it rounded to 28)
def test_every_policy_that_validates_scores_alike_in_calc_and_batch(tmp_path_factory, edits, rows):
    tmp = tmp_path_factory.mktemp("policy")
    text = _policy_text(edits)
    try:
        lp = parse_policy(text, "gen.toml")
    except PolicyError as exc:
        assert all(line.startswith("gen.toml: ") for line in str(exc).splitlines())
        event("refused by validation")
        return
    event("valid: scored in calc and batch")
    path = tmp / "gen.toml"
    path.write_text(text, encoding="utf-8")
    src, out = tmp / "in.csv", tmp / "out.csv"
    src.write_text("project_id,year,sector,paid_in_usd,fx_rate\n"
                   + "".join(f"P{i},2024,{s},{a},{fx}\n" for i, (a, fx) in enumerate(rows) for s in ("services", "manufacturing")),
                   encoding="utf-8")
    summary = score_file(src, out, options=Options(policy=lp))
    import csv

    with out.open(encoding="utf-8") as f:
        got = list(csv.DictReader(f))
    assert len(got) == summary.rows == 2 * len(rows) and summary.errors == 0, summary.first_errors
    for row in got:
        y = json.loads(assess(Project.for_year(2024, paid_in=row["paid_in_usd"], sector=row["sector"]),
                              policy=str(path), fx=row["fx_rate"]).years[0].model_dump_json())
        for key in ("tier", "base_cny", "gross_cny", "capped", "incentive_cny"):
            expected = "" if y[key] is None else str(y[key]).lower() if isinstance(y[key], bool) else str(y[key])
            assert row[key] == expected, (key, row)


# --- item 19: what a policy may hold is bounded, and the bound is stated --------------------------

def test_a_policy_file_past_its_size_limit_is_refused_before_it_is_parsed(tmp_path):
    path = tmp_path / "big.toml"
    path.write_text(shipped() + "\n# " + "x" * (1 << 20) + "\n", encoding="utf-8")
    result = fdi("policy", "validate", path)
    assert result.exit_code == 2
    assert "at most 262,144 bytes" in result.output and len(result.output) < 400


def test_a_million_caveat_integers_give_a_short_error_quickly(tmp_path):
    path = tmp_path / "many.toml"
    path.write_text("caveats = [" + ",".join(["1"] * 100_000) + "]\n" + shipped().split("[[caveats]]")[0], encoding="utf-8")
    started = time.perf_counter()
    result = fdi("policy", "validate", path)
    assert result.exit_code == 2 and time.perf_counter() - started < 5
    assert "caveats: at most 100 caveats" in result.output and len(result.output) < 2000


def test_too_many_tiers_are_refused_naming_the_limit():
    tier = shipped().split("[[tiers]]")[1].split("[exclusions]")[0]
    many = "".join("[[tiers]]" + tier.replace('id = "general"', f'id = "g{i}"') for i in range(60))
    text = shipped().replace("[[tiers]]" + tier, many, 1)
    with pytest.raises(PolicyError, match=r"tiers: at most 50 tiers"):
        parse_policy(text, "x.toml")


def test_a_long_string_is_refused_naming_the_limit():
    with pytest.raises(PolicyError, match=r"title: at most 4,000 characters"):
        parse_policy(shipped(('title = "Chongqing', 'title = "' + "x" * 5000 + 'Chongqing')), "x.toml")


def test_the_limits_are_stated_in_the_schema():
    from fdi_incentive.policy import Policy

    schema = json.dumps(Policy.model_json_schema())
    assert '"maxItems": 50' in schema and '"maxItems": 100' in schema and '"maxLength": 4000' in schema
    assert "at most 256 KiB" in schema and "below 100000000000000" in schema


# --- items 14 and 23: nested and BOM-led files ----------------------------------------------------

@pytest.mark.parametrize("depth", [1000, 100_000])
def test_deeply_nested_policy_and_project_files_are_one_line_errors(tmp_path, depth):
    policy = tmp_path / "deep.toml"
    policy.write_text("x = " + "[" * depth + "]" * depth + "\n", encoding="utf-8")
    for args in (("policy", "validate", policy),
                 ("calc", "--project", policy),
                 ("calc", "--year", "2024", "--paid-in-usd", "1", "--policy", policy)):
        result = fdi(*args)
        assert result.exit_code == 2 and result.output.count("\n") == 1 and "nested" in result.output, (args, result.output)
    project = tmp_path / "deep.json"
    project.write_text('{"arrivals": ' + "[" * depth + "]" * depth + "}", encoding="utf-8")
    result = fdi("calc", "--project", project)
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "nested" in result.output, result.output


@pytest.mark.parametrize("parts", [150, 3000])
@pytest.mark.parametrize("shape", ["a.", "a . ", '"a".', "[a."])
@pytest.mark.parametrize("where", ["policy", "project"])
def test_a_key_of_too_many_dotted_parts_is_refused_before_it_is_parsed(tmp_path, parts, shape, where):
    # (80,000 parts, 160 KB, once took 23 GB of memory; 20,000 took 9 s)
    key = shape.removeprefix("[") * parts + "b"
    extra = f"[{key}]\nc = 1\n" if shape.startswith("[") else f"{key} = 1\n"
    path = tmp_path / "deep.toml"
    if where == "policy":
        path.write_text(shipped() + "\n" + extra, encoding="utf-8")
        args = ("policy", "validate", path)
    else:
        path.write_text('sector = "services"\n' + extra, encoding="utf-8")
        args = ("calc", "--project", path)
    result = fdi(*args)
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "nested" in result.output, result.output
    assert "100 dotted parts" in result.output, result.output


def test_a_policy_file_beginning_with_a_bom_is_read(tmp_path):
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + SHIPPED.read_bytes())
    result = fdi("policy", "validate", path)
    assert result.exit_code == 0, result.output
    import hashlib

    assert hashlib.sha256(path.read_bytes()).hexdigest() in result.output  # the file's own hash, BOM and all


# --- item 24 ---------------------------------------------------------------------------------------

def test_a_year_fixed_twice_in_a_plan_is_an_error():
    result = fdi("plan", "--total-usd", "30000000", "--years", "2024-2025", "--sector", "services", "--fx-rate", "7.1",
                 "--fixed", "2024=1", "--fixed", "2024=2")
    assert result.exit_code == 2 and "--fixed: 2024 is fixed twice" in result.output


# --- item 7: the old -o file is replaced in one step ----------------------------------------------

def test_the_old_output_is_replaced_by_one_rename_never_removed_first(tmp_path, monkeypatch):
    src, out = small_csv(tmp_path / "in.csv"), tmp_path / "keep.csv"
    out.write_text("the user's file\n", encoding="utf-8")
    seen = []
    real = os.replace

    def replace(a, b, *args, **kwargs):
        if Path(b) == out:
            seen.append(out.read_text(encoding="utf-8"))  # (still there, whole, until the rename)
        return real(a, b, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    score_file(src, out)
    assert seen == ["the user's file\n"] and out.read_text(encoding="utf-8").startswith("project_id")


# --- item 8: no output may replace a file the run reads -------------------------------------------

def _aliases(tmp_path: Path, target: Path) -> list[Path]:
    """Other names of ``target``: relative, through a symlinked folder, a symlink, a hard link."""
    (tmp_path / "via").symlink_to(tmp_path)
    (tmp_path / "sym.toml").symlink_to(target)
    os.link(target, tmp_path / "hard.toml")
    return [Path(os.path.relpath(target)), tmp_path / "via" / target.name, tmp_path / "sym.toml", tmp_path / "hard.toml",
            tmp_path / "." / target.name]


@pytest.mark.parametrize("option", ["--summary-json", "-o"])
@pytest.mark.parametrize("read", ["--policy", "--fx-table", "--projects", "INPUT"])
def test_no_output_replaces_a_file_the_run_reads(tmp_path, monkeypatch, option, read):
    monkeypatch.chdir(tmp_path)
    src = small_csv(tmp_path / "in.csv")
    files = {"--policy": tmp_path / "pol.toml", "--fx-table": tmp_path / "rates.csv", "--projects": tmp_path / "projects.csv",
             "INPUT": src}
    files["--policy"].write_text(SHIPPED.read_text(encoding="utf-8"), encoding="utf-8")
    files["--fx-table"].write_text("date,currency,rate\n2024-01-02,USD,7.1\n", encoding="utf-8")
    files["--projects"].write_text("project_id,kind,sector\nP1,new,services\n", encoding="utf-8")
    before = {name: p.read_bytes() for name, p in files.items()}
    for alias in _aliases(tmp_path, files[read]):
        args = ["batch", src] + [a for name in ("--policy", "--fx-table", "--projects") for a in (name, files[name])]
        outputs = {"-o": tmp_path / "out.csv", "--summary-json": tmp_path / "s.json"}
        outputs[option] = alias
        args += [a for name, p in outputs.items() for a in (name, p)]
        result = fdi(*args)
        assert result.exit_code == 2, (alias, result.output)
        if alias.suffix != ".toml":  # (-o my.toml is refused for its name first)
            assert "other files the run reads or writes" in result.output, result.output
        assert {name: p.read_bytes() for name, p in files.items()} == before
    (tmp_path / "via").unlink()


def test_two_outputs_on_one_file_are_refused(tmp_path, monkeypatch):
    src = small_csv(tmp_path / "in.csv")
    result = fdi("batch", src, "-o", tmp_path / "out.csv", "--summary-json", tmp_path / "." / "out.csv")
    assert result.exit_code == 2 and "--summary-json" in result.output and not (tmp_path / "out.csv").exists()


# --- item 10: every output's folder is checked before any work -------------------------------------

def test_an_unwritable_summary_folder_is_found_before_the_output_is_replaced(tmp_path):
    """/proc is a folder no one can make a file in (root neither, who may write anywhere else)."""
    src, out = small_csv(tmp_path / "in.csv"), tmp_path / "out.csv"
    out.write_text("old\n", encoding="utf-8")
    result = fdi("batch", src, "-o", out, "--summary-json", "/proc/fdi-summary.json")
    assert result.exit_code == 2, result.output
    assert result.output.startswith("fdi: error: --summary-json: '/proc/fdi-summary.json'") and result.output.count("\n") == 1
    assert out.read_text(encoding="utf-8") == "old\n"


@pytest.mark.parametrize("under", [("out.csv",), ("sub", "out.csv")])
@pytest.mark.parametrize("option", ["-o", "--summary-json"])
def test_an_output_under_a_file_says_the_file_is_not_a_folder(tmp_path, under, option):
    """`-o eur.csv/out.csv` where eur.csv is a file said the folder eur.csv did not exist."""
    src = small_csv(tmp_path / "in.csv")
    target = tmp_path.joinpath("in.csv", *under)
    args = ["-o", target] if option == "-o" else ["-o", tmp_path / "out.csv", "--summary-json", target]
    result = fdi("batch", src, *args)
    said = " ".join(result.output.split())
    assert result.exit_code == 2 and "does not exist" not in said, said
    assert f"{tmp_path / 'in.csv'} is a file, not a folder" in said and said.startswith(f"fdi: error: {option}")


def test_the_excel_row_limit_error_names_the_output(tmp_path, monkeypatch):
    import fdi_incentive.io.writers as writers

    monkeypatch.setattr(writers, "EXCEL_MAX_ROWS", 3)
    src, out = small_csv(tmp_path / "in.csv", rows=5), tmp_path / "out.xlsx"
    result = fdi("batch", src, "-o", out)
    assert result.exit_code == 2
    assert f"-o: {str(out)!r}" in result.output or f"-o: {out}" in result.output, result.output
    assert ".part" not in result.output and not list(tmp_path.glob(".*part"))


# --- item 16: a full disk while Parquet is written ------------------------------------------------

FULL_DISK = ("import resource, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
             "resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000)); "
             "from fdi_incentive.cli import main; sys.exit(main(sys.argv[1:]))")


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl", ".xlsx"])
def test_a_full_disk_is_one_line_and_the_old_output_is_kept(tmp_path, suffix):
    """A file may not grow past 20,000 bytes (RLIMIT_FSIZE: each write past it fails with EFBIG,
    as on a full disk)."""
    src, out = tmp_path / "in.csv", tmp_path / f"out{suffix}"
    subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "3000", str(src)], check=True)
    out.write_bytes(b"old")
    done = subprocess.run([sys.executable, "-c", FULL_DISK, "batch", str(src), "-o", str(out)], env=env(),
                          capture_output=True, text=True)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr
    assert f"-o: {str(out)!r}" in done.stderr or str(out) in done.stderr
    assert ".part" not in done.stderr
    assert out.read_bytes() == b"old" and not list(tmp_path.glob(".*part"))


# --- item 9: signals clean up; a killed run's leftovers go at the next run -----------------------

SLOW = ("import sys, time\n"  # a run held just before its rows are written (its temporary files all made)
        "import fdi_incentive.io.writers as writers\n"
        "write_all = writers.BatchWriter.write_all\n"
        "def slow(self, *a, **k):\n"
        "    print('scoring', flush=True)\n"
        "    for _ in range(300): time.sleep(0.1)\n"  # (a signal a polars thread receives is seen at the next step)
        "    return write_all(self, *a, **k)\n"
        "writers.BatchWriter.write_all = slow\n"
        "from fdi_incentive.cli import main; sys.exit(main(sys.argv[1:]))\n")


def _started(proc) -> None:
    line = proc.stdout.readline()
    assert "scoring" in line, line + proc.stderr.read()


@pytest.mark.parametrize("sig, source", [(signal.SIGTERM, "in.csv"), (signal.SIGTERM, "in.jsonl"), (signal.SIGTERM, "gbk.csv"),
                                         (signal.SIGHUP, "in.jsonl"), (signal.SIGINT, "gbk.csv")])
def test_a_signal_leaves_the_old_output_and_no_temporary_file(tmp_path, sig, source):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    src = tmp_path / source
    if source == "in.jsonl":
        src.write_text('{"project_id": "P1", "year": 2024, "sector": "services", "paid_in_usd": "15000000", "fx_rate": "7.1"}\n',
                       encoding="utf-8")
    elif source == "gbk.csv":
        src.write_bytes("项目编号,年份,行业,实际到位外资,汇率\n渝A,2024,制造业,40000000,7.1\n".encode("gbk"))
    else:
        small_csv(src)
    out = tmp_path / "keep.csv"
    out.write_text("old\n", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-c", SLOW, "batch", str(src), "-o", str(out), "--no-progress"],
                            env={**env(), "TMPDIR": str(scratch)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _started(proc)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig and "Traceback" not in err, err
    assert out.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([source, "keep.csv", "tmp"])
    assert list(scratch.iterdir()) == []


def test_a_killed_runs_leftovers_are_removed_by_the_next_run_and_no_others(tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    src, out = small_csv(tmp_path / "in.csv"), tmp_path / "keep.csv"
    out.write_text("old\n", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-c", SLOW, "batch", str(src), "-o", str(out), "--no-progress"],
                            env={**env(), "TMPDIR": str(scratch)}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _started(proc)
    proc.kill()
    proc.wait()
    left = [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] + [p.name for p in scratch.iterdir()]
    assert left and all(str(proc.pid) in name for name in left)  # (what SIGKILL leaves, named by its run)
    # a live process's parts, and files that only look like parts, are left alone
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        ended = [p.name for p in scratch.iterdir()][0]  # (the killed run's folder: a user's copy of it, with notes, stays)
        others = [tmp_path / f".keep.csv.{alive.pid}.abc.part", tmp_path / ".keep.csv.notapid.part",
                  tmp_path / f".other.csv.{proc.pid}.abc.part", scratch / f"fdi-run-{alive.pid}-abc",
                  tmp_path / f".keep.csv.{proc.pid}.0123456789abcdef.part", scratch / f"fdi-run-{proc.pid}-{'0' * 16}",
                  scratch / f"fdi-{proc.pid}-abcdefgh.csv", scratch / ended.replace("fdi-run-", "fdi-run-1")]
        for p in others:
            p.mkdir() if p.parent == scratch and "run" in p.name else p.write_text("x")
        shutil.copytree(scratch / ended, others[-1], dirs_exist_ok=True)
        (others[-1] / "notes.txt").write_text("mine")
        done = subprocess.run([sys.executable, "-m", "fdi_incentive", "batch", str(src), "-o", str(out)], env={**env(), "TMPDIR": str(scratch)},
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert sorted(p.name for p in tmp_path.glob(".*")) == sorted(p.name for p in others if p.parent == tmp_path)
        assert sorted(p.name for p in scratch.iterdir()) == sorted(p.name for p in others if p.parent == scratch)
        assert (others[-1] / "notes.txt").read_text() == "mine"
    finally:
        alive.kill()
        alive.wait()


def test_a_users_files_that_look_like_temporary_files_are_never_removed(tmp_path):
    # (a run once took any fdi-<digits>-<word>.<ext> or fdi-run-<digits>-<word> whose "process" had ended for a
    # leftover of its own, and removed the user's report and folder of notes)
    scratch = tmp_path / "t"
    scratch.mkdir()
    (scratch / "fdi-2024-report.csv").write_text("precious\n", encoding="utf-8")
    (scratch / "fdi-run-2023-budget").mkdir()
    (scratch / "fdi-run-2023-budget" / "notes.txt").write_text("x\n", encoding="utf-8")
    src = tmp_path / "small.csv"
    src.write_text("project_id,year,sector,paid_in_usd,fx_rate\nP1,2024,services,15000000,7.1\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "fdi_incentive", "batch", str(src), "-o", str(tmp_path / "x.csv")],
                          env={**env(), "TMPDIR": str(scratch)}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (scratch / "fdi-2024-report.csv").read_text(encoding="utf-8") == "precious\n"
    assert (scratch / "fdi-run-2023-budget" / "notes.txt").read_text(encoding="utf-8") == "x\n"
    assert sorted(p.name for p in scratch.iterdir()) == ["fdi-2024-report.csv", "fdi-run-2023-budget"]


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


DEAD_PID = _dead_pid()
_word = st.one_of(st.text("abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=20),
                  st.text("0123456789abcdef", min_size=8, max_size=24))
_pid = st.one_of(st.just(DEAD_PID), st.integers(5_000_000, 2**31 - 1))
_content = st.sampled_from(["none", "notes", "marker", "marker+notes"])


@st.composite
def lookalikes(draw, out_name: str):
    """Names of a user's files and folders shaped like a run's temporary ones, with ended "processes"."""
    pid, word = draw(_pid), draw(_word)
    where, name = draw(st.sampled_from([
        ("tmp", f"fdi-{pid}-{word}.{draw(st.sampled_from(['csv', 'txt', 'parquet', 'xlsx']))}"),
        ("tmp", f"fdi-run-{pid}-{word}"),
        ("tmp", f"fdi-{pid}-{word}"),
        ("out", f".{out_name}.{pid}.{word}.part"),
        # (a part beside another output of that folder: removed too, when it is certainly a run's)
        ("out", f".{draw(st.sampled_from(['report.xlsx', 'a.b.json', out_name + '.1', '.x']))}.{pid}.{word}.part"),
    ]))
    return where, name, draw(st.booleans()), draw(_content), pid, word


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(made=st.lists(lookalikes("out.csv"), min_size=1, max_size=5, unique_by=lambda m: (m[0], m[1])))
def test_no_file_or_folder_of_the_users_is_taken_for_a_leftover(tmp_path_factory, made):
    import tempfile

    base = tmp_path_factory.mktemp("lookalike")
    scratch = base / "tmp"
    scratch.mkdir()
    src, out = small_csv(base / "in.csv"), base / "out.csv"
    before = {}
    for where, name, is_folder, content, pid, word in made:
        path = (scratch if where == "tmp" else base) / name
        if is_folder:
            path.mkdir()
            if "marker" in content:  # (a file named like a run's marker, but not the marker a run writes)
                (path / ".fdi-run").write_text(f"fdi-incentive run folder\npid {pid}\n", encoding="utf-8")
            if "notes" in content:
                (path / "notes.txt").write_text("mine", encoding="utf-8")
        else:
            path.write_text("mine", encoding="utf-8")
    for path in [*scratch.rglob("*"), *base.glob(".*")]:
        before[path] = path.read_text(encoding="utf-8") if path.is_file() else None
    event(f"{len(made)} look-alikes")
    saved = tempfile.tempdir
    tempfile.tempdir = str(scratch)
    try:
        score_file(src, out)
    finally:
        tempfile.tempdir = saved
    after = {path: path.read_text(encoding="utf-8") if path.is_file() else None
             for path in [*scratch.rglob("*"), *base.glob(".*")]}
    assert after == before


# --- the family: any spelling of a file the run reads is refused as an output, any other file is not

spelling = st.lists(st.sampled_from(["relative", "dot", "up", "via-link", "symlink", "hardlink", "double-slash"]),
                    min_size=1, max_size=4)


def _spell(base: Path, target: Path, ways: list[str], n: int) -> Path:
    """``target`` named another way, the ways applied in turn (the links made in ``base``)."""
    path = target
    for way in ways:
        if way == "relative":
            path = Path(os.path.relpath(path.resolve(), base))
        elif way == "dot":
            path = path.parent / "." / path.name
        elif way == "up":
            path = path.parent / "sub" / ".." / path.name
        elif way == "via-link":
            link = base / f"via{n}"
            if not link.exists():
                link.symlink_to(path.resolve().parent)
            path = link / path.name
        elif way == "symlink":
            link = base / f"sym{n}-{path.name}"
            if not link.exists():
                link.symlink_to(path.resolve())
            path = link
        elif way == "hardlink":
            link = base / f"hard{n}-{path.name}"
            if not link.exists():
                os.link(path.resolve(), link)
            path = link
        else:
            path = Path(str(path.parent) + "//" + path.name)
    return path


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.integers(0, 3), ways=spelling, option=st.sampled_from(["-o", "--summary-json"]))
def test_any_name_of_a_file_the_run_reads_is_refused_as_an_output(tmp_path_factory, which, ways, option):
    from fdi_incentive.errors import InputError
    from fdi_incentive.io.writers import check_outputs

    base = tmp_path_factory.mktemp("alias")
    (base / "sub").mkdir()
    reads = [base / name for name in ("in.csv", "projects.csv", "rates.csv", "policy.toml")]
    for p in reads:
        p.write_text(p.name, encoding="utf-8")
    cwd = os.getcwd()
    os.chdir(base)
    try:
        alias = _spell(base, reads[which], ways, 0)
        with pytest.raises(InputError, match=re.escape(option)):
            check_outputs({option: alias}, reads)
        other = base / "out.csv"  # (a new file, spelt the same ways: allowed)
        other.write_text("old", encoding="utf-8")
        check_outputs({option: _spell(base, other, ways, 1)}, reads)
        other.unlink()
    finally:
        os.chdir(cwd)
    assert [p.read_text(encoding="utf-8") for p in reads] == [p.name for p in reads]
    assert not list(base.glob(".*part"))


def test_a_crash_while_json_lines_are_converted_leaves_no_temporary_file(tmp_path, monkeypatch):
    import tempfile

    import fdi_incentive.io.jsonl as sheets  # (where JSON Lines are converted)

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    src = tmp_path / "in.jsonl"
    src.write_text('{"project_id": "P1", "year": 2024, "paid_in_usd": "15000000"}\n', encoding="utf-8")

    def crash(value):
        raise RuntimeError("a bug while converting")

    monkeypatch.setattr(sheets, "_json_cell", crash)
    with pytest.raises(RuntimeError, match="a bug while converting"):
        score_file(src, tmp_path / "out.csv")
    assert list(scratch.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "tmp"]


# --- the family: nesting of any depth and shape in a policy or project file is a one-line error ---

def _nested(depth: int, shape: str, toml: bool) -> str:
    if shape == "array" or (shape == "dotted" and not toml):
        return "[" * depth + "1" + "]" * depth
    if toml:
        return "{a = " * depth + "1" + "}" * depth
    return '{"a": ' * depth + "1" + "}" * depth


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(depth=st.one_of(st.integers(1, 50), st.integers(95, 105), st.integers(900, 1100), st.integers(2000, 20000)),
       shape=st.sampled_from(["array", "table", "dotted", "header"]),
       where=st.sampled_from(["policy", "project.toml", "project.json"]),
       bom=st.booleans())
def test_any_nesting_in_a_policy_or_project_file_is_a_one_line_error(tmp_path_factory, depth, shape, where, bom):
    base = tmp_path_factory.mktemp("nest")
    toml = where != "project.json"
    value = _nested(depth, shape, toml)
    # (a dotted key or a [table.header] of `depth` parts: TOML only, at the file's end)
    dotted = {"dotted": "extra." + "a." * depth + "b = 1\n",
              "header": "[extra." + "a." * depth + "b]\nc = 1\n"}.get(shape) if toml else None
    if where == "policy":
        path = base / "deep.toml"
        text = (shipped() + "\n" + dotted if dotted
                else shipped().replace('jurisdiction = "', f"extra = {value}\njurisdiction = \"", 1))
        args = ("policy", "validate", path)
    elif toml:
        path = base / "deep.toml"
        text = f"sector = \"services\"\n" + (dotted or f"extra = {value}\n")
        args = ("calc", "--project", path)
    else:
        path = base / "deep.json"
        text = f'{{"sector": "services", "extra": {value}}}'
        args = ("calc", "--project", path)
    path.write_text(("\ufeff" if bom else "") + text, encoding="utf-8")
    result = fdi(*args)
    # (one line; or, where the file was read, one per problem: the extra key, a missing one)
    lines = result.output.splitlines()
    assert result.exit_code == 2 and lines[0].startswith("fdi: error: ") and len(result.output) < 2000, result.output
    assert all(line.startswith(str(path)) for line in lines[1:]), result.output
    assert isinstance(result.exception, SystemExit), result.exception  # (no other exception escaped)
