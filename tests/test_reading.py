"""Reading an input: every row read as the file holds it, whatever its quotes, line ends, encoding,
merged cells or clashing columns; nothing pooled, nothing taken silently, no traceback."""

import csv
import functools
import io
import json
import os
import re
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
    with path.open(encoding="utf-8-sig", newline="") as f:
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


def test_a_file_whose_lines_end_in_cr_is_read_line_by_line(tmp_path):
    """A file with CRs and no LF at all (as old Mac programs save it): its lines end in CR. It was
    read as one header line holding every row (rows 0, exit 0)."""
    src = tmp_path / "mac.csv"
    src.write_bytes(b"project_id,year,sector,paid_in_usd,fx_rate\rP1,2024,services,15000000,7.1\r"
                    b'P2,2024,services,15000000,7.1\r"P3\r",2024,services,15000000,7.1')
    summary = score_file(src, tmp_path / "out.csv")
    rows = read_csv(tmp_path / "out.csv")
    assert summary.rows == 3 and summary.errors == 0 and [r["project_id"] for r in rows] == ["P1", "P2", "P3\r"]
    assert any("lines ending in CR" in n for n in summary.notes)


# --- encodings (items 4, 15) ----------------------------------------------------------------------

@pytest.mark.parametrize("codec", ["rot13", "base64", "hex", "zlib", "idna", "punycode", "utf-16", "cp037", "no-such",
                                   "unicode_escape", "raw_unicode_escape", "utf_7", "UTF-7"])
def test_an_encoding_that_cannot_read_the_file_is_a_one_line_error(tmp_path, codec):
    """--encoding with a codec that is not a text encoding, or one that cannot read the file (UTF-16
    without its BOM, EBCDIC), or one that rewrites text rather than decodes a charset (unicode_escape
    read `C:\\N\\x` as `C:��`, utf_7 `A+B-C` as `A�C`): one line, exit 2. rot13 and friends gave a
    LookupError traceback."""
    src = tmp_path / "in.csv"
    src.write_text("project_id,year,sector,paid_in_usd,fx_rate\nP1,2024,services,15000000,7.1\n", encoding="utf-8")
    with pytest.raises(InputError, match="--encoding"):
        score_file(src, tmp_path / "out.csv", encoding=codec)
    run = fdi("batch", "in.csv", "-o", "out.csv", "--no-progress", "--encoding", codec, cwd=tmp_path)
    assert run.returncode == 2 and "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("given, data", [
    (None, "项目编号,年份,行业,实际到位外资,汇率\n".encode("gbk")
     + "".join(f"项目{i},2024,services,15000000,7.1\n" for i in range(30)).encode("gbk").replace(
         "项目5,".encode("gbk"), "项目5".encode("gbk") + b"\xff,")),
    ("gbk", b"project_id,year,sector,paid_in_usd,fx_rate\nA\x80,2024,services,15000000,7.1\nB,2024,services,15000000,7.1\n"),
    ("ascii", b"project_id,year,sector,paid_in_usd,fx_rate\nA\x80,2024,services,15000000,7.1\nB,2024,services,15000000,7.1\n"),
    ("gb18030", "project_id,year,sector,paid_in_usd,fx_rate\nA\ufffd,2024,services,15000000,7.1\n".encode("gb18030")
     + b"B\xff,2024,services,15000000,7.1\n"),
])
def test_a_byte_not_in_the_files_encoding_spoils_its_row_only(tmp_path, given, data):
    """As in a UTF-8 file: a byte the encoding cannot read puts its row in error (exit 1); every
    other row is read exactly, a U+FFFD really in a GB18030 file among them. It was read as U+FFFD
    and scored at exit 0."""
    src = tmp_path / "in.csv"
    src.write_bytes(data)
    summary = score_file(src, tmp_path / "out.csv", encoding=given)
    rows = read_csv(tmp_path / "out.csv")
    enc = given or "gb18030"
    want = list(csv.reader(io.StringIO(data.decode(enc, errors="surrogateescape"))))[1:]
    assert summary.rows == len(rows) == len(want) and summary.errors == 1
    for record, row in zip(want, rows):
        if any("\udc80" <= ch <= "\udcff" for ch in record[0]):
            assert "not " in row["error"] and "\ufffd" in list(row.values())[0], row
        else:
            assert list(row.values())[0] == record[0] and not row["error"] and row["incentive_cny"], row
    extra = ["--encoding", given] if given else []
    run = fdi("batch", "in.csv", "-o", "out.csv", "--no-progress", *extra, cwd=tmp_path)
    assert run.returncode == 1, run.stderr


@pytest.mark.parametrize("data", [
    "项目编号,年份,行业,实际到位外资,汇率\n渝A-1,2024,制造业,40000000,7.1\n渝B-2,2024,服务业,15000000,7.1\n".encode()
    .replace(b"A-1", b"A\xff-1\xfe"),  # two stray bytes in one row
    "项目编号,year,sector,paid_in_usd,fx_rate\n渝A-1,2024,汽车,40000000,7.1\n渝B-2,2024,医药,15000000,7.1\n".encode()
    .replace(b"B-2", b"B\x80-2\xc3"),
    "项目编号,year,sector,paid_in_usd,fx_rate\n渝A-1,2024,制造业,40000000,7.1\n渝B-2,2024,服务业,15000000,7.1\n".encode()
    .replace(b"B-2", b"B\xa0\xa1-2"),
])
def test_a_small_utf8_file_with_a_few_stray_bytes_is_read_as_utf8(tmp_path, data):
    """README: a UTF-8 file with a few bytes that are not UTF-8 is read as UTF-8, those bytes
    spoiling their rows only. A 3-line file with 2 stray bytes was read as GB18030, every Chinese
    cell garbled."""
    src = tmp_path / "in.csv"
    src.write_bytes(data)
    summary = score_file(src, tmp_path / "out.csv")
    rows = read_csv(tmp_path / "out.csv")
    assert list(rows[0])[0] == "项目编号" and summary.rows == 2 and summary.errors == 1
    bad, good = (rows[0], rows[1]) if rows[0]["error"] else (rows[1], rows[0])
    assert "\ufffd" in bad["项目编号"] and good["项目编号"] in ("渝A-1", "渝B-2") and good["incentive_cny"]


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


def test_a_projects_row_without_a_project_id_is_named_in_the_summary(tmp_path):
    """A --projects row whose project_id is blank cannot be used: the summary says which line
    (it was dropped without a word), and the CLI prints it."""
    (tmp_path / "p.csv").write_text("project_id,kind,sector\n,new,real-estate\nL1,new,services\n , ,finance\n",
                                    encoding="utf-8")
    (tmp_path / "l.csv").write_text("project_id,date,type,amount,currency\nL1,2024-03-01,equity,15000000,USD\n",
                                    encoding="utf-8")
    summary = score_file(tmp_path / "l.csv", tmp_path / "out.csv", options=OPTS, projects_path=tmp_path / "p.csv")
    assert "--projects: lines 2, 4 have no project_id and were not used" in summary.notes, summary.notes
    run = fdi("batch", "l.csv", "--projects", "p.csv", "-o", "o.csv", "--no-progress", "--fx-rate", "7.1", cwd=tmp_path)
    assert "lines 2, 4 have no project_id" in run.stdout + run.stderr, (run.stdout, run.stderr)


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


def test_an_arrivals_errors_beside_agreeing_projects_leave_no_empty_segment(tmp_path):
    """The ledger's sector agreeing with --projects said nothing, but an empty clause: the error
    read `arrival row 1: ; amount: …`."""
    src, projects = tmp_path / "l.csv", tmp_path / "p.csv"
    write_ledger(src, [["A", "2024-03-15", "equity", "abc", "USD", "manufacturing"],
                       ["A", "2024-04-15", "equity", "40000000", "USD", ""]],
                 header=["project_id", "date", "type", "amount", "currency", "sector"])
    projects.write_text("project_id,kind,sector\nA,new,manufacturing\n", encoding="utf-8")
    score_file(src, tmp_path / "out.csv", options=OPTS, projects_path=projects)
    [row] = read_csv(tmp_path / "out.csv")
    assert row["error"].startswith("arrival row 1: amount: 'abc' is not valid"), row["error"]
    assert "; ;" not in row["error"] and ": ;" not in row["error"]


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
    with pytest.raises(InputError, match="a header naming year"):
        describe(p)


# --- the families, by generation ------------------------------------------------------------------

from hypothesis import HealthCheck, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from fdi_incentive.io import csvfile  # noqa: E402

from .strategies import (codec_names, foreign_encodings, foreign_strays, json_depths, kinds_or_blank, ledger_days, ledger_ids, raw_cells,  # noqa: E402
                         raw_header_extras, sectors_or_blank, stray_bytes)

HEADER = ["project_id", "year", "kind", "sector", "industry_code", "paid_in_usd", "shareholder_loans_usd",
          "reinvested_profit", "fx_rate"]
# FDI_FUZZ_EXAMPLES=2000 for a long run (the suite runs 40 of each)
FUZZ = settings(max_examples=int(os.environ.get("FDI_FUZZ_EXAMPLES", "40")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def oracle_records(text: str, delimiter: str = ",") -> list[list[str]]:
    """A CSV's records as README says fdi reads them, written out plainly: a record ends at LF (or
    CR LF, or a CR ending the file) outside quotes; a quote opens a quoted cell only as its first
    character, "" inside one is a quote, text after its closing quote joins the cell; any other
    quote, and a lone CR, is a character of its cell; NULs are left out. A file that holds CRs and
    no LF ends its records at CR (a LF, were there one, would be a character)."""
    text = text.replace("\0", "")
    cr_lines = "\r" in text[:1 << 16] and "\n" not in text[:1 << 16]
    out: list[list[str]] = []
    row: list[str] = []
    cell: list[str] = []
    state, i, n = "start", 0, len(text)  # start (of a cell), plain, quoted
    while i < n:
        c = text[i]
        if state == "quoted":
            if c == '"' and text[i + 1:i + 2] == '"':
                cell.append('"')
                i += 1
            elif c == '"':
                state = "plain"
            else:
                cell.append(c)
        elif c == '"' and state == "start":
            state = "quoted"
        elif c == delimiter:
            row.append("".join(cell))
            cell, state = [], "start"
        elif (c == "\r" and cr_lines) or (not cr_lines and (c == "\n" or (c == "\r" and text[i + 1:i + 2] in ("\n", "")))):
            i += c == "\r" and text[i + 1:i + 2] == "\n"
            out.append([*row, "".join(cell)] if (row or cell or state != "start") else [])
            row, cell, state = [], [], "start"
        else:
            cell.append(c)
            state = "plain"
        i += 1
    if row or cell or state != "start":
        out.append([*row, "".join(cell)])
    return out


def data_rows(text: str) -> tuple[int, list[list[str]]]:
    """The header's width and the data records (a record of empty cells is no row)."""
    header, *rows = oracle_records(text.lstrip("\ufeff"))
    return len(header), [r for r in rows if any(r)]


def jsonl_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@FUZZ
@given(rows=st.lists(st.lists(raw_cells, max_size=10), min_size=1, max_size=20), extras=raw_header_extras,
       newline=st.sampled_from(["\n", "\r\n", "\r"]), block=st.sampled_from([64, 300, 6 << 20]))
@example(rows=[["P1", "2024", "", "services", "", "15000000", "", "", "7.1"], ["P2"]], extras=[], newline="\r", block=64)
@example(rows=[["P1", "2024", "", "services", "", "15000000", "", "", "7.1"]], extras=['no"te'], newline="\n", block=6 << 20)
@example(rows=[["P1", "a\rb"], ["P2", 'x"y']], extras=[], newline="\n", block=64)
def test_quotes_and_crs_anywhere_are_read_as_readme_says(tmp_path, rows, extras, newline, block):
    """Raw text with quotes anywhere (header too), lone CRs, line ends and delimiters in cells, in
    blocks of any size: every record the reading README states is a row of the output, its cells as
    they stand, scored or with its error; the run never fails (but for a quote that never closes,
    refused past the bound), and the fast path and the row-by-row path agree."""
    text = ",".join([*HEADER, *extras]) + newline + "".join(",".join(r) + newline for r in rows)
    src = tmp_path / "in.csv"
    src.write_bytes(text.encode("utf-8"))
    width, want = data_rows(text)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(readers, "csv_blocks", functools.partial(csv_blocks, block=block))
        summary = score_file(src, tmp_path / "out.jsonl")
    got = jsonl_rows(tmp_path / "out.jsonl")
    assert summary.rows == len(got) == len(want)
    for record, row in zip(want, got):
        cells = [v if v is not None else "" for v in list(row.values())[:width]]
        assert cells == (record + [""] * width)[:width]
        assert row["error"] or row["incentive_cny"], row


@FUZZ
@given(rows=st.lists(st.tuples(st.sampled_from(["渝A-1", "渝B-22", "项目三"]), st.sampled_from(["制造业", "服务业", ""]),
                               st.sampled_from(["40000000", "15000000", "x"])), min_size=2, max_size=25),
       strays=st.lists(st.tuples(st.integers(0, 10**6), stray_bytes), min_size=1, max_size=4),
       head=st.sampled_from([64, 1 << 20]), bom=st.booleans())
def test_a_utf8_file_with_a_few_stray_bytes_is_utf8_at_any_size(tmp_path, rows, strays, head, bom):
    """Bytes that are not UTF-8 pasted anywhere below the header of a UTF-8 file (of two rows or
    more: a small file was read as GB18030), found in its first bytes or only further on (the head the encoding is first decided from: 64 bytes or a MiB): the
    same answer. Every row is there; a row holding such a byte is in error; every other row is read
    exactly (never as GB18030)."""
    lines = ["项目编号,行业,实际到位外资,年份,汇率", *(f"{pid},{sector},{amount},2024,7.1" for pid, sector, amount in rows)]
    data = bytearray(("\n".join(lines) + "\n").encode("utf-8"))
    first = data.index(b"\n") + 1
    for at, junk in sorted(strays, reverse=True):
        at = first + at % (len(data) - first)
        data[at:at] = junk
    src = tmp_path / "in.csv"
    src.write_bytes((b"\xef\xbb\xbf" if bom else b"") + bytes(data))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(csvfile, "HEAD", head)
        summary = score_file(src, tmp_path / "out.csv")
    got = read_csv(tmp_path / "out.csv")
    _, want = data_rows(bytes(data).decode("utf-8", errors="surrogateescape"))
    assert summary.rows == len(got) == len(want) == len(rows)
    for record, row in zip(want, got):
        if any("\udc80" <= ch <= "\udcff" for cell in record for ch in cell):
            assert "not UTF-8" in row["error"] and "\ufffd" in "".join(row.values()), row
        else:
            assert [row[k] for k in ("项目编号", "行业", "实际到位外资")] == record[:3]
            assert row["error"] or row["incentive_cny"]


@FUZZ
@given(alias=st.sampled_from(["年份", "Year", " YEAR ", "年度"]),
       pairs=st.lists(st.tuples(st.sampled_from(["2024", "2023", "", " 2024"]), st.sampled_from(["2024", "2023", "", "2024 "])),
                      min_size=1, max_size=8))
def test_columns_naming_the_same_thing_agree_or_the_run_stops(tmp_path, alias, pairs):
    """A second column for the year: where any row's two cells differ (spaces aside), the run
    stops naming both columns and writes nothing; else every row is scored as with one column."""
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    out.unlink(missing_ok=True)  # (the folder is the same for every example)
    with src.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["project_id", "year", "sector", "paid_in_usd", "fx_rate", alias],
                                 *([f"P{i}", a, "services", "15000000", "7.1", b] for i, (a, b) in enumerate(pairs))])
    if any(a.strip() != b.strip() for a, b in pairs):
        with pytest.raises(InputError, match=f"year, {alias.strip()}"):
            score_file(src, out)
        assert not out.exists()
    else:
        assert score_file(src, out).rows == len(pairs) == len(read_csv(out))


@FUZZ
@given(codec=codec_names, gbk=st.booleans())
def test_any_codec_named_reads_the_file_or_is_a_one_line_refusal(tmp_path, codec, gbk):
    """--encoding with any codec Python has: the file is read (every row there) or refused as an
    InputError naming --encoding; never another exception."""
    src = tmp_path / "in.csv"
    text = "project_id,year,sector,paid_in_usd,fx_rate\r\n渝A-1,2024,制造业,40000000,7.1\r\nP2,2024,services,x,7.1\r\n"
    src.write_bytes(text.encode("gbk" if gbk else "utf-8"))
    try:
        summary = score_file(src, tmp_path / "out.csv", encoding=codec)
    except InputError as exc:
        assert str(exc).startswith(("--encoding:", "INPUT:")), exc
        return
    assert summary.rows == len(read_csv(tmp_path / "out.csv")) == 2


@FUZZ
@given(st.lists(st.one_of(json_depths.map(lambda d: ("deep", d)), st.sampled_from([("good", 0), ("list", 0), ("junk", 0),
                                                                                     ("blank", 0)])), min_size=1, max_size=8))
def test_json_lines_of_any_depth_never_crash(tmp_path, lines):
    good = {"project_id": "P1", "year": 2024, "sector": "services", "paid_in_usd": "15000000", "fx_rate": "7.1"}
    text = {"good": lambda d: json.dumps(good), "list": lambda d: "[1, 2]", "junk": lambda d: "{not json", "blank": lambda d: "",
            "deep": lambda d: json.dumps(good)[:-1] + ', "y": ' + "[" * (d + 1) + "]" * (d + 1) + "}"}
    (tmp_path / "in.jsonl").write_text("\n".join(text[k](d) for k, d in lines) + "\n", encoding="utf-8")
    written = [k for k, _ in lines if k != "blank"]
    try:
        summary = score_file(tmp_path / "in.jsonl", tmp_path / "out.csv")
    except InputError as exc:  # (no line could be read as an object: no column to score from, exit 2)
        assert "good" not in written and "a header naming year" in str(exc)
        return
    got = read_csv(tmp_path / "out.csv")
    assert summary.rows == len(got) == len(written)
    for (kind, depth), row in zip([x for x in lines if x[0] != "blank"], got):
        assert row["error"] or row["incentive_cny"]
        if kind in ("list", "junk") or (kind == "deep" and depth >= 5000):  # (near 1000: as deep as the stack allows)
            assert row["error"].startswith("line "), row


@FUZZ
@given(st.lists(st.tuples(ledger_ids, ledger_days, kinds_or_blank, sectors_or_blank), min_size=1, max_size=15))
def test_a_ledger_with_blank_merged_and_clashing_cells_loses_nothing(tmp_path, arrivals):
    """Ledger arrivals with blank ids, ids merged down an Excel sheet (None: merged with the cell
    above), dates in year 0, kinds and sectors that disagree: the sheet gives the rows its CSV (ids
    filled in as the sheet shows them) gives; every arrival is in exactly one row; an arrival with
    no id is an error row of its own; a scored project-year's arrivals agree on kind and sector."""
    import openpyxl

    from fdi_incentive.ledger import parse_day

    from .test_batch import meaning

    filled, last = [], ""
    for pid, day, kind, sector in arrivals:
        pid = last if pid is None else pid
        filled.append([pid, day, "equity", "15000000", "USD", kind, sector])
        last = pid
    with (tmp_path / "l.csv").open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([LEDGER, *filled])
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(LEDGER)
    for row in filled:
        sheet.append([c if c != "" else None for c in row])
    start = None
    for r, (pid, *_) in enumerate([*arrivals, ("end",)], start=2):  # (merge each run of None with the cell above it)
        if pid is None and start is None and r > 2:
            start = r - 1
        elif pid is not None and start is not None:
            sheet.merge_cells(start_row=start, start_column=1, end_row=r - 1, end_column=1)
            start = None
    book.save(tmp_path / "l.xlsx")
    from_csv = score_file(tmp_path / "l.csv", tmp_path / "c.csv", options=OPTS)
    from_sheet = score_file(tmp_path / "l.xlsx", tmp_path / "x.csv", options=OPTS)
    rows = read_csv(tmp_path / "c.csv")
    assert (tmp_path / "x.csv").read_bytes() == (tmp_path / "c.csv").read_bytes()
    assert from_csv.arrivals == from_sheet.arrivals == len(arrivals) == sum(int(r["arrivals"]) for r in rows)
    for r in rows:
        assert (r["error"] == "") != (r["incentive_cny"] == "")
        if r["project_id"].strip() == "":
            assert r["arrivals"] == "1" and "project_id: missing" in r["error"]
        if r["error"] == "":
            mine = [a for a in filled if a[0].strip() == r["project_id"] and (d := parse_day(a[1])) and str(d.year) == r["year"]]
            assert len(mine) == int(r["arrivals"])
            # (as they are read: 增资 and capital_increase, services and Services alike)
            assert len({meaning("kind", a[5]) for a in mine} - {None}) <= 1
            assert len({meaning("sector", a[6]) for a in mine} - {None}) <= 1


@FUZZ
@given(encoding=foreign_encodings, data=st.data(),
       ids=st.lists(st.sampled_from(["渝A-1", "项目三", "P2", "A\ufffdB", "é-1"]), min_size=8, max_size=25),
       at=st.lists(st.integers(0, 10**6), min_size=1, max_size=4))
def test_a_file_in_any_encoding_with_bytes_it_cannot_read_keeps_every_row(tmp_path, encoding, data, ids, at):
    """Bytes an encoding cannot read, pasted between the characters of a file below its header:
    each row holding them is in error, every other row read exactly (a U+FFFD really in a GB18030
    file among them). They were read as U+FFFD at exit 0 where the file was not UTF-8."""
    given, enc = encoding
    def fits(pid):
        try:
            pid.encode(enc)
            return True
        except UnicodeEncodeError:
            return False
    ids = [pid for pid in ids if fits(pid)] or ["P1"]
    text = "项目编号,年份,行业,实际到位外资,汇率\n" if enc.startswith("gb") else "project_id,year,sector,paid_in_usd,fx_rate\n"
    first = len(text)
    text += "".join(f"{pid},2024,services,15000000,7.1\n" for pid in ids)
    cuts = sorted({first + a % (len(text) - first) for a in at})
    pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)])]
    junk = [data.draw(st.sampled_from(foreign_strays[enc])) for _ in cuts]
    raw = b"".join(p.encode(enc) + (j if k < len(junk) else b"") for k, (p, j) in enumerate(zip(pieces, [*junk, b""])))
    src = tmp_path / "in.csv"
    src.write_bytes(raw)
    summary = score_file(src, tmp_path / "out.csv", encoding=given)
    got = read_csv(tmp_path / "out.csv")
    _, want = data_rows(raw.decode(enc, errors="surrogateescape"))
    assert summary.rows == len(got) == len(want)
    for record, row in zip(want, got):
        cells = list(row.values())
        if any("\udc80" <= ch <= "\udcff" for cell in record for ch in cell):
            assert "not " in row["error"] and "\ufffd" in "".join(cells), row
        else:
            assert cells[:5] == record[:5], (record, row)


# --- issue 22, item 3: every unit README lists, in every amount column ------------------------------

# (spelling, currency, scale): README's units (万, 百万, 亿, 千 of USD, CNY, RMB, 美元, 元, 人民币), as
# Chinese sheets and English ones write them; the oracle, written apart from `io.units`
_ZH_SCALES = {"": 1, "千": 10**3, "万": 10**4, "百万": 10**6, "亿": 10**8}
_EN_SCALES = {"k": 10**3, "1k": 10**3, "thousand": 10**3, "'000": 10**3, "10k": 10**4, "10,000": 10**4,
              "m": 10**6, "mn": 10**6, "million": 10**6, "1m": 10**6, "100m": 10**8, "100 million": 10**8}
UNIT_SPELLINGS = sorted(
    {(f"{s}美元", "USD", n) for s, n in _ZH_SCALES.items()}
    | {(f"{s}元", "CNY", n) for s, n in _ZH_SCALES.items()}
    | {(f"{s}人民币", "CNY", n) for s, n in _ZH_SCALES.items()}
    | {(f"人民币{s}元", "CNY", n) for s, n in _ZH_SCALES.items()}
    | {(f"{s}元人民币", "CNY", n) for s, n in _ZH_SCALES.items()}
    | {(f"{c} {s}", cur, n) for c, cur in (("USD", "USD"), ("CNY", "CNY"), ("RMB", "CNY")) for s, n in _EN_SCALES.items()}
    | {(f"{s} {c}", cur, n) for c, cur in (("USD", "USD"), ("CNY", "CNY"), ("RMB", "CNY")) for s, n in _EN_SCALES.items()}
    | {("USD", "USD", 1), ("CNY", "CNY", 1), ("RMB", "CNY", 1), ("cny 1K", "CNY", 10**3), ("Usd Million", "USD", 10**6),
       ("单位：万美元", "USD", 10**4), ("单位:千元", "CNY", 10**3), ("unit: USD 10k", "USD", 10**4), ("in CNY m", "CNY", 10**6)})
BRACKETS = [("（", "）"), ("(", ")"), (" (", ")"), ("[", "]"), ("【", "】")]
AMOUNT_COLUMNS = ["paid_in_usd", "paid_in", "shareholder_loans_usd", "reinvested_profit", "amount"]


def write_table(tmp_path: Path, rows: list[list[str]], fmt: str = "csv") -> Path:
    """A header and rows of text as a file of ``fmt``: csv (UTF-8), gbk (a CSV), xlsx, jsonl or parquet."""
    if fmt in ("csv", "gbk"):
        src = tmp_path / "in.csv"
        with src.open("w", encoding="utf-8" if fmt == "csv" else "gbk", newline="") as f:
            csv.writer(f).writerows(rows)
    elif fmt == "xlsx":
        import xlsxwriter

        src = tmp_path / "in.xlsx"
        book = xlsxwriter.Workbook(str(src))
        sheet = book.add_worksheet()
        for i, row in enumerate(rows):
            sheet.write_row(i, 0, row)
        book.close()
    elif fmt == "jsonl":
        src = tmp_path / "in.jsonl"
        src.write_text("".join(json.dumps(dict(zip(rows[0], r)), ensure_ascii=False) + "\n" for r in rows[1:]), encoding="utf-8")
    else:
        import polars as pl

        src = tmp_path / "in.parquet"
        pl.DataFrame({h: [r[i] for r in rows[1:]] for i, h in enumerate(rows[0])}).write_parquet(src)
    for other in tmp_path.glob("in.*"):
        if other != src:
            other.unlink()
    return src


def _unit_case(tmp_path: Path, canon: str, alias: str, words: str, currency: str, brackets: tuple[str, str],
               fmt: str = "csv") -> Path:
    """A one-row file whose ``canon`` column (headed ``alias`` and its unit) holds 3 units (21 of
    CNY: USD 3 of the unit at FX 7); the rest of the base from a plain USD column where needed."""
    header = f"{alias}{brackets[0]}{words}{brackets[1]}"
    cell = "21" if currency == "CNY" else "3"
    if canon == "amount":
        rows = [["project_id", "date", "type", header, "currency", "sector"], ["A", "2024-03-15", "equity", cell, currency, "services"]]
    else:
        extra = {"paid_in": (["currency"], [currency]), "reinvested_profit": ([], [])}.get(canon, ([], []))
        paid = [] if canon in ("paid_in_usd", "paid_in") else ["paid_in_usd"]
        rows = [["project_id", "year", "sector", *paid, header, *extra[0], "fx_rate"],
                ["A", "2024", "services", *(["0"] if paid else []), cell, *extra[1], "7"]]
    return write_table(tmp_path, rows, fmt)


def _read_or_stopped(tmp_path: Path, canon: str, alias: str, words: str, currency: str, scale: int | None,
                     brackets=("（", "）"), fmt: str = "csv") -> None:
    """Read with the right scale (when the unit's currency is the column's), or stopped naming the
    column: never listed among the columns ignored."""
    src = _unit_case(tmp_path, canon, alias, words, currency, brackets, fmt)
    header = f"{alias}{brackets[0]}{words}{brackets[1]}"
    out = tmp_path / "out.csv"
    out.unlink(missing_ok=True)
    fixed = {"paid_in_usd": "USD", "shareholder_loans_usd": "USD", "reinvested_profit": "CNY"}.get(canon)
    try:
        summary = score_file(src, out, options=Options(fx_rate=D("7")))
    except InputError as exc:
        assert header.strip() in str(exc) or header in str(exc), str(exc)
        assert scale is None or (fixed is not None and fixed != currency), f"{header} was refused: {exc}"
        assert not out.exists()
        return
    assert header not in summary.ignored_columns, f"{header} ignored"
    assert scale is not None and (fixed is None or fixed == currency), f"{header} read, but not a unit of {canon}"
    row = read_csv(out)[0]
    assert not row["error"], row["error"]
    base = D(row["base_usd"])
    expected = D(0) if canon == "shareholder_loans_usd" else D(3 * scale)  # (loans are shown, never counted)
    assert base == expected, f"{header}: base {base}, expected {expected}"


@pytest.mark.parametrize("words", ["千元", "千人民币", "万人民币", "CNY 1k"])
def test_a_profit_column_in_thousands_of_yuan_is_read_not_ignored(tmp_path, words):
    """利润再投资（千元）, （千人民币）, （万人民币）, (CNY 1k) were listed under "columns ignored": base
    USD 9,000,000, payout 0.00, exit 0, while 万元 and 千美元 were read."""
    src = tmp_path / "in.csv"
    src.write_text(f"项目编号,年份,行业,实际到位外资（万美元）,利润再投资（{words}）,汇率\nA,2024,services,900,10000,7\n",
                   encoding="utf-8")
    summary = score_file(src, tmp_path / "out.csv")
    scale = 10**4 if "万" in words else 10**3
    row = read_csv(tmp_path / "out.csv")[0]
    assert summary.ignored_columns == [] and row["base_usd"] == f"{D(9_000_000) + (D(10_000 * scale) / 7).quantize(D('0.01'))}"
    assert row["eligible"] == "true"


@pytest.mark.parametrize("header", ["利润再投资（千克）", "实际到位外资（万）", "paid_in_usd (USD 10 thousand-ish)", "外方股东贷款【EUR】"])
def test_a_known_column_with_a_unit_we_cannot_read_stops_the_run(tmp_path, header):
    """A header naming a known amount with a unit we do not read was listed as ignored (its money
    dropped at exit 0): it stops the run (exit 2) naming the column."""
    src = tmp_path / "in.csv"
    with src.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([["项目编号", "年份", "行业", "实际到位外资" if not header.startswith("实际") else "x", header, "汇率"],
                                 ["A", "2024", "services", "9000000", "1000", "7"]])
    run = fdi("batch", "in.csv", "-o", "out.csv", "--no-progress", cwd=tmp_path)
    assert run.returncode == 2 and header in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and not (tmp_path / "out.csv").exists()


@FUZZ
@given(canon=st.sampled_from(AMOUNT_COLUMNS), data=st.data(), unit=st.sampled_from(UNIT_SPELLINGS),
       brackets=st.sampled_from(BRACKETS), fmt=st.sampled_from(["csv", "csv", "xlsx", "jsonl", "parquet"]))
def test_every_unit_readme_lists_in_every_amount_column_is_read_or_stops(tmp_path, canon, data, unit, brackets, fmt):
    """Every (amount column alias) × (every unit spelling README lists, in every bracket style), in
    every input format: read at the right scale, or (a currency not the column's) the run stops
    naming the column."""
    from fdi_incentive.io.headers import ALIASES

    alias = data.draw(st.sampled_from([a for a in ALIASES[canon] if "(" not in a]), label="alias")
    words, currency, scale = unit
    _read_or_stopped(tmp_path, canon, alias, words, currency, scale, brackets, fmt)


def test_every_unit_readme_lists_after_every_amount_alias_names_that_column_and_unit():
    """The generator's whole space, as the header reader sees it: every alias of every amount column,
    every spelling, every bracket style, names that column in that currency and scale."""
    from fdi_incentive.io.headers import ALIASES, canonical
    from fdi_incentive.io.units import split_unit

    for canon in AMOUNT_COLUMNS:
        for alias in ALIASES[canon]:
            for words, currency, scale in UNIT_SPELLINGS:
                for left, right in BRACKETS:
                    header = f"{alias}{left}{words}{right}"
                    assert canonical(header) == canon and split_unit(header)[1][1:] == (currency, scale), header


@FUZZ
@given(canon=st.sampled_from(AMOUNT_COLUMNS), data=st.data(),
       words=st.text(alphabet="千万百亿元美人民币USDCNYRMBkmKM 1,0'$€EUR克斤", min_size=1, max_size=8))
def test_any_bracketed_text_after_an_amount_is_read_or_stops_never_ignored(tmp_path, canon, data, words):
    """Any text in brackets after an amount column's name: read (then at a scale README lists) or
    the run stops naming the column; never a column ignored at exit 0."""
    from fdi_incentive.io.headers import ALIASES

    alias = data.draw(st.sampled_from([a for a in ALIASES[canon] if "(" not in a]), label="alias")
    known = {w.lower().replace(" ", ""): (c, n) for w, c, n in UNIT_SPELLINGS}
    currency, scale = known.get(words.lower().replace(" ", ""), ("USD", None))
    src = _unit_case(tmp_path, canon, alias, words, currency, ("（", "）"))
    out = tmp_path / "out.csv"
    out.unlink(missing_ok=True)
    try:
        summary = score_file(src, out, options=Options(fx_rate=D("7")))
    except InputError as exc:
        assert f"{alias}（{words}）" in str(exc) or alias in str(exc), str(exc)
        return
    assert not [c for c in summary.ignored_columns if c.startswith(alias)], summary.ignored_columns


# --- issue 22, item 4: the same header twice ------------------------------------------------------

def test_the_same_header_twice_with_different_values_stops_the_run(tmp_path):
    """`paid_in_usd` twice (9000000, 13000000) paid 0.00: the first was read, the second renamed
    paid_in_usd_1 and ignored. As for differently-spelt names: exit 2 naming both."""
    (tmp_path / "in.csv").write_text("project_id,year,sector,paid_in_usd,paid_in_usd,fx_rate\nA,2024,services,9000000,13000000,7\n",
                                     encoding="utf-8")
    run = fdi("batch", "in.csv", "-o", "out.csv", "--no-progress", cwd=tmp_path)
    assert run.returncode == 2 and not (tmp_path / "out.csv").exists(), run.stderr
    said = " ".join(run.stderr.split())
    assert said.count("paid_in_usd") >= 2 and "differ on row 1" in said and "Traceback" not in said, said
    # the same values in both: read as one column
    (tmp_path / "in.csv").write_text("project_id,year,sector,paid_in_usd,paid_in_usd,fx_rate\nA,2024,services,13000000,13000000,7\n",
                                     encoding="utf-8")
    assert score_file(tmp_path / "in.csv", tmp_path / "out.csv").errors == 0
    assert read_csv(tmp_path / "out.csv")[0]["base_usd"] == "13000000.00"


def test_the_same_chinese_header_twice_in_gbk_and_in_a_workbook_stops_the_run(tmp_path):
    import xlsxwriter

    header = ["项目编号", "年份", "行业", "实际到位外资", "实际到位外资", "汇率"]
    row = ["A", "2024", "服务业", "9000000", "13000000", "7"]
    (tmp_path / "in.csv").write_bytes((",".join(header) + "\n" + ",".join(row) + "\n").encode("gbk"))
    with pytest.raises(InputError, match="实际到位外资.*实际到位外资.*differ on row 1"):
        score_file(tmp_path / "in.csv", tmp_path / "out.csv")
    book = xlsxwriter.Workbook(str(tmp_path / "in.xlsx"))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, header)
    sheet.write_row(1, 0, row)
    book.close()
    with pytest.raises(InputError, match="实际到位外资.*实际到位外资.*differ on row 1"):
        score_file(tmp_path / "in.xlsx", tmp_path / "out.csv")


@FUZZ
@given(data=st.data(), same=st.booleans(), twice=st.integers(2, 3), fmt=st.sampled_from(["csv", "gbk", "xlsx"]))
def test_any_known_header_repeated_exactly_agrees_or_stops(tmp_path, data, same, twice, fmt):
    """Every known field's every name, repeated exactly (in a UTF-8 or GBK CSV, or a workbook): with
    different values the run stops naming it; with the same values the file scores as with one column."""
    from fdi_incentive.io.headers import ALIASES

    values = {"project_id": ("A", "B"), "year": ("2024", "2023"), "sector": ("services", "manufacturing"),
              "paid_in_usd": ("13000000", "9000000"), "fx_rate": ("7", "7.1"), "kind": ("new", "expansion"),
              "industry_code": ("C36", "C39"), "shareholder_loans_usd": ("1", "2"), "reinvested_profit": ("7", "14"),
              "currency": ("USD", "EUR"), "paid_in": ("1", "2"), "reinvested_profit_currency": ("CNY", "USD")}
    canon = data.draw(st.sampled_from(sorted(values)), label="canon")
    name = data.draw(st.sampled_from(ALIASES[canon]), label="name")
    base = {"project_id": "A", "year": "2024", "sector": "services", "paid_in_usd": "13000000", "fx_rate": "7"}
    header = [k for k in base if k != canon] + [name] * twice
    cells = [base[k] for k in base if k != canon] + [values[canon][0]] + [values[canon][0 if same else 1]] * (twice - 1)
    out = tmp_path / "out.csv"
    out.unlink(missing_ok=True)
    src = write_table(tmp_path, [header, cells], fmt)
    if same:
        assert score_file(src, out).rows == 1
        return
    with pytest.raises(InputError, match=re.escape(name.strip()) + ".*differ on row 1"):
        score_file(src, out)
    assert not out.exists()


# --- issue 22, item 14: a UTF-8 BOM before a GBK body ---------------------------------------------

def test_a_utf8_bom_before_a_gbk_body_is_read_as_gbk(tmp_path):
    """The BOM and the first GBK bytes were read as one GB18030 character: 项目编号 became mojibake
    and was ignored. The body is read as what it is; its first header is its name."""
    body = "项目编号,年份,行业,实际到位外资,汇率\n渝A-1,2024,服务业,15000000,7.1\n".encode("gbk")
    (tmp_path / "in.csv").write_bytes(b"\xef\xbb\xbf" + body)
    summary = score_file(tmp_path / "in.csv", tmp_path / "out.csv")
    assert summary.column_mapping["project_id"] == "项目编号" and summary.ignored_columns == []
    row = read_csv(tmp_path / "out.csv")[0]
    assert row["项目编号"] == "渝A-1" and row["base_usd"] == "15000000.00" and not row["error"]
    # named by --encoding alike, and a row's error found on its line of the file
    (tmp_path / "in.csv").write_bytes(b"\xef\xbb\xbf" + body + "渝A-2,2024,服务业,abc,7.1\n".encode("gbk"))
    for given in ("gbk", None):
        summary = score_file(tmp_path / "in.csv", tmp_path / "out.csv", encoding=given)
        assert summary.ignored_columns == [] and [e.line for e in summary.first_errors] == ["line 3"], given


@FUZZ
@given(rows=st.lists(st.tuples(st.sampled_from(["渝A-1", "项目二", "P3"]), st.sampled_from(["服务业", "制造业", "批发和零售业"])),
                     min_size=1, max_size=30),
       encoding=st.sampled_from(["gbk", "gb18030"]), title=st.booleans(), quote=st.booleans())
def test_a_bom_before_any_gbk_file_reads_as_the_file_without_it(tmp_path, rows, encoding, title, quote):
    """A UTF-8 BOM in front of a GBK/GB18030 file (title line or not, a quote inside a cell or
    not) reads exactly as the file without it."""
    text = ("2024年度测算\n" if title else "") + "项目编号,年份,行业,实际到位外资,汇率\n" + "".join(
        f'{p}{"x" if not quote else chr(34) + "x"},2024,{s},15000000,7.1\n' for p, s in rows)
    (tmp_path / "plain.csv").write_bytes(text.encode(encoding))
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + text.encode(encoding))
    a = score_file(tmp_path / "plain.csv", tmp_path / "a.csv")
    b = score_file(tmp_path / "bom.csv", tmp_path / "b.csv")
    assert read_csv(tmp_path / "a.csv") == read_csv(tmp_path / "b.csv")
    assert a.column_mapping == b.column_mapping and b.ignored_columns == [] and b.rows == len(rows)


# --- issue 22, item 19: JSON Lines keys ---------------------------------------------------------

def test_a_key_given_twice_in_a_json_line_is_that_rows_error(tmp_path):
    """`paid_in_usd` 12000000 then 9000000 in one line: the last was taken silently (payout 0)."""
    good = '{"project_id":"B","year":"2024","sector":"services","paid_in_usd":"12000000","fx_rate":"7"}'
    (tmp_path / "in.jsonl").write_text(
        '{"project_id":"A","year":"2024","sector":"services","paid_in_usd":12000000,"paid_in_usd":9000000,"fx_rate":"7"}\n'
        + good + "\n", encoding="utf-8")
    summary = score_file(tmp_path / "in.jsonl", tmp_path / "out.csv")
    a, b = read_csv(tmp_path / "out.csv")
    assert summary.rows == 2 and summary.errors == 1
    assert "paid_in_usd" in a["error"] and "more than once" in a["error"] and a["incentive_cny"] == ""
    assert a["project_id"] == "A" and not b["error"] and b["incentive_cny"] == "1680000.00"


def test_a_key_missing_from_some_json_lines_is_an_empty_cell(tmp_path):
    """`year` in one line, `年份` in the next: the file stopped, blaming row 1 ("年份 empty")."""
    (tmp_path / "in.jsonl").write_text(
        '{"project_id":"A","year":"2024","sector":"services","paid_in_usd":"12000000","fx_rate":"7"}\n'
        '{"project_id":"B","年份":"2024","year":"2024","sector":"services","paid_in_usd":"12000000","fx_rate":"7"}\n'
        '{"project_id":"C","年份":"2024","sector":"services","paid_in_usd":"12000000","fx_rate":"7","note":"x"}\n', encoding="utf-8")
    summary = score_file(tmp_path / "in.jsonl", tmp_path / "out.csv")
    a, b, c = read_csv(tmp_path / "out.csv")
    assert summary.rows == 3 and a["incentive_cny"] == b["incentive_cny"] == "1680000.00"
    assert c["note"] == "x" and (c["error"] or c["incentive_cny"] == "1680000.00")
    # two values that differ in one line still stop the run, as in any file
    (tmp_path / "in.jsonl").write_text(
        '{"project_id":"A","year":"2024","年份":"2023","sector":"services","paid_in_usd":"12000000","fx_rate":"7"}\n', encoding="utf-8")
    with pytest.raises(InputError, match="year, 年份"):
        score_file(tmp_path / "in.jsonl", tmp_path / "out.csv")


@FUZZ
@given(lines=st.lists(st.tuples(st.sets(st.sampled_from(["year", "年份", "sector", "paid_in_usd", "实际到位外资", "note"])),
                                st.lists(st.sampled_from(["paid_in_usd", "year", "note"]), max_size=2)),
                      min_size=1, max_size=8))
def test_json_lines_with_any_keys_missing_or_repeated_keep_every_row(tmp_path, lines):
    """Lines with any subset of keys and any key repeated: every line is a row; a repeated key
    makes its row an error naming the key; a missing key is an empty cell (no other row blamed)."""
    value = {"year": '"2024"', "年份": '"2024"', "sector": '"services"', "paid_in_usd": '"12000000"', "实际到位外资": '"12000000"',
             "note": '"n"'}
    text = []
    for n, (keys, again) in enumerate(lines):
        pairs = [f'"project_id": "P{n}"', '"fx_rate": "7"'] + [f'"{k}": {value[k]}' for k in sorted(keys)]
        pairs += [f'"{k}": {value[k]}' for k in again]
        text.append("{" + ", ".join(pairs) + "}")
    (tmp_path / "in.jsonl").write_text("\n".join(text) + "\n", encoding="utf-8")
    try:
        summary = score_file(tmp_path / "in.jsonl", tmp_path / "out.csv")
    except InputError as exc:  # (no line names a year, an amount and a sector: no file to score)
        assert "a header naming" in str(exc), str(exc)
        return
    got = read_csv(tmp_path / "out.csv")
    assert summary.rows == len(got) == len(lines)
    for (keys, again), row in zip(lines, got):
        repeated = sorted(k for k in set(again) if (k in keys) + again.count(k) > 1)
        if repeated:
            assert "more than once" in row["error"] and all(k in row["error"] for k in repeated), row
        elif {"year", "年份"} & keys and {"paid_in_usd", "实际到位外资"} & keys and "sector" in keys:
            assert row["error"] == "" or "missing" in row["error"], row


# --- issue 22, item 15: a record past the size limit --------------------------------------------

@pytest.mark.parametrize("quoted", [False, True])
def test_a_record_past_the_limit_is_refused_quickly_naming_its_line(tmp_path, monkeypatch, quoted):
    """A record longer than the limit was refused as "a quote that never closes?" when it held no
    quote, and a properly quoted cell that long took 25 s to refuse: the message names its line and
    the limit, and comes at once."""
    import time

    monkeypatch.setattr(csvfile, "LONGEST", 4 << 20)  # (the test of a 64 MiB record, at 4 MiB, in blocks of 1 MiB)
    monkeypatch.setattr(readers, "csv_blocks", functools.partial(csv_blocks, block=1 << 20))
    cell = ("x" * 99 + "\n") * (50_000) if quoted else "x" * (5 << 20)
    (tmp_path / "in.csv").write_text("project_id,year,sector,paid_in_usd,note\nA,2024,services,15000000,x\n"
                                     "B,2024,services,15000000,x\n"
                                     + ('C,2024,services,15000000,"' + cell + '"\n' if quoted else f"C,2024,services,15000000,{cell}\n"),
                                     encoding="utf-8")
    began = time.monotonic()
    with pytest.raises(InputError) as exc:
        score_file(tmp_path / "in.csv", tmp_path / "out.csv", options=OPTS)
    said = str(exc.value)
    assert "line 4" in said and "4 MiB" in said and ("never closes" not in said or quoted), said
    assert time.monotonic() - began < 5


@FUZZ
@given(long=st.booleans(), quoted=st.booleans(), lines_in_cell=st.booleans(), titles=st.integers(0, 2), stray=st.booleans(),
       encoding=st.sampled_from(["utf-8", "gbk"]), before=st.integers(0, 30))
def test_a_record_of_any_length_is_read_whole_or_refused_naming_its_line(tmp_path, monkeypatch, long, quoted, lines_in_cell,
                                                                          titles, stray, encoding, before):
    """A record under the limit is read whole; past it (quoted or not, a title line above the
    header or not, read in blocks or row by row, in any encoding) the file is refused naming the
    line the record starts on and the limit."""
    monkeypatch.setattr(csvfile, "LONGEST", 64 << 10)
    monkeypatch.setattr(readers, "csv_blocks", functools.partial(csv_blocks, block=16 << 10))
    limit = csvfile.csv.field_size_limit(64 << 10)  # (the row-by-row reading's bound: `LONGEST`, here 64 KiB)
    try:
        size = (128 << 10) if long else (12 << 10)
        piece = ("y" * 63 + "\n") if quoted and lines_in_cell else "y" * 64
        cell = piece * (size // 64)
        cell = f'"{cell}"' if quoted else cell
        text = "".join(f"报表{i}\n" for i in range(titles)) + "project_id,year,sector,paid_in_usd,fx_rate,note\n"
        text += "".join(f"P{i},2024,services,15000000,7.1,{'x' + chr(34) + 'y' if stray and i == 0 else 'n'}\n" for i in range(before))
        line = titles + 2 + before
        text += f"Q,2024,services,15000000,7.1,{cell}\nZ,2024,services,15000000,7.1,n\n"
        (tmp_path / "in.csv").write_bytes(text.encode(encoding))
        out = tmp_path / "out.csv"
        out.unlink(missing_ok=True)
        if not long:
            summary = score_file(tmp_path / "in.csv", out)
            assert summary.rows == before + 2
            assert read_csv(out)[-2]["note"] == cell.strip('"')
            return
        with pytest.raises(InputError) as exc:
            score_file(tmp_path / "in.csv", out)
        said = str(exc.value)
        assert f"line {line:,}" in said and "64 KiB" not in said and "0.0625 MiB" in said and "in.csv" in said, said
        assert "scratch" not in said and not out.exists()
    finally:
        csvfile.csv.field_size_limit(limit)


def test_a_json_line_past_the_limit_is_that_rows_error(tmp_path, monkeypatch):
    """A JSON line longer than a CSV record may be: its row's error, every other line read (it was
    refused as a record of the converted file, naming a temporary file's line)."""
    monkeypatch.setattr(csvfile, "LONGEST", 64 << 10)
    monkeypatch.setattr(readers, "csv_blocks", functools.partial(csv_blocks, block=16 << 10))
    good = '{"project_id":"%s","year":"2024","sector":"services","paid_in_usd":"12000000","fx_rate":"7","note":"%s"}\n'
    (tmp_path / "in.jsonl").write_text(good % ("A", "n") + good % ("B", "y" * (100 << 10)) + good % ("C", "n"), encoding="utf-8")
    summary = score_file(tmp_path / "in.jsonl", tmp_path / "out.csv")
    a, b, c = read_csv(tmp_path / "out.csv")
    assert summary.rows == 3 and summary.errors == 1 and "line 2 is longer than 0.0625 MiB" in b["error"]
    assert a["incentive_cny"] == c["incentive_cny"] == "1680000.00"
