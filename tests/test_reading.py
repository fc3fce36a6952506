"""Reading an input: every row read as the file holds it, whatever its quotes, line ends, encoding,
merged cells or clashing columns; nothing pooled, nothing taken silently, no traceback."""

import csv
import functools
import io
import json
import subprocess
import sys
from decimal import Decimal as D
from pathlib import Path

import pytest

import fdi_incentive.io.readers as readers
from fdi_incentive import InputError
from fdi_incentive.batch import score_file
from fdi_incentive.frame import Options
from fdi_incentive.io.readers import csv_blocks, describe

ROOT = Path(__file__).parents[1]
OPTS = Options(fx_rate=D("7.1"))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def fdi(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "fdi_incentive", *args], capture_output=True, text=True, cwd=cwd, env=env)


# --- quotes (item 1) ------------------------------------------------------------------------------

def test_a_quote_inside_a_header_cell_is_a_literal(tmp_path):
    """`no"te` in the header: the column keeps its name and every data row is scored. Every row
    was dropped at exit 0 ("rows 0"): the quote was taken to open a cell running to the end."""
    src, out = tmp_path / "q.csv", tmp_path / "o.csv"
    src.write_bytes(b'project_id,year,sector,paid_in_usd,fx_rate,no"te\nP1,2024,services,15000000,7.1,x\n'
                    b'P2,2024,services,15000000,7.1,y\n')
    summary = score_file(src, out)
    rows = read_csv(out)
    assert summary.rows == 2 and summary.errors == 0
    assert [(r["project_id"], r['no"te'], r["incentive_cny"]) for r in rows] == [("P1", "x", "2130000.00"),
                                                                                ("P2", "y", "2130000.00")]


@pytest.mark.parametrize("cell", ['x"y', 'ab"', '"q"z', 'a""b', 'a"', 'x" y', '"q" '])
def test_a_quote_inside_a_data_cell_is_a_literal_and_costs_no_row(tmp_path, monkeypatch, cell):
    """A quote that does not open a cell is a character of it, in a small file and in a large one
    read in blocks (where it once made the rest of the file one record, refused as a runaway)."""
    good = "P{},2024,services,15000000,7.1,n\n"
    text = "project_id,year,sector,paid_in_usd,fx_rate,note\n" + "".join(good.format(i) for i in range(300))
    text += f"Q1,2024,services,15000000,7.1,{cell}\n" + "".join(good.format(i) for i in range(300, 600))
    src = tmp_path / "in.csv"
    src.write_text(text, encoding="utf-8")
    want = list(csv.reader(io.StringIO(text)))[1:]
    monkeypatch.setattr(readers, "csv_blocks", functools.partial(csv_blocks, block=2048, longest=8192))
    summary = score_file(src, tmp_path / "out.csv")
    rows = read_csv(tmp_path / "out.csv")
    assert summary.rows == len(rows) == len(want) == 601
    assert [[r[k] for k in ("project_id", "year", "sector", "paid_in_usd", "fx_rate", "note")] for r in rows] == want


# --- line ends (item 22) --------------------------------------------------------------------------

def test_a_lone_cr_is_a_character_of_its_cell_on_both_paths(tmp_path):
    """A CR that is not followed by LF stays in its cell, whether polars reads the file or it is
    read row by row (a row longer than the header elsewhere sends it there): the row was split
    in two on the row-by-row path only."""
    body = "P1,2024,services,15000000,7.1,a\rb\nP2,2024,services,15000000,7.1,c\r\n"
    fast, slow = tmp_path / "fast.csv", tmp_path / "slow.csv"
    fast.write_bytes(("project_id,year,sector,paid_in_usd,fx_rate,note\n" + body).encode())
    slow.write_bytes(("project_id,year,sector,paid_in_usd,fx_rate,note\n" + body + "P3,2024,x,1,7.1,n,extra\n").encode())
    a = score_file(fast, tmp_path / "a.csv")
    b = score_file(slow, tmp_path / "b.csv")
    ra, rb = read_csv(tmp_path / "a.csv"), read_csv(tmp_path / "b.csv")
    assert a.rows == 2 and b.rows == 3 and any("row by row" in n for n in b.notes)
    assert [r["note"] for r in ra] == [r["note"] for r in rb[:2]] == ["a\rb", "c"]
    assert ra == rb[:2]


# --- encodings (items 4, 15) ----------------------------------------------------------------------

@pytest.mark.parametrize("codec", ["rot13", "base64", "hex", "zlib", "idna", "punycode", "utf-16", "cp037", "no-such"])
def test_an_encoding_that_cannot_read_the_file_is_a_one_line_error(tmp_path, codec):
    """--encoding with a codec that is not a text encoding, or one that cannot read the file (UTF-16
    without its BOM, EBCDIC): one line, exit 2. rot13 and friends gave a LookupError traceback."""
    src = tmp_path / "in.csv"
    src.write_text("project_id,year,sector,paid_in_usd,fx_rate\nP1,2024,services,15000000,7.1\n", encoding="utf-8")
    with pytest.raises(InputError, match="--encoding"):
        score_file(src, tmp_path / "out.csv", encoding=codec)
    run = fdi("batch", "in.csv", "-o", "out.csv", "--no-progress", "--encoding", codec, cwd=tmp_path)
    assert run.returncode == 2 and "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out.csv").exists()


def test_utf16_named_for_a_file_with_its_bom_is_read(tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes("project_id,year,sector,paid_in_usd,fx_rate\r\nP1,2024,制造业,40000000,7.1\r\n".encode("utf-16"))
    for given in ("utf-16", None):
        summary = score_file(src, tmp_path / "out.csv", encoding=given)
        assert summary.errors == 0 and read_csv(tmp_path / "out.csv")[0]["tier"] == "manufacturing"


def test_gbk_named_or_detected_reads_alike(tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes("项目编号,年份,行业,实际到位外资,汇率\r\n渝A-1,2024,制造业,40000000,7.1\r\n".encode("gbk"))
    for given in ("gbk", "GB18030", "GB2312", "cp936", None):
        score_file(src, tmp_path / "out.csv", encoding=given)
        assert read_csv(tmp_path / "out.csv")[0]["项目编号"] == "渝A-1"


# --- clashing columns (item 5) --------------------------------------------------------------------

def test_columns_naming_the_same_thing_must_agree(tmp_path):
    """`year, 年份, Year` with different values stop the run (exit 2) naming the columns; the same
    values in each are read as one column. The first column was taken silently."""
    src = tmp_path / "in.csv"
    src.write_text("project_id,year,年份,Year,sector,paid_in_usd,fx_rate\nP1,2024,2024,2024,services,15000000,7.1\n"
                   "P2,2024,2019,2020,services,15000000,7.1\n", encoding="utf-8")
    with pytest.raises(InputError, match="year, 年份, Year.*differ on row 2"):
        score_file(src, tmp_path / "out.csv")
    run = fdi("batch", "in.csv", "-o", "out.csv", "--no-progress", cwd=tmp_path)
    assert run.returncode == 2 and "year, 年份, Year" in run.stderr and "Traceback" not in run.stderr
    assert not (tmp_path / "out.csv").exists()
    src.write_text("project_id,year,年份,sector,paid_in_usd,fx_rate\nP1,2024, 2024 ,services,15000000,7.1\n", encoding="utf-8")
    assert score_file(src, tmp_path / "out.csv").errors == 0
    # in a ledger and in Parquet alike
    import polars as pl

    pl.DataFrame({"project_id": ["a", "a"], "项目编号": ["a", "b"], "date": ["2024-03-15"] * 2, "type": ["equity"] * 2,
                  "amount": ["1", "2"], "sector": ["services"] * 2}).write_parquet(tmp_path / "l.parquet")
    with pytest.raises(InputError, match="project_id, 项目编号"):
        score_file(tmp_path / "l.parquet", tmp_path / "out.csv", options=OPTS)


# --- the ledger (items 2, 5, 11) ------------------------------------------------------------------

LEDGER = ["project_id", "date", "type", "amount", "currency", "kind", "sector"]


def write_ledger(path: Path, rows: list[list[str]], header=LEDGER) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *rows])


def test_an_arrival_with_no_project_id_is_an_error_row_of_its_own(tmp_path):
    """Arrivals with a blank project_id were pooled into one phantom project (with the first
    row's sector) and scored, exit 0. Each is now an error row naming its arrival."""
    src = tmp_path / "l.csv"
    write_ledger(src, [["A", "2024-03-15", "equity", "40000000", "USD", "new", "manufacturing"],
                       ["", "2024-03-16", "equity", "40000000", "USD", "new", "services"],
                       ["  ", "2024-03-17", "equity", "40000000", "USD", "new", "finance"]])
    summary = score_file(src, tmp_path / "out.csv", options=OPTS)
    rows = read_csv(tmp_path / "out.csv")
    assert summary.rows == 3 and summary.errors == 2 and summary.arrivals == 3
    assert rows[0]["incentive_cny"] == "10000000.00"
    assert [r["error"] for r in rows[1:]] == ["arrival row 2: project_id: missing", "arrival row 3: project_id: missing"]
    assert all(r["incentive_cny"] == "" for r in rows[1:])


def test_merged_project_cells_in_an_excel_ledger_apply_to_each_row(tmp_path):
    """A project id merged down its arrivals' rows (as a bureau's sheet shows it) is every row's id."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["台账"])
    sheet.merge_cells("A1:G1")
    sheet.append(LEDGER)
    for row in (["A", "2024-03-15", "equity", 20000000, "USD", "new", "manufacturing"],
                [None, "2024-06-15", "equity", 20000000, "USD", None, None],
                ["B", "2024-03-15", "equity", 15000000, "USD", "new", "services"],
                [None, "2025-01-02", "equity", 15000000, "USD", "new", "services"]):
        sheet.append(row)
    sheet.merge_cells("A3:A4")
    sheet.merge_cells("F3:F4")
    sheet.merge_cells("G3:G4")
    sheet.merge_cells("A5:A6")
    book.save(tmp_path / "l.xlsx")
    summary = score_file(tmp_path / "l.xlsx", tmp_path / "out.csv", options=OPTS)
    rows = read_csv(tmp_path / "out.csv")
    assert summary.errors == 0 and summary.arrivals == 4
    assert [(r["project_id"], r["year"], r["arrivals"], r["paid_in_usd"], r["sector"]) for r in rows] == [
        ("A", "2024", "2", "40000000.00", "manufacturing"), ("B", "2024", "1", "15000000.00", "services"),
        ("B", "2025", "1", "15000000.00", "services")]


def test_arrivals_of_a_project_year_that_disagree_make_it_an_error(tmp_path):
    """Two arrivals of one project-year naming different sectors (or kinds): the project-year is
    an error row saying so. The first arrival's sector was taken silently."""
    src = tmp_path / "l.csv"
    write_ledger(src, [["A", "2024-03-15", "equity", "40000000", "USD", "new", "manufacturing"],
                       ["A", "2024-06-15", "equity", "1000000", "USD", "new", "services"],
                       ["B", "2024-03-15", "equity", "40000000", "USD", "new", "services"],
                       ["B", "2024-04-15", "equity", "1000000", "USD", "capital_increase", "services"],
                       ["C", "2024-03-15", "equity", "40000000", "USD", "new", "services"],
                       ["C", "2024-04-15", "equity", "1000000", "USD", "", ""]])  # (a blank says nothing)
    summary = score_file(src, tmp_path / "out.csv", options=OPTS)
    rows = read_csv(tmp_path / "out.csv")
    assert summary.rows == 3 and summary.errors == 2
    assert rows[0]["error"] == "sector: the arrivals of this project-year disagree ('manufacturing', 'services')"
    assert rows[1]["error"] == "kind: the arrivals of this project-year disagree ('capital_increase', 'new')"
    assert rows[2]["error"] == "" and rows[2]["paid_in_usd"] == "41000000.00"


def test_a_ledger_and_its_projects_file_that_disagree_make_an_error(tmp_path):
    """The ledger's sector used to override --projects silently. Both given and different: the
    arrival is in error, naming both; given once: that one is used."""
    src, projects = tmp_path / "l.csv", tmp_path / "p.csv"
    write_ledger(src, [["A", "2024-03-15", "equity", "40000000", "USD", "manufacturing"],
                       ["B", "2024-03-15", "equity", "40000000", "USD", ""],
                       ["C", "2024-03-15", "equity", "40000000", "USD", "manufacturing"]],
                 header=["project_id", "date", "type", "amount", "currency", "sector"])
    projects.write_text("project_id,kind,sector\nA,new,services\nB,new,manufacturing\nC,new,manufacturing\n", encoding="utf-8")
    summary = score_file(src, tmp_path / "out.csv", options=OPTS, projects_path=projects)
    rows = read_csv(tmp_path / "out.csv")
    assert summary.errors == 1
    assert rows[0]["error"] == "arrival row 1: sector: the ledger's row says 'manufacturing', --projects says 'services'"
    assert (rows[1]["sector"], rows[1]["kind"], rows[1]["tier"]) == ("manufacturing", "new", "manufacturing")
    assert rows[2]["error"] == "" and rows[2]["tier"] == "manufacturing"


@pytest.mark.parametrize("day", ["0000-01-01", "0000年1月1日", "00000101", "0000/1/1"])
def test_a_ledger_date_in_year_zero_is_that_rows_error(tmp_path, day):
    """`0000-01-01` aborted the whole batch (`year 0 is out of range`)."""
    src = tmp_path / "l.csv"
    write_ledger(src, [["A", day, "equity", "40000000", "USD", "new", "manufacturing"],
                       ["B", "2024-03-15", "equity", "40000000", "USD", "new", "manufacturing"]])
    summary = score_file(src, tmp_path / "out.csv", options=OPTS)
    rows = read_csv(tmp_path / "out.csv")
    assert summary.rows == 2 and summary.errors == 1
    assert rows[0]["error"].startswith("arrival row 1: date: ") and rows[1]["incentive_cny"] == "10000000.00"


# --- JSON Lines (item 14) -------------------------------------------------------------------------

@pytest.mark.parametrize("depth", [1000, 100_000])
def test_json_nested_too_deeply_is_that_lines_error(tmp_path, depth):
    good = {"project_id": "P1", "year": 2024, "sector": "services", "paid_in_usd": "15000000", "fx_rate": "7.1"}
    deep = '{"project_id": "P2", "year": 2024, "x": ' + "[" * depth + "]" * depth + "}"
    (tmp_path / "in.jsonl").write_text(json.dumps(good) + "\n" + deep + "\n" + json.dumps(good) + "\n", encoding="utf-8")
    summary = score_file(tmp_path / "in.jsonl", tmp_path / "out.csv")
    rows = read_csv(tmp_path / "out.csv")
    assert summary.rows == 3 and summary.errors == 1
    assert rows[1]["error"].startswith("line 2 is not a JSON object") and "nested too deeply" in rows[1]["error"]
    assert rows[0]["incentive_cny"] == rows[2]["incentive_cny"] == "2130000.00"


# --- one place decides ----------------------------------------------------------------------------

def test_describe_says_what_a_file_is(tmp_path):
    """One function tells a file's format, encoding, delimiter, header line, shape and columns."""
    src = tmp_path / "l.csv"
    src.write_bytes("资金到位台账\n项目编号;到位日期;资金类型;金额;币种\nA;2024-03-15;equity;1;USD\n".encode("gbk"))
    d = describe(src)
    try:
        assert (d.shape, d.delimiter, d.mapping["date"]) == ("ledger", ";", "到位日期")
        assert d.converted_from == "transcoded from gb18030; header on line 2, 1 title line above it passed over"
    finally:
        d.cleanup()
    p = tmp_path / "p.csv"
    p.write_text("project_id,sector\nA,services\n", encoding="utf-8")
    assert describe(p, role="projects").shape == "projects"
    with pytest.raises(InputError, match="year column"):
        describe(p)
