"""`fdi batch`: the same numbers as `fdi calc`, every row kept, bad rows explained."""

import csv
import io
import re
import tempfile
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

import fdi_incentive.io.readers as readers
from fdi_incentive import InputError, Project, assess
from fdi_incentive.batch import score_file
from fdi_incentive.frame import RESULT_COLUMNS, Options

from .strategies import amounts_usd, control_texts, formula_texts, fx_rates, number_texts, projects_rows, year_texts

COMPARED = ["policy", "policy_status", "eligible", "tier", "rate", "base_usd", "fx_rate", "base_cny", "gross_cny", "capped", "incentive_cny"]
HEADER = ["project_id", "year", "kind", "sector", "industry_code", "paid_in_usd", "shareholder_loans_usd",
          "reinvested_profit", "fx_rate"]

sector_or_code = st.one_of(
    st.tuples(st.sampled_from(["manufacturing", "services", "Electronics", "real-estate", "finance", "quasi_finance",
                               "consumer-goods", "other"]), st.just("")),
    st.tuples(st.just(""), st.sampled_from(["C", "36", "C3670", "K7010", "J66", "7212", "I65", "7299", "L7296"])),
    st.tuples(st.sampled_from(["manufacturing"]), st.sampled_from(["C36", "3670"])),
    st.tuples(st.sampled_from(["电子信息", "汽车", "医药", "批发和零售业", "汽车制造业", "餐饮业", "货币金融服务", "其他金融业"]),
              st.just("")),
    st.tuples(st.sampled_from(["新能源整车", "不知道"]), st.sampled_from(["C3670", "F51", "7212", "7299"])),  # the code decides
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
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def calc_json(year, kind, sector, code, paid, loans, profit, fx):
    project = Project.for_year(year, paid_in=paid, shareholder_loans_usd=loans, reinvested_profit=profit,
                               kind=kind or "new", sector=sector or None, industry_code=code or None)
    y = assess(project, fx=fx).years[0].model_dump(mode="json")
    return {k: ("" if y[k] is None else str(y[k]).lower() if isinstance(y[k], bool) else str(y[k])) for k in COMPARED}


# a unit in the amount columns' headers, and what a cell is divided by for it
HEADER_UNITS = st.sampled_from([("", 1), ("（万美元）", 10000), ("(USD 10k)", 10000), ("(美元)", 1), (" [USD m]", 10**6)])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(project_year, min_size=1, max_size=40), HEADER_UNITS, st.booleans(), st.sampled_from(["", "合计", "总计", "Total"]),
       st.booleans())
def test_batch_equals_calc_field_by_field(tmp_path, rows, unit, total, grand, off):
    """Whatever the unit the headers name (and with total rows, kept and checked: a 小计 below the
    first half of the rows, against them; a grand total or a last 合计 below the rest, against all,
    right or ``off`` by a cent)."""
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    words, scale = unit

    def cell(amount: D) -> str:
        return f"{(amount / scale).normalize():f}" if scale != 1 else f"{amount}"

    def total_row(label: str, part: list, cent: D = D(0)) -> list[str]:
        return [label, "", "", "", "", cell(sum(r[3] for r in part) + cent), "", "", ""]

    header = [f"{h}{words}" if h in ("paid_in_usd", "shareholder_loans_usd") else h for h in HEADER]
    data = [[f"P{i}", str(y), k, s, c, cell(p), cell(lo) if lo else "", f"{pr}" if pr else "", f"{fx}"]
            for i, (y, k, (s, c), p, lo, pr, fx) in enumerate(rows)]
    half = len(rows) // 2 if grand else len(rows)  # (a 小计 after the first half, when a grand total follows)
    written = data[:half] + ([total_row("小计", rows[:half])] if grand else []) + data[half:]
    write_csv(src, written + ([total_row(grand or "合计", rows, D("0.01") if off else D(0))] if total else []), header=header)
    summary = score_file(src, out)
    checks = [(t.label, t.checks[header[5]]) for t in summary.totals]
    below = lambda part, cent=D(0): (not off or not cent) if sum(r[3] for r in part) + cent < 10**14 else None  # noqa: E731
    assert [(label, c.rows, c.equal) for label, c in checks] == (  # (an amount past the bounds: no check)
        ([("小计", half, below(rows[:half]))] if grand else [])
        + ([(grand or "合计", len(rows), below(rows, D("0.01")))] if total else []))
    total = len(checks)
    got = read_csv(out)
    assert len(got) == len(rows) + total == summary.rows and summary.errors == 0
    got = [row for row in got if not row["reason"].startswith("total row")]
    for i, ((y, k, (s, c), p, lo, pr, fx), row) in enumerate(zip(rows, got)):
        assert row["project_id"] == f"P{i}"  # input order kept
        expected = calc_json(y, k, s, c, p, lo, pr, fx)
        assert {k2: row[k2] for k2 in COMPARED} == expected, (i, rows[i])


# --- files as users bring them ---------------------------------------------------------------

def test_every_row_kept_in_order_with_errors_explained(tmp_path):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    write_csv(src, [
        ["A", "2024", "new", "manufacturing", "", "40000000", "", "", "7.1"],
        ["B", "2024", "new", "widgets", "", "1", "", "", "7.1"],
        ["C", "", "new", "services", "", "5", "", "", "7.1"],
        ["D", "2024", "merger", "services", "", "-3", "", "", "7.1"],
        ["E", "2017", "new", "services", "", "5.001", "", "", "0"],
        ["F", "2024", "new", "manufacturing", "K7010", "5", "", "", "7.1"],
    ])
    summary = score_file(src, out)
    rows = read_csv(out)
    assert [r["project_id"] for r in rows] == list("ABCDEF")
    assert summary.rows == 6 and summary.errors == 5 and summary.scored == 1
    errors = {r["project_id"]: r["error"] for r in rows}
    assert errors["A"] == "" and rows[0]["incentive_cny"] == "10000000.00"
    assert "sector: 'widgets' is not valid" in errors["B"]
    assert "year: missing" in errors["C"]
    assert "kind: 'merger' is not valid" in errors["D"] and "paid_in_usd: '-3'" in errors["D"]
    assert "no policy is in force in 2017" in errors["E"] and "at most two decimal places" in errors["E"]
    assert "fx_rate: '0' is not valid" in errors["E"]
    assert "agrees with industry code K7010" in errors["F"]
    assert all(r["incentive_cny"] == "" for r in rows[1:])  # no half-scored rows
    assert [e.row for e in summary.first_errors] == [2, 3, 4, 5, 6]


def test_gbk_chinese_headers_units_and_kinds(tmp_path):
    src, out = tmp_path / "bureau.csv", tmp_path / "out.csv"
    write_csv(src, [["渝A-001", "2024年", "增资", "制造业", "4,200", "500"], ["渝A-002", "2024", "新设", "房地产业", "9000", "0"]],
              header=["项目编号", "年份", "项目类型", "行业", "实际到位外资（万美元）", "外方股东贷款"], encoding="gbk")
    summary = score_file(src, out, options=Options(fx_rate=D("7.2"), unit=D(10000)))
    rows = read_csv(out)
    assert summary.column_mapping["paid_in_usd"] == "实际到位外资（万美元）"
    assert rows[0]["项目编号"] == "渝A-001" and rows[0]["base_usd"] == "42000000.00" and rows[0]["tier"] == "manufacturing"
    assert rows[1]["eligible"] == "false" and rows[1]["reason"].startswith("excluded: real-estate")


def test_gbk_is_transcoded_as_it_is_read_whatever_the_blocks(tmp_path, monkeypatch):
    """A GBK file is transcoded block by block as it is read, not copied first: the same rows and
    summary as the file saved in UTF-8, with blocks and the codec's chunks falling inside
    two-byte characters; a row longer than the header sends it through the row-by-row reader
    with its characters intact; a GBK ledger and project file are transcoded as they are read
    too; and no temporary file is left."""
    import functools

    import fdi_incentive.batch as batch
    from fdi_incentive.io.readers import csv_blocks

    header = ["项目编号", "年份", "项目类型", "行业", "实际到位外资"]
    rows = [[f"渝A-{i:04d}", "2024", "增资" if i % 2 else "新设", "制造业" if i % 3 else "房地产业", str(20_000_000 + i * 7919)]
            for i in range(3000)]
    gbk, utf8 = tmp_path / "gbk.csv", tmp_path / "utf8.csv"
    write_csv(gbk, rows, header=header, encoding="gbk")
    write_csv(utf8, rows, header=header)
    opts = Options(fx_rate=D("7.1"))
    want = score_file(utf8, tmp_path / "want.csv", options=opts)
    blocks = list(csv_blocks(gbk, block=997, encoding="gbk"))  # (an odd size: cuts fall inside characters)
    assert b"".join(b.split(b"\n", 1)[1] for b, _ in blocks) == utf8.read_bytes().split(b"\n", 1)[1]
    assert blocks[-1][1] == gbk.stat().st_size  # progress ends at the file's size
    monkeypatch.setattr(readers, "csv_blocks", functools.partial(csv_blocks, block=4093))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    got = score_file(gbk, tmp_path / "got.csv", options=opts)
    assert (tmp_path / "got.csv").read_bytes() == b"\xef\xbb\xbf" + (tmp_path / "want.csv").read_bytes()  # (a BOM: came as GBK)
    assert got.input_format == "transcoded from gb18030"
    assert got.model_dump(exclude={"input", "input_format", "output", "notes"}) == \
        want.model_dump(exclude={"input", "input_format", "output", "notes"})
    # a row longer than the header: read again row by row, from GBK
    write_csv(gbk, [*rows[:5], [*rows[5], "多余"], *rows[6:10]], header=header, encoding="gbk")
    summary = score_file(gbk, tmp_path / "ragged.csv", options=opts)
    out = read_csv(tmp_path / "ragged.csv")
    assert summary.rows == 10 and summary.errors == 1 and "fields" in out[5]["error"]
    assert [r["项目编号"] for r in out] == [r[0] for r in rows[:10]] and out[1]["行业"] == "制造业"
    assert [r["incentive_cny"] for r in out[:5]] == [r["incentive_cny"] for r in read_csv(tmp_path / "want.csv")[:5]]
    # a GBK ledger and project file
    ledger, projects = tmp_path / "ledger.csv", tmp_path / "projects.csv"
    write_csv(ledger, [["渝A-1", "2024-03-15", "equity", "40000000", "USD"]], header=["项目编号", "date", "type", "amount", "currency"],
              encoding="gbk")
    write_csv(projects, [["渝A-1", "新设", "制造业"]], header=["项目编号", "项目类型", "行业"], encoding="gbk")
    score_file(ledger, tmp_path / "l.csv", options=opts, projects_path=projects)
    assert read_csv(tmp_path / "l.csv")[0]["incentive_cny"] == "10000000.00"
    assert list((tmp_path / "tmp").iterdir()) == []


def test_formula_like_text_is_neutralised_in_csv(tmp_path):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    write_csv(src, [["=HYPERLINK(\"http://x\")", "2024", "new", "services", "", "15000000", "", "", "7.2"],
                    ["@SUM(A1)", "2024", "new", "services", "", "15000000", "", "", "7.2"]])
    score_file(src, out)
    rows = read_csv(out)
    assert rows[0]["project_id"].startswith("'=") and rows[1]["project_id"].startswith("'@")
    assert rows[0]["incentive_cny"] == "2160000.00"


def test_every_input_column_is_kept_whatever_its_name(tmp_path):
    """Columns of the user's own named like the tool's internal ones (__note, __line, _ok:...) are
    kept with their cells, in CSV (records copied as they stand, or rebuilt) and in Excel."""
    src = tmp_path / "in.csv"
    header = [*HEADER, "__note", "__line", "_ok:paid_in_usd"]
    write_csv(src, [["P1", "2024", "new", "services", "", "15000000", "", "", "7.2", "hello", "x", "y"],
                    ["P2", "2024", "new", "services", "", "15000000", "", "", "7.2", "=1+1", "-z", "w"]], header=header)
    score_file(src, tmp_path / "out.csv")
    rows = read_csv(tmp_path / "out.csv")
    assert [[r[c] for c in header[-3:]] for r in rows] == [["hello", "x", "y"], ["'=1+1", "'-z", "w"]]
    assert [r["incentive_cny"] for r in rows] == ["2160000.00", "2160000.00"]
    score_file(src, tmp_path / "out.xlsx")
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_path(str(tmp_path / "out.xlsx")).get_sheet_by_index(0).to_python()
    assert sheet[0][:len(header)] == header and [r[len(HEADER):len(header)] for r in sheet[1:]] == \
        [["hello", "x", "y"], ["'=1+1", "'-z", "w"]]


extra_name = st.one_of(
    st.sampled_from(["", " ", "x", "x", "x_1", "x_1_1", "__note", "__line", "__parse_error_x", "policy", "fdi_policy",
                     "error", "column_12", "年份备注", "_ok:paid_in_usd", "a,b", 'q"', "=x", "x\xa0=1", "\ufeff@x",
                     "*", "^.*$", "^project_id$", "^x"]),  # (polars reads '*' and '^…$' as patterns, not names)
    st.text(alphabet=st.characters(exclude_categories=["Cs", "Cc"]), max_size=8))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(extra_name, min_size=1, max_size=6), cells=st.lists(st.sampled_from(["a", "", "=x", "-1", "中"]), min_size=6,
                                                                          max_size=6))
@example(names=["x", "x", "x_1"], cells=["a", "b", "c", "", "", ""])  # a name made unique may be one the header has
@example(names=["", "__note", "policy"], cells=["a", "=x", "-1", "", "", ""])
@example(names=["*", "^.*$"], cells=["a", "b", "", "", "", ""])  # a column named like a pattern is still one column
def test_any_header_keeps_every_column_and_cell(tmp_path, names, cells):
    """Extra columns of any name (blank, repeated, like the tool's own or its results) are all kept,
    each under a name of its own, with their cells (formula-like text neutralised)."""
    from hypothesis import assume

    from fdi_incentive.io.headers import canonical, normalise_header, ALIASES
    from fdi_incentive.io.readers import describe
    from fdi_incentive.io.units import bracketed

    known = {normalise_header(a) for names_ in ALIASES.values() for a in names_}
    # (a name that names a known column is another test's: it must agree with it, or stop the run)
    assume(all(canonical(n) is None and normalise_header((bracketed(n) or (n, ""))[0]) not in known for n in names))
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    row = ["P1", "2024", "new", "services", "", "15000000", "", "", "7.2", *cells[:len(names)]]
    write_csv(src, [row, row], header=[*HEADER, *names])
    summary = score_file(src, out)
    with out.open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    shown = describe(src).columns
    from fdi_incentive.text import neutral

    assert summary.rows == len(rows) == 2 and len(set(shown)) == len(shown) and len(header) == len(shown) + len(RESULT_COLUMNS)
    assert header[:len(shown)] == [neutral(name) for name in shown]  # (a name too may begin with =)
    expected = ["'" + c if c[:1] in ("=", "-") else c for c in row]
    assert all(r[:len(shown)] == expected for r in rows) and all(r[header.index(
        "incentive_cny" if "incentive_cny" not in shown else "fdi_incentive_cny")] == "2160000.00" for r in rows)


def test_output_formats_and_refusals(tmp_path):
    src = tmp_path / "in.csv"
    write_csv(src, [["P1", "2024", "new", "services", "", "15000000.01", "", "", "7.2"]])
    import duckdb

    for name in ("out.parquet", "out.jsonl", "out.xlsx"):
        score_file(src, tmp_path / name)
    assert duckdb.sql(f"SELECT incentive_cny FROM '{tmp_path / 'out.parquet'}'").fetchall()[0][0] == D("2160000.00")
    assert '"incentive_cny":"2160000.00"' in (tmp_path / "out.jsonl").read_text(encoding="utf-8")
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_path(str(tmp_path / "out.xlsx")).get_sheet_by_index(0).to_python()
    assert sheet[0][-2] == "reason" and sheet[1][sheet[0].index("incentive_cny")] == 2160000.0  # (a number: SUM works)
    out = tmp_path / "out.csv"
    out.write_text("an earlier run's output\n", encoding="utf-8")
    score_file(src, out)  # a file of that name is replaced whole
    assert read_csv(out)[0]["incentive_cny"] == "2160000.00"
    with pytest.raises(InputError, match="other than the input"):
        score_file(src, src)
    with pytest.raises(InputError, match="ending in .csv"):
        score_file(src, tmp_path / "out.txt")
    assert not list(tmp_path.glob("*.part"))  # no half-written files left behind


def test_excel_and_jsonl_inputs_keep_amounts_exact(tmp_path):
    import json

    import xlsxwriter

    book = xlsxwriter.Workbook(str(tmp_path / "in.xlsx"))
    sheet = book.add_worksheet()
    for i, row in enumerate([["Project ID", "Year", "Sector", "Paid In USD", "FX Rate"], ["X1", 2024, "services", 10000000.01, 7.2]]):
        sheet.write_row(i, 0, row)
    book.close()
    score_file(tmp_path / "in.xlsx", tmp_path / "x.csv")
    assert read_csv(tmp_path / "x.csv")[0]["base_usd"] == "10000000.01"
    # a workbook that opens with a sheet of notes: the first sheet whose header names a year is read
    book = xlsxwriter.Workbook(str(tmp_path / "notes-first.xlsx"))
    book.add_worksheet("说明").write(0, 0, "本表为2024年外资到位情况")
    data = book.add_worksheet("数据")
    for i, row in enumerate([["项目编号", "年份", "行业", "实际到位外资"], ["X2", 2024, "制造业", 40000000]]):
        data.write_row(i, 0, row)
    book.close()
    summary = score_file(tmp_path / "notes-first.xlsx", tmp_path / "n.csv", options=Options(fx_rate=D("7.1")))
    assert summary.input_format == "Excel sheet '数据'" and read_csv(tmp_path / "n.csv")[0]["tier"] == "manufacturing"
    # and a sheet with a title (merged cells) and a line of who filed it above its header
    book = xlsxwriter.Workbook(str(tmp_path / "titled.xlsx"))
    sheet = book.add_worksheet("表1")
    sheet.merge_range(0, 0, 0, 3, "2024年外资项目到位情况统计表")
    sheet.write_row(1, 0, ["填报单位：某区商务委", "", "", "单位：美元"])
    for i, row in enumerate([["项目编号", "年份", "行业", "实际到位外资"], ["X3", 2024, "制造业", 40000000]], start=2):
        sheet.write_row(i, 0, row)
    book.close()
    summary = score_file(tmp_path / "titled.xlsx", tmp_path / "t.csv", options=Options(fx_rate=D("7.1")))
    rows = read_csv(tmp_path / "t.csv")
    assert summary.input_format == "Excel sheet '表1', header on row 3" and summary.rows == 1
    assert rows[0]["项目编号"] == "X3" and rows[0]["tier"] == "manufacturing"
    (tmp_path / "in.jsonl").write_text(
        json.dumps({"project_id": "J1", "year": 2024, "sector": "services", "paid_in_usd": 15000000.01, "fx_rate": 7.2})
        + "\nnot json\n", encoding="utf-8")
    summary = score_file(tmp_path / "in.jsonl", tmp_path / "j.csv")
    rows = read_csv(tmp_path / "j.csv")
    assert rows[0]["base_usd"] == "15000000.01" and rows[1]["error"].startswith("line 2 is not a JSON object")
    assert summary.rows == 2 and summary.errors == 1
    # read a line at a time: a bad line first, a key first met on a later line becomes a column at the end
    lines = ["[1, 2]", json.dumps({"project_id": "J1", "year": 2024, "sector": "services", "paid_in_usd": "15000000"}),
             json.dumps({"note": "新", "project_id": "J2", "year": 2024, "sector": "services", "paid_in_usd": "15000000",
                         "reinvested_profit": "5000000"})]
    (tmp_path / "late.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    score_file(tmp_path / "late.jsonl", tmp_path / "late.csv", options=Options(fx_rate=D("7.2")))
    rows = read_csv(tmp_path / "late.csv")
    assert list(rows[0])[:6] == ["project_id", "year", "sector", "paid_in_usd", "note", "reinvested_profit"]
    assert rows[0]["error"].startswith("line 1 is not a JSON object") and rows[0]["project_id"] == ""
    assert (rows[1]["note"], rows[1]["base_usd"]) == ("", "15000000.00")
    assert (rows[2]["note"], rows[2]["base_usd"]) == ("新", "15694444.44")  # (+ CNY 5,000,000 at 7.2)


# Cells that users' files really contain: numbers in odd forms, junk, quotes, newlines, long text, formulas.
cell = st.one_of(
    st.sampled_from(["", " ", "15000000", "15,000,000.00", "-1", "1e400", "NaN", "abc", "=1+1", "+7", "@x", "\"q\"",
                     "a,b", "line\nbreak", "x" * 5000, "2024", "制造业", "增资", "C3670", "0.000001", "\t", "7.2"]),
    st.text(max_size=30),
    number_texts, year_texts, formula_texts, control_texts,  # spaced numbers, extreme magnitudes, formulas after blanks
)


@pytest.mark.parametrize("encoding, newline, delimiter", [("utf-8", "\n", ","), ("utf-8-sig", "\r\n", ","),
                                                          ("gbk", "\r\n", ","), ("utf-8", "\n", ";")])
def test_title_lines_above_a_csv_header_are_passed_over(tmp_path, encoding, newline, delimiter):
    """A CSV as a bureau exports its sheet: a title line and a line of who filed it above the
    header. The header is the first of the first 20 lines that names a year (or a ledger's date
    and amount); the rows and their numbers are as if the file began there, and the summary says
    so. A file with no such line anywhere is refused as before."""
    head = ["项目编号", "年份", "行业", "实际到位外资"]
    body = [["X1", "2024", "制造业", "40000000"], ["X2", "2024", "服务业", "abc"], ["X3", "2023", "服务业", "15000000"]]
    plain, titled = tmp_path / "plain.csv", tmp_path / "titled.csv"
    for path, above in ((plain, []), (titled, [["2024年外资项目到位情况统计表", "", "", ""], ["填报单位：某区商务委", "", "", "单位：美元"]])):
        text = newline.join(delimiter.join(row) for row in [*above, head, *body]) + newline
        path.write_bytes(text.encode(encoding))
    opts = Options(fx_rate=D("7.1"))
    want = score_file(plain, tmp_path / "plain-out.csv", options=opts)
    got = score_file(titled, tmp_path / "titled-out.csv", options=opts)
    assert (tmp_path / "titled-out.csv").read_bytes() == (tmp_path / "plain-out.csv").read_bytes()
    assert got.rows == 3 and got.first_errors[0].row == want.first_errors[0].row == 2
    assert (want.first_errors[0].line, got.first_errors[0].line) == ("line 3", "line 5")  # (title lines counted)
    assert got.input_format.endswith("header on line 3, 2 title lines above it passed over")
    assert got.column_mapping == want.column_mapping and got.by_year == want.by_year
    # a ledger under a title line
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("资金到位台账\nproject_id,date,type,amount,currency,kind,sector\n"
                      "a,2024-03-15,equity,40000000,USD,new,manufacturing\n", encoding="utf-8")
    summary = score_file(ledger, tmp_path / "l-out.csv", options=opts)
    assert summary.shape == "ledger" and read_csv(tmp_path / "l-out.csv")[0]["incentive_cny"] == "10000000.00"
    # a ledger's project file (--projects) under a title and a blank line
    ledger.write_text("project_id,date,type,amount,currency\na,2024-03-15,equity,40000000,USD\n", encoding="utf-8")
    projects = tmp_path / "projects.csv"
    projects.write_text("项目清单\n\nproject_id,kind,sector\na,new,manufacturing\n", encoding="utf-8")
    score_file(ledger, tmp_path / "p-out.csv", options=opts, projects_path=projects)
    assert read_csv(tmp_path / "p-out.csv")[0]["tier"] == "manufacturing"
    # no header anywhere: the first line is taken for it, and the error names what it holds
    (tmp_path / "none.csv").write_text("统计表\n说明\nA,B\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="the header has .统计表."):
        score_file(tmp_path / "none.csv", tmp_path / "n.csv")


title_cell = st.text(alphabet=st.characters(blacklist_characters="\r\n\0", blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(title_cell, max_size=6), min_size=1, max_size=5))
@example(titles=[[]])  # a blank line above the header
@example(titles=[["", "", ""], ["2024年度统计表"]])
def test_any_title_lines_above_the_header_change_nothing_below_it(tmp_path, titles):
    """Whatever stands in the lines above the header (blank lines, rows of empty cells, quotes,
    commas, other delimiters), as long as none of them names a year, the rows and the output
    are those of the same file without them."""
    from fdi_incentive.io.readers import map_columns, names_a_header

    for title in titles:
        assume(not names_a_header(map_columns([c.strip() for c in title])))
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(titles)
    body = io.StringIO()
    rows = [["X1", "2024", "new", "manufacturing", "", "40000000", "", "", "7.1"], ["X2", "2024", "new", "services", "", "x", "", "", ""]]
    csv.writer(body, lineterminator="\n").writerows([HEADER, *rows])
    (tmp_path / "plain.csv").write_text(body.getvalue(), encoding="utf-8")
    (tmp_path / "titled.csv").write_text(text.getvalue() + body.getvalue(), encoding="utf-8")
    want = score_file(tmp_path / "plain.csv", tmp_path / "plain-out.csv")
    got = score_file(tmp_path / "titled.csv", tmp_path / "titled-out.csv")
    assert (tmp_path / "titled-out.csv").read_bytes() == (tmp_path / "plain-out.csv").read_bytes()
    assert got.input_format.startswith(f"CSV, header on line {len(titles) + 1}, {len(titles)} title line")
    mine = {"input", "input_format", "input_sha256", "output", "notes"}
    lines = [(int(w.line.split()[1]), int(g.line.split()[1])) for w, g in zip(want.first_errors, got.first_errors)]
    assert lines and all(g == w + text.getvalue().count("\n") for w, g in lines)  # the file's lines, titles counted
    for s in (got, want):
        for e in s.first_errors:
            e.line = None
    assert got.model_dump(exclude=mine) == want.model_dump(exclude=mine)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(cell, min_size=0, max_size=11), min_size=1, max_size=25))
@example(rows=[[" "]])  # a line of one space is a row; a line of nothing is not
@example(rows=[[""], [], ["", "", ""]])
@example(rows=[["", "", "", "", "", "1e400"]])  # an amount no decimal context can hold to the cent
def test_malformed_files_never_crash_and_never_lose_a_row(tmp_path, rows):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    write_csv(src, [[c.replace("\0", "") for c in r] for r in rows])
    with src.open(encoding="utf-8", newline="") as f:
        # data rows as a CSV reader sees them; a blank line or a row of empty cells is none
        expected = sum(1 for r in csv.reader(f) if any(r)) - 1
    summary = score_file(src, out)
    got = read_csv(out)
    assert len(got) == expected == summary.rows
    for r in got:
        assert r["error"] or r["incentive_cny"], r  # every row scored or explained


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(cell, min_size=0, max_size=11), min_size=1, max_size=25),
       st.sampled_from(["utf-8", "utf-8-sig", "gbk", "utf-16"]), st.lists(st.integers(0, 10**6), max_size=4))
@example(rows=[["P1", "2024", "new", "制造业", "", "40000000"]] * 3, encoding="utf-8", strays=[5, 60])
def test_odd_encodings_and_stray_bytes_never_crash_and_never_lose_a_row(tmp_path, rows, encoding, strays):
    """The malformed files above, saved as Excel and other programs save them (UTF-8 with a BOM,
    GBK, UTF-16) and with stray bytes that belong to no encoding (0xFF) pasted at the start of
    data cells (not before a quote: that would change where cells end): every row is still there, scored or with its error, and the run never fails."""
    text = io.StringIO()
    csv.writer(text).writerows([HEADER, *([c.replace("\0", "") for c in r] for r in rows)])
    data = bytearray(text.getvalue().encode(encoding, errors="replace"))
    if encoding != "utf-16":  # (in an ASCII-compatible encoding, a byte after a comma starts a cell)
        body = data.index(b"\n")  # (the header's names stay as they are)
        commas = [i for i, b in enumerate(data[:-1]) if b == ord(",") and i > body and data[i + 1] != ord('"')]
        for at in sorted({commas[k % len(commas)] + 1 for k in strays} if commas else (), reverse=True):
            data[at:at] = b"\xff"
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_bytes(bytes(data))
    # the data rows as a CSV reader sees them, whatever the cells' characters (a blank row is none)
    as_text = bytes(data).decode("utf-16") if encoding == "utf-16" else bytes(data).decode("latin-1")
    expected = sum(1 for r in csv.reader(io.StringIO(as_text.lstrip("\ufeff").lstrip("\xef\xbb\xbf"), newline="")) if any(r)) - 1
    summary = score_file(src, out)
    got = read_csv(out)
    assert len(got) == expected == summary.rows
    for r in got:
        assert r["error"] or r["incentive_cny"], r


repeating = st.sampled_from(["", "2024", "2019", "1899", "new", "增资", "x", "services", "制造业", "C3670", "K70", "7.2",
                             "6.9", "abc", "USD", "eur", "15000000", "15,000,000.00", "30000000.01", "-1", "=1"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(repeating, min_size=10, max_size=10), min_size=1, max_size=60), block=st.integers(200, 2000))
def test_where_blocks_fall_changes_nothing(tmp_path, monkeypatch, rows, block):
    """Answers for distinct cells are kept from block to block (codes of values seen before, tables of
    pairs, columns found to need cleaning): a file scored in small blocks gives the bytes and the
    summary it gives whole, whatever its cells."""
    import functools

    import fdi_incentive.batch as batch
    from fdi_incentive.io.readers import csv_blocks

    src = tmp_path / "in.csv"
    write_csv(src, rows, header=[*(h if h != "paid_in_usd" else "paid_in" for h in HEADER), "currency"])
    whole = score_file(src, tmp_path / "whole.csv", options=Options(fx_rate=D("7.0")))
    monkeypatch.setattr(readers, "csv_blocks", functools.partial(csv_blocks, block=block))
    pieces = score_file(src, tmp_path / "pieces.csv", options=Options(fx_rate=D("7.0")))
    monkeypatch.undo()
    assert (tmp_path / "pieces.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    assert pieces.model_dump(exclude={"output"}) == whole.model_dump(exclude={"output"})


# --- the ledger shape --------------------------------------------------------------------------

from datetime import date  # noqa: E402

from fdi_incentive import Arrival, RateChain, RateTable  # noqa: E402

RATES = Path(__file__).parents[1] / "examples" / "pboc-central-parity.csv"
DAYS = [date(2024, 3, 15), date(2024, 9, 2), date(2025, 4, 10), date(2025, 6, 30), date(2026, 2, 20)]
arrival = st.tuples(
    st.sampled_from(["p1", "p2", "p3"]), st.sampled_from(DAYS),
    st.sampled_from(["equity", "equity", "reinvested_profit", "shareholder_loan"]),
    st.one_of(amounts_usd, st.sampled_from([D("10000000"), D("30000000.01"), D("4999999.99")])),
    st.sampled_from(["USD", "USD", "EUR", "CNY"]),
)
SECTOR_OF = {"p1": "manufacturing", "p2": "services", "p3": "real-estate"}


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(arrival, min_size=1, max_size=15))
def test_ledger_equals_assess_per_project_year(tmp_path, arrivals):
    src, out = tmp_path / "ledger.csv", tmp_path / "out.csv"
    write_csv(src, [[p, d.isoformat(), t, f"{a}", c, "new", SECTOR_OF[p]] for p, d, t, a, c in arrivals],
              header=["project_id", "date", "type", "amount", "currency", "kind", "sector"])
    rates = RateChain(RateTable.from_csv(RATES))
    summary = score_file(src, out, options=Options(rates=rates))
    got = {(r["project_id"], r["year"]): r for r in read_csv(out)}
    assert summary.errors == 0 and summary.shape == "ledger"
    assert not any(name.startswith("__") for name in next(iter(got.values())))  # the ledger's own columns stay hidden
    # the summary names every FX source a project-year states (one rate, or the weighted mean of several)
    assert set(summary.fx_sources) == {r["fx_source"] for r in got.values() if r["fx_source"]}
    for pid in {p for p, *_ in arrivals}:
        project = Project(sector=SECTOR_OF[pid], arrivals=[
            Arrival(date=d, type=t, amount=a, currency=c) for p, d, t, a, c in arrivals if p == pid])
        for y in assess(project, fx=rates).years:
            row = got[(pid, str(y.year))]
            expected = y.model_dump(mode="json")
            for key in ("tier", "base_usd", "base_cny", "gross_cny", "incentive_cny", "fx_rate"):
                assert row[key] == ("" if expected[key] is None else str(expected[key])), (pid, y.year, key)


def test_ledger_with_a_projects_file_and_bad_rows(tmp_path):
    ledger, projects, out = tmp_path / "l.csv", tmp_path / "p.csv", tmp_path / "o.csv"
    write_csv(ledger, [["a", "2024-03-15", "equity", "40000000", "USD"], ["a", "2024-13-01", "equity", "5", "USD"],
                       ["b", "2024-03-15", "gift", "5", "USD"]], header=["project_id", "date", "type", "amount", "currency"])
    write_csv(projects, [["a", "new", "manufacturing"], ["b", "new", "services"]], header=["project_id", "kind", "sector"])
    seen: list[float] = []
    summary = score_file(ledger, out, options=Options(fx_rate=D("7.1")), projects_path=projects, progress=seen.append)
    rows = read_csv(out)
    assert [r["project_id"] for r in rows] == ["a", "a", "b"] and summary.rows == 3
    # the bar moves while the arrivals are added up, before any project-year is scored, and ends at 100
    assert seen == sorted(seen) and seen[0] < 50 and seen[-1] == 100
    assert rows[0]["tier"] == "manufacturing" and rows[0]["incentive_cny"] == "10000000.00"
    assert "arrival row 2: date: '2024-13-01'" in rows[1]["error"]
    assert "type: 'gift' is not valid" in rows[2]["error"]
    assert summary.fx_sources == ["given rate: 7.1 CNY per USD"]


def test_a_ledger_project_year_lists_its_bad_arrivals_in_row_order(tmp_path):
    src, out = tmp_path / "ledger.csv", tmp_path / "out.csv"
    rows = [[p, "2024-05-01", "equity", "-5" if i % 3 == 0 else "1000", "USD", "new", "services"]
            for i in range(60) for p in ("a", "b")]
    write_csv(src, rows, header=["project_id", "date", "type", "amount", "currency", "kind", "sector"])
    score_file(src, out, options=Options(fx_rate=D("7.1")))
    got = {r["project_id"]: r["error"] for r in read_csv(out)}
    for project, first in (("a", 1), ("b", 2)):
        numbers = [int(n) for n in re.findall(r"arrival row (\d+):", got[project])]
        assert numbers == list(range(first, 121, 6)), got[project]


def test_a_decimal_comma_is_refused_never_read_as_thousands(tmp_path):
    """15000000,50 (a European decimal comma) is an error in a ledger as in a project-year file,
    never fifteen hundred million; 40,000,000.00 and 1 000 still read as grouped thousands."""
    src, out = tmp_path / "ledger.csv", tmp_path / "out.csv"
    write_csv(src, [["a", "2024-03-15", "equity", "15000000,50", "USD", "new", "manufacturing"],
                    ["b", "2024-03-15", "equity", "40,000,000.00", "USD", "new", "manufacturing"],
                    ["c", "2024-03-15", "equity", "1 000", "USD", "new", "manufacturing"]],
              header=["project_id", "date", "type", "amount", "currency", "kind", "sector"])
    score_file(src, out, options=Options(fx_rate=D("7.1")))
    rows = read_csv(out)
    assert "'15000000,50' is not valid" in rows[0]["error"] and "a comma groups thousands" in rows[0]["error"]
    assert (rows[1]["paid_in_usd"], rows[2]["paid_in_usd"]) == ("40000000.00", "1000.00")


def test_a_rate_with_a_decimal_comma_is_refused(tmp_path):
    """fx_rate 7,2 is an error row, never a rate of 72 (no rate groups its thousands)."""
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    write_csv(src, [["P1", "2024", "new", "services", "", "15000000", "", "", "7,2"],
                    ["P2", "2024", "new", "services", "", "15000000", "", "", "7.2"]])
    summary = score_file(src, out)
    rows = read_csv(out)
    assert rows[0]["error"].startswith("fx_rate: '7,2' is not valid") and rows[0]["incentive_cny"] == ""
    assert rows[1]["incentive_cny"] == "2160000.00" and summary.errors == 1
    with pytest.raises(InputError, match="--fx-rate"):
        from fdi_incentive.fx import parse_rate

        parse_rate("7,2", "--fx-rate")


def test_ledger_dates_as_chinese_sheets_write_them(tmp_path):
    src, out = tmp_path / "ledger.csv", tmp_path / "out.csv"
    days = ["2024-03-15", "2024/3/15", "2024年3月15日", "2024.3.15", "20240315", "2024-03-15 10:30:00", "2024-03-15T10:30",
            "15/03/2024", "20241315", "2024-02-30", "24-03-15", "2024-03/15",
            "2024-03-01T25:00:00", "2024-03-01 10:60", "2024-03-01T10:30:61", "2024-03-01T10:30+25:00"]
    write_csv(src, [[f"P{i}", day, "equity", "40000000", "USD", "new", "manufacturing"] for i, day in enumerate(days)],
              header=["project_id", "date", "type", "amount", "currency", "kind", "sector"])
    score_file(src, out, options=Options(fx_rate=D("7.1")))
    rows = read_csv(out)
    assert [r["year"] for r in rows] == ["2024"] * 7 + [""] * 9  # (an impossible hour: no day, as 2024-02-30)
    assert all(r["incentive_cny"] == "10000000.00" for r in rows[:7])
    assert all("is not valid; expected YYYY-MM-DD" in r["error"] for r in rows[7:])


def test_a_ledger_in_ten_thousands_of_dollars(tmp_path):
    """--unit 10k reads a ledger's amounts as 万美元, arrival by arrival: 4,000 is USD 40 million in
    the base and in CNY alike (the project-years were once scored at 10k again: base_usd 40
    million but a payout on CNY 28,400)."""
    src, out = tmp_path / "ledger.csv", tmp_path / "out.csv"
    write_csv(src, [["a", "2024-03-15", "equity", "4000", "USD", "new", "manufacturing"],
                    ["b", "2024-03-15", "equity", "4000.123", "USD", "new", "manufacturing"],
                    ["c", "2024-03-15", "equity", "2000", "EUR", "new", "services"]],
              header=["project_id", "date", "type", "amount", "currency", "kind", "sector"])
    rates = tmp_path / "rates.csv"
    rates.write_text("date,currency,cny_per_unit\n2024-03-15,USD,7.1\n2024-03-15,EUR,7.8\n", encoding="utf-8")
    from fdi_incentive import RateChain, RateTable

    summary = score_file(src, out, options=Options(unit=D(10000), rates=RateChain(RateTable.from_csv(rates))))
    a, b, c = read_csv(out)
    assert summary.errors == 0
    assert (a["paid_in_usd"], a["base_usd"], a["base_cny"], a["incentive_cny"]) == (
        "40000000.00", "40000000.00", "284000000.00", "10000000.00")
    assert b["paid_in_usd"] == "40001230.00"  # 4000.123 万 is to the cent
    # EUR 20 million at 7.8 / 7.1 CNY, to the USD cent, then back into CNY at 7.1
    usd = (D(20_000_000) * D("7.8") / D("7.1")).quantize(D("0.01"))
    assert c["paid_in_usd"] == str(usd) and c["base_cny"] == str(usd * D("7.1"))


def test_a_ragged_ledger_row_is_an_error_never_a_shifted_amount(tmp_path):
    """A ledger row with more cells than the header is its project-year's error (its amount may
    be in the wrong column); the other rows are added up as ever."""
    src, out = tmp_path / "ledger.csv", tmp_path / "out.csv"
    src.write_text("project_id,date,type,amount,currency\n"
                   "a,2024-03-15,equity,40000000,USD\n"
                   "b,2024-03-15,equity,15,000,000,USD\n"
                   "b,2025-01-02,equity,20000000,USD\n"
                   ",,,,\n", encoding="utf-8")
    summary = score_file(src, out, options=Options(fx_rate=D("7.1")))
    rows = read_csv(out)
    assert [(r["project_id"], r["year"]) for r in rows] == [("a", "2024"), ("b", "2024"), ("b", "2025")]
    assert rows[1]["error"].startswith("arrival row 2: the row has 7 fields, the header has 5; ")
    assert rows[1]["paid_in_usd"] == "0.00" and rows[0]["paid_in_usd"] == "40000000.00"
    assert rows[2]["paid_in_usd"] == "20000000.00" and summary.rows == 3  # (the row of empty cells holds no arrival)


def test_a_ragged_row_of_the_projects_file_makes_its_projects_years_errors(tmp_path):
    """A --projects row with more cells than its header may have its kind and sector shifted:
    the project-years of that project are errors that say so; the other projects are scored."""
    ledger, projects, out = tmp_path / "l.csv", tmp_path / "p.csv", tmp_path / "o.csv"
    ledger.write_text("project_id,date,type,amount,currency\na,2024-01-05,equity,40000000,USD\n"
                      "b,2024-01-05,equity,40000000,USD\n", encoding="utf-8")
    projects.write_text("project_id,kind,sector\na,new,Beijing,manufacturing\nb,new,services\n", encoding="utf-8")
    summary = score_file(ledger, out, options=Options(fx_rate=D("7.1")), projects_path=projects)
    a, b = read_csv(out)
    assert a["error"] == "arrival row 1: --projects: the row has 4 fields, the header has 3" and a["incentive_cny"] == ""
    assert b["incentive_cny"] == "5680000.00" and summary.errors == 1


def test_a_project_listed_twice_in_the_projects_file_counts_its_arrivals_once(tmp_path):
    """Listed twice alike, a project is used once; listed twice differently, its project-years are
    errors naming the two lines (as a ledger's row and --projects that differ are), never the first row's guess."""
    ledger, projects, out = tmp_path / "l.csv", tmp_path / "p.csv", tmp_path / "o.csv"
    write_csv(ledger, [["a", "2024-03-15", "equity", "20000000", "USD"], ["b", "2024-03-15", "equity", "20000000", "USD"]],
              header=["project_id", "date", "type", "amount", "currency"])
    write_csv(projects, [["a", "new", "manufacturing"], ["b", "new", "services"], ["a", "new", "services"], ["b", "new", "services"]],
              header=["project_id", "kind", "sector"])
    summary = score_file(ledger, out, options=Options(fx_rate=D("7.1")), projects_path=projects)
    a, b = read_csv(out)
    assert a["paid_in_usd"] == "20000000.00" and a["incentive_cny"] == "" and summary.errors == 1
    assert a["error"] == "project_id: 'a' is listed on lines 2, 4 of --projects with different sector; keep one of them"
    assert (b["sector"], b["tier"], b["error"]) == ("services", "general", "")


def test_a_project_missing_from_the_projects_file_is_said_so(tmp_path):
    ledger, projects, out = tmp_path / "l.csv", tmp_path / "p.csv", tmp_path / "o.csv"
    write_csv(ledger, [["a", "2024-03-15", "equity", "40000000", "USD"], ["b", "2024-03-15", "equity", "40000000", "USD"],
                       ["b", "2024-04-15", "equity", "1", "USD"]], header=["project_id", "date", "type", "amount", "currency"])
    write_csv(projects, [["a", "new", "manufacturing"]], header=["project_id", "kind", "sector"])
    score_file(ledger, out, options=Options(fx_rate=D("7.1")), projects_path=projects)
    a, b = read_csv(out)
    assert a["error"] == "" and b["error"] == "project_id: 'b' is not in --projects, so its sector is missing", b


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(projects_rows)
def test_what_the_projects_file_says_of_each_project_is_its_sector_or_an_error_naming_why(tmp_path, listed):
    """Whatever --projects lists (a project once, twice alike, twice differently, not at all), each
    project-year takes its kind and sector from it, or is an error saying which of those it is."""
    ledger, projects, out = tmp_path / "l.csv", tmp_path / "p.csv", tmp_path / "o.csv"
    write_csv(ledger, [[p, "2024-03-15", "equity", "40000000", "USD"] for p in "abc"],
              header=["project_id", "date", "type", "amount", "currency"])
    write_csv(projects, [list(row) for row in listed], header=["project_id", "kind", "sector"])
    score_file(ledger, out, options=Options(fx_rate=D("7.1")), projects_path=projects)
    for r in read_csv(out):
        mine = [(k, s) for p, k, s in listed if p == r["project_id"]]
        rows = {(meaning("kind", k), meaning("sector", s)) for k, s in mine}  # (listed twice as they are read)
        if not rows:
            assert r["error"] == f"project_id: '{r['project_id']}' is not in --projects, so its sector is missing", r
        elif len(rows) > 1:
            assert r["error"].startswith(f"project_id: '{r['project_id']}' is listed on lines "), r
        else:
            kind, sector = mine[0]  # (the first of the rows listing it alike)
            assert r["sector"] == sector.strip() and "--projects" not in r["error"], r
            assert (r["error"] == "") == (sector.strip() != ""), r


def test_a_parquet_ledger_with_typed_columns(tmp_path):
    """Dates as dates and amounts as decimals or floats, as a database exports them."""
    import datetime

    import polars as pl

    src, out = tmp_path / "ledger.parquet", tmp_path / "out.csv"
    pl.DataFrame({"project_id": ["a", "a", "b"],
                  "date": [datetime.date(2024, 3, 15), datetime.date(2024, 9, 2), None],
                  "type": ["equity", "reinvested_profit", "equity"],
                  "amount": pl.Series([D("20000000.01"), D("15000000"), D("1")], dtype=pl.Decimal(18, 2)),
                  "kind": ["new"] * 3, "sector": ["manufacturing"] * 3}).write_parquet(src)
    summary = score_file(src, out, options=Options(fx_rate=D("7.1")))
    a, b = read_csv(out)
    assert (a["paid_in_usd"], a["reinvested_profit"], a["tier"]) == ("20000000.01", "15000000.00", "manufacturing")
    assert a["base_cny"] == "248500000.071" and a["incentive_cny"] == "9940000.00" and summary.errors == 1
    assert b["error"] == "arrival row 3: date: missing; expected YYYY-MM-DD"


@pytest.mark.parametrize(("extra", "size"), [(None, 240_000), ("rowid", 3_000)])
def test_a_large_ledger_names_the_right_arrival_rows(tmp_path, extra, size):
    """Arrival rows are numbered as they stand in the file, however the reading is split among
    threads (and when the file has a column of its own named rowid)."""
    src, out = tmp_path / "ledger.csv", tmp_path / "out.csv"
    bad = {7, size // 2 + 3, size}
    rows = [[f"P{i % 50_000:05d}", "2024-02-30" if i + 1 in bad else f"{2020 + i % 5}-03-15", "equity", "1000.00", "USD",
             "new", "services"] + ([str(i)] if extra else []) for i in range(size)]
    write_csv(src, rows, header=["project_id", "date", "type", "amount", "currency", "kind", "sector"] + ([extra] if extra else []))
    summary = score_file(src, out, options=Options(fx_rate=D("7.1")))
    assert summary.errors == len(bad)
    assert sorted(int(e.error.split(":")[0].split()[-1]) for e in summary.first_errors) == sorted(bad)


def test_extreme_amounts_and_rates_stay_exact(tmp_path):
    """At the bounds (amounts just under USD 100 trillion, rates just under 10,000) nothing overflows."""
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    rows = [["X1", "2021", "new", "services", "", "99999999999999.99", "", "99999999999999.99", "9999.99999999"],
            ["X2", "2024", "new", "manufacturing", "", "30000000.01", "", "1", "2024"]]
    write_csv(src, rows)
    summary = score_file(src, out)
    got = read_csv(out)
    assert summary.errors == 0
    for r, g in zip(rows, got):
        expected = calc_json(int(r[1]), r[2], r[3], r[4], D(r[5]), D(0), D(r[7]), D(r[8]))
        assert {k: g[k] for k in COMPARED} == expected


def test_many_small_batches_give_the_same_rows_and_summary(tmp_path, monkeypatch):
    """A large file is scored a block at a time: the output (in input order) and every figure of
    the summary must not depend on where the blocks fall, for CSV and Parquet alike."""
    import functools
    import subprocess
    import sys

    import fdi_incentive.batch as batch
    import fdi_incentive.frame_cells as frame_cells
    import fdi_incentive.frame_lookup as frame_lookup
    from fdi_incentive.io.readers import csv_blocks

    src = tmp_path / "in.csv"
    subprocess.run([sys.executable, str(Path(__file__).parents[1] / "bench" / "generate.py"), "20000", str(src)], check=True)
    whole = score_file(src, tmp_path / "whole.csv")
    score_file(src, tmp_path / "whole.parquet")
    monkeypatch.setattr(readers, "csv_blocks", functools.partial(csv_blocks, block=50_000))  # about 60 blocks
    monkeypatch.setattr(batch, "BATCH_ROWS", 700)
    monkeypatch.setattr(frame_cells, "PAIRS_AT_ONCE", 0)  # and (sector, code) pairs looked for in the rows
    monkeypatch.setattr(frame_lookup, "DENSE_AT_MOST", 0)  # and pairs of indexes looked up by hash, not in a table
    pieces = score_file(src, tmp_path / "pieces.csv")
    assert (tmp_path / "pieces.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    assert pieces.model_dump(exclude={"output"}) == whole.model_dump(exclude={"output"})
    ids = [r["project_id"] for r in read_csv(tmp_path / "pieces.csv")]
    assert len(ids) == 20000 and ids == sorted(ids)
    import polars as pl

    score_file(tmp_path / "whole.parquet", tmp_path / "again.parquet")  # Parquet in, in slices of 700 rows
    again = pl.read_parquet(tmp_path / "again.parquet")
    assert again["project_id"].to_list() == ids
    assert again["incentive_cny"].to_list() == [D(r["incentive_cny"]) for r in read_csv(tmp_path / "whole.csv")]


def test_values_first_met_in_a_late_block_are_scored_alike(tmp_path, monkeypatch):
    """Cells are answered once per distinct value and reused by later blocks: a file sorted so
    that years, kinds, FX rates and currencies keep appearing for the first time block after
    block gives the same rows, in pieces or whole."""
    import functools
    import random

    import fdi_incentive.batch as batch
    from fdi_incentive.io.readers import csv_blocks

    rng = random.Random(7)
    rows = [[f"P{i:05d}", str(rng.choice(range(2018, 2027))), rng.choice(["new", "增资", "Capital-Increase", ""]),
             rng.choice(["manufacturing", "services", "real estate"]), "",
             f"{rng.randrange(0, 90_000_000_00) / 100:.2f}", rng.choice(["", "1000000"]), "",
             rng.choice(["7.2", "6.9", "", "7.1234", "x"]), rng.choice(["USD", "CNY", "EUR", "", "usd"])]
            for i in range(6000)]
    rows.sort(key=lambda r: (r[1], r[2], r[8], r[9]))
    src = tmp_path / "in.csv"
    write_csv(src, rows, header=[*(h if h != "paid_in_usd" else "paid_in" for h in HEADER), "currency"])
    whole = score_file(src, tmp_path / "whole.csv", options=Options(fx_rate=D("7.0")))
    monkeypatch.setattr(readers, "csv_blocks", functools.partial(csv_blocks, block=20_000))  # about 25 blocks
    pieces = score_file(src, tmp_path / "pieces.csv", options=Options(fx_rate=D("7.0")))
    assert (tmp_path / "pieces.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    assert pieces.model_dump(exclude={"output"}) == whole.model_dump(exclude={"output"})
    assert whole.rows == 6000 and 0 < whole.errors < 6000
    assert whole.fx_sources == ["fx_rate column", "given rate: 7.0 CNY per USD"]


def test_a_header_alone_gives_a_header_alone(tmp_path):
    src = tmp_path / "empty.csv"
    write_csv(src, [])
    for name in ("out.csv", "out.parquet", "out.jsonl", "out.xlsx"):
        summary = score_file(src, tmp_path / name)
        assert summary.rows == 0 and summary.errors == 0 and summary.total_incentive_cny == 0
    assert read_csv(tmp_path / "out.csv") == []
    assert (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()[0].startswith("project_id,year,")


def test_parquet_input_with_typed_columns(tmp_path):
    """Parquet columns keep their types (integer years, decimal amounts); CSV output still neutralises text."""
    import duckdb

    src, out = tmp_path / "in.parquet", tmp_path / "out.csv"
    duckdb.connect().execute(
        "COPY (SELECT * FROM (VALUES ('=P1', 2024, 'services', CAST('15000000.01' AS DECIMAL(18,2)), CAST('7.2' AS DECIMAL(9,4))))"
        f" t(project_id, year, sector, paid_in_usd, fx_rate)) TO '{src}' (FORMAT parquet)")
    summary = score_file(src, out)
    row = read_csv(out)[0]
    assert summary.errors == 0 and row["project_id"] == "'=P1" and row["year"] == "2024"
    assert row["base_usd"] == "15000000.01" and row["incentive_cny"] == "2160000.00"
    # to Excel as to CSV: every input cell as its text (exact: 15000000.01 stays that, not a float)
    score_file(src, tmp_path / "out.xlsx")
    from python_calamine import CalamineWorkbook

    sheet = CalamineWorkbook.from_path(str(tmp_path / "out.xlsx")).get_sheet_by_index(0).to_python()
    assert sheet[1][:4] == ["'=P1", "2024", "services", "15000000.01"]
    assert sheet[1][sheet[0].index("incentive_cny")] == 2160000.0  # (a result: a number)


def test_parquet_columns_of_any_type_are_kept_as_text(tmp_path):
    """Lists, structs, bytes, durations and empty columns beside the project's own: no crash, every
    output format written, each such cell shown as text (JSON for lists and structs)."""
    import datetime

    import polars as pl

    src = tmp_path / "odd.parquet"
    pl.DataFrame({"project_id": ["P1", "P2"], "year": [2024, None], "sector": ["services", "manufacturing"],
                  "paid_in_usd": ["15000000", "40000000"], "fx_rate": ["7.2", "7.1"], "tags": [["a", "b"], []],
                  "extra": [{"k": 1}, None], "blob": [b"\xff\x01", b"ok"], "wait": [datetime.timedelta(hours=5), None],
                  "nothing": [None, None]}).write_parquet(src)
    for name in ("out.csv", "out.xlsx", "out.parquet", "out.jsonl"):
        summary = score_file(src, tmp_path / name)
        assert summary.rows == 2 and summary.errors == 1  # P2 has no year
    rows = read_csv(tmp_path / "out.csv")
    assert [rows[0][c] for c in ("tags", "extra", "blob", "wait", "nothing")] == ['["a", "b"]', '{"k": 1}', "ff01", "5:00:00", ""]
    assert rows[0]["incentive_cny"] == "2160000.00" and rows[1]["blob"] == "ok" and rows[1]["error"].startswith("year: missing")


def test_a_parquet_file_damaged_inside_is_refused_in_one_line(tmp_path):
    """The schema reads, a row group further in does not: InputError, and no output left."""
    import polars as pl

    src, out = tmp_path / "in.parquet", tmp_path / "out.csv"
    pl.DataFrame({"project_id": [f"P{i}" for i in range(60_000)], "year": ["2024"] * 60_000, "sector": ["services"] * 60_000,
                  "paid_in_usd": ["15000000"] * 60_000}).write_parquet(src, row_group_size=10_000)
    data = src.read_bytes()
    src.write_bytes(data[:len(data) // 3] + bytes(1000) + data[len(data) // 3 + 1000:])
    with pytest.raises(InputError, match="a readable Parquet file"):
        score_file(src, out)
    assert list(tmp_path.iterdir()) == [src]


@pytest.mark.parametrize("count", [5, 40_000])
def test_a_stray_byte_in_a_utf8_file_spoils_its_row_not_the_file(tmp_path, count):
    """A UTF-8 file with one byte from elsewhere, small or past its first MiB: that byte is replaced,
    its row carries the error, and the rest is read as UTF-8, whatever the file's size. A small one
    was taken for GBK, garbling every row (a large one was read as UTF-8: size decided)."""
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    rows = [f"渝A-{i:05d},2024,new,制造业,,40000000,,,7.1" for i in range(count)]
    data = (",".join(HEADER) + "\n" + "\n".join(rows) + "\n").encode("utf-8")
    at = len(data) - len(rows[-1].encode()) - 1 + len("渝".encode())  # (in the project id of the last row)
    src.write_bytes(data[:at] + b"\xe9" + data[at:])
    summary = score_file(src, out)
    got = read_csv(out)
    assert summary.rows == count and summary.errors == 1 and got[0]["project_id"] == "渝A-00000"
    assert "\ufffd" in got[-1]["project_id"] and "not UTF-8" in got[-1]["error"] and got[-1]["incentive_cny"] == ""
    assert all(r["error"] == "" and r["tier"] == "manufacturing" for r in got[:-1])
    assert any("1 row(s) holding bytes that are not UTF-8 replaced by U+FFFD" in n for n in summary.notes)


def test_utf16_unicode_text_as_excel_saves_it(tmp_path):
    """Excel's "Unicode text" is UTF-16 with a BOM, tab-separated: read as such, not as GBK."""
    src = tmp_path / "unicode.txt"
    text = "项目编号\t年份\t行业\t实际到位外资\t汇率\r\n渝A-001\t2024\t制造业\t40000000\t7.1\r\n"
    src.write_bytes(text.encode("utf-16"))
    summary = score_file(src, tmp_path / "out.csv")
    row = read_csv(tmp_path / "out.csv")[0]
    assert summary.input_format == "transcoded from utf-16" and row["项目编号"] == "渝A-001" and row["tier"] == "manufacturing"


def test_a_header_the_csv_reader_cannot_read_is_refused_in_one_line(tmp_path):
    src = tmp_path / "odd.csv"
    src.write_bytes(b"year\rpaid_in_usd,fx_rate\n2024,1,2\n")  # a bare CR inside the header's first cell
    with pytest.raises(InputError):
        score_file(src, tmp_path / "out.csv")


def test_gbk_text_after_a_long_ascii_start_is_still_transcoded(tmp_path):
    """Encoding is guessed from the file's start; GBK bytes further down are caught when read."""
    src, out = tmp_path / "late.csv", tmp_path / "out.csv"
    filler = [[f"P{i}", "2024", "new", "services", "", "15000000", "", "", "7.2"] for i in range(40_000)]
    write_csv(src, [*filler, ["渝A-001", "2024", "增资", "制造业", "", "40000000", "", "", "7.2"]], encoding="gbk")
    assert src.stat().st_size > 1 << 20
    summary = score_file(src, out)
    rows = read_csv(out)
    assert summary.rows == len(rows) == 40_001 and summary.errors == 0
    assert rows[-1]["project_id"] == "渝A-001" and rows[-1]["tier"] == "manufacturing"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(st.sampled_from(["a", "", 'q"uote', "new\nline", "x,y", "\r\n", "中", "long" * 30]), min_size=3,
                         max_size=3), max_size=40),
       st.sampled_from(["\n", "\r\n"]), st.integers(1, 120))
def test_csv_blocks_cut_only_between_records(tmp_path, rows, newline, block):
    """The reader cuts a CSV into blocks for bounded memory: every block is whole records, led by
    the header, and together they are the file's rows, whatever the quotes and newlines."""
    import io

    from fdi_incentive.io.readers import csv_blocks

    path = tmp_path / "f.csv"
    text = io.StringIO()
    csv.writer(text, lineterminator=newline).writerows([["h1", "h2", "h3"], *rows])
    path.write_text(text.getvalue(), encoding="utf-8", newline="")
    blocks = list(csv_blocks(path, block=block))
    parsed = [list(csv.reader(io.StringIO(b.decode(), newline=""))) for b, _ in blocks]
    assert all(p[0] == ["h1", "h2", "h3"] for p in parsed)
    assert [r for p in parsed for r in p[1:]] == rows
    assert not blocks or blocks[-1][1] == path.stat().st_size  # progress ends at the file's size


AMOUNT_CELLS = ["15000000", "15,000,000.00", "1_000", " 7 ", "+.5", "1.", ".5", "0.", "-0", "-.0", "00012.10", "1.2300",
                "1.234", "1e3", "1E2", "1.e2", "1e-99", "5e-3", "1e99", "1e400", "99999999999999.99", "100000000000000",
                "1.000000000000001", "NaN", "inf", "-3", "abc", "1..2", "１２", "1 000.5", "0.1e1", "9" * 38, "1" + "0" * 30 + ".5",
                "99999999999999.995", "0.0000000000000001", "10000000000000.00",
                # a comma (or _ or space) only groups thousands: a decimal comma is refused, never read 100 times over
                "15000000,50", "1,5", "15,00,000", ",5", "1,,000", "1,000 000", "1_000_000.5", " 15,000,000.00 ", "+1,000."]


@pytest.mark.parametrize("unit", [D(1), D(10000)])
def test_every_amount_cell_is_read_as_calc_reads_it(tmp_path, unit):
    """Plain numbers are parsed by polars, anything else by parse_amount: both must agree with calc
    on what an amount is (value or error), whatever the spelling."""
    from fdi_incentive.money import parse_amount

    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    write_csv(src, [[f"P{i}", "2024", "new", "services", "", cell, "", "", "7.2"] for i, cell in enumerate(AMOUNT_CELLS)])
    score_file(src, out, options=Options(unit=unit))
    for cell, row in zip(AMOUNT_CELLS, read_csv(out), strict=True):
        try:
            expected = parse_amount(cell, "paid_in_usd", scale=unit)
            assert expected < D(10) ** 14
        except (InputError, AssertionError):
            assert row["error"].startswith("paid_in_usd: "), (cell, row)
            continue
        assert row["error"] == "" and D(row["base_usd"]) == expected, (cell, row)


def test_a_quote_that_never_closes_is_refused_not_swallowed(tmp_path, monkeypatch):
    """A stray opening quote would make the rest of the file one cell (all of it in memory):
    beyond a bound the file is refused with where the runaway record starts."""
    import functools

    import fdi_incentive.batch as batch
    from fdi_incentive.io.readers import csv_blocks

    src = tmp_path / "stray.csv"
    good = [[f"P{i}", "2024", "new", "services", "", "15000000", "", "", "7.2"] for i in range(2000)]
    write_csv(src, [*good, ['"P-stray', "2024"], *good])
    text = src.read_text(encoding="utf-8").replace('"""P-stray"', '"P-stray')  # the quote now opens and never closes
    src.write_text(text, encoding="utf-8")
    monkeypatch.setattr(readers, "csv_blocks", functools.partial(csv_blocks, block=4096, longest=32_768))
    with pytest.raises(InputError, match="quote that never closes"):
        score_file(src, tmp_path / "out.csv")
    assert not list(tmp_path.glob("*.part"))
    monkeypatch.setattr(readers, "csv_blocks", functools.partial(csv_blocks, block=4096))  # under the bound: kept
    summary = score_file(src, tmp_path / "out.csv")
    assert summary.rows == 2001 and summary.errors == 1


# Cells of a CSV without quotes: such a record is copied to a CSV output as it stands.
bare_cell = st.one_of(
    st.sampled_from(["", " ", "2024", "new", "增资", "manufacturing", "C3670", "K7010", "15000000.01", "40000000", "7.2",
                     "-5", "=1+1", "@x", "+3", "\t", "1e400", "abc", "制造业", "x" * 300, " =1+1", "\xa0@x", "\ufeff-2",
                     "\u3000+3", " \t=x", "7 1", "2024年", "2024.0", "99999999999999.99", "100000000000000"]),
    st.text(alphabet="=+-@\t .0123456789aeE_中;'\xa0\u3000\ufeff\u200b", max_size=12),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(bare_cell, min_size=0, max_size=9), min_size=1, max_size=30), st.sampled_from(["\n", "\r\n"]),
       st.sampled_from(["utf-8", "utf-8-sig"]))
@example(rows=[["=P1", "2024", "new", "services", "", "15000000", "", "", "7.2"], ["P2", "2024", "merger"]], newline="\n",
         encoding="utf-8")
def test_records_copied_as_they_stand_equal_cells_written_anew(tmp_path, rows, newline, encoding):
    """A CSV output copies an input record as it stands unless a cell of it must be neutralised or
    it is short of fields: byte for byte the file that writing every cell anew gives, summary too."""
    import io

    import fdi_incentive.batch as batch

    src = tmp_path / "in.csv"
    text = io.StringIO()
    csv.writer(text, lineterminator=newline).writerows([HEADER, *rows])
    src.write_text(text.getvalue(), encoding=encoding, newline="")
    copied, lines_of = [], batch._lines

    def spy(block):
        copied.append(lines_of(block) is not None)
        return lines_of(block)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(batch, "_lines", spy)
        fast = score_file(src, tmp_path / "fast.csv")
        mp.setattr(batch, "_lines", lambda block: None)
        slow = score_file(src, tmp_path / "slow.csv")
    assert (tmp_path / "fast.csv").read_bytes() == (tmp_path / "slow.csv").read_bytes()
    assert fast.model_dump(exclude={"output"}) == slow.model_dump(exclude={"output"})
    if '"' not in text.getvalue() and not any(len(r) > len(HEADER) for r in rows):  # (a long row: re-read row by row)
        assert copied == [True] or not any(any(r) for r in rows)


def test_stages_run_ahead_in_order_and_stop_with_the_consumer():
    """Reading, scoring and writing overlap in threads (`ahead`): items come in order, a producer's
    exception reaches the consumer, and a consumer that stops early leaves no thread running."""
    import threading

    from fdi_incentive.ahead import ahead as _ahead

    assert list(_ahead(iter(range(50)))) == list(range(50))

    def failing():
        yield 1
        raise InputError("INPUT", "x.csv", "a file that can be read")

    got = []
    with pytest.raises(InputError, match="a file that can be read"):
        for item in _ahead(failing()):
            got.append(item)
    assert got == [1]

    closed = []

    def endless():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.append(True)

    before = threading.active_count()
    stream = _ahead(endless())
    assert [next(stream) for _ in range(3)] == [0, 1, 2]
    stream.close()
    assert closed == [True] and threading.active_count() == before


def test_conversions_leave_no_temporary_file(tmp_path, monkeypatch):
    """A GBK file is transcoded to a temporary UTF-8 copy, a ragged one rewritten row by row: the
    copies (as large as the input) are removed when the run ends, whichever way it ends."""
    import tempfile

    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    gbk, ragged = tmp_path / "gbk.csv", tmp_path / "ragged.csv"
    write_csv(gbk, [["渝A-001", "2024", "增资", "制造业", "", "40000000", "", "", "7.2"]], encoding="gbk")
    write_csv(ragged, [["渝A-001", "2024", "增资", "制造业", "", "40000000", "", "", "7.2", "extra"]])  # UTF-8
    assert score_file(gbk, tmp_path / "a.csv").notes[0] == "input converted: transcoded from gb18030"
    summary = score_file(ragged, tmp_path / "b.csv")
    assert summary.errors == 1 and "the row has 10 fields" in summary.first_errors[0].error
    with pytest.raises(InputError):
        score_file(gbk, tmp_path / "no-such-folder" / "c.csv")  # refused after the input was transcoded
    assert list(scratch.iterdir()) == []


@pytest.mark.parametrize("delimiter, suffix", [(";", ".csv"), ("\t", ".tsv"), ("|", ".txt")])
def test_other_delimiters_give_the_same_rows(tmp_path, delimiter, suffix):
    rows = [["P1", "2024", "新设", "制造业", "", "40000000", "", "", "7.1"], ["P2", "2024", "new", "services", "", "x", "", "", ""],
            ["P3", "2023", "new", "", "C3670", "30000000.01", "", "1000", "7.2"]]
    write_csv(tmp_path / "comma.csv", rows)
    other = tmp_path / f"other{suffix}"
    with other.open("w", encoding="gbk", newline="") as f:
        csv.writer(f, delimiter=delimiter).writerows([HEADER, *rows])
    score_file(tmp_path / "comma.csv", tmp_path / "a.csv")
    summary = score_file(other, tmp_path / "b.csv")
    assert read_csv(tmp_path / "b.csv") == read_csv(tmp_path / "a.csv")
    assert summary.rows == 3 and summary.errors == 1


def test_a_policy_the_batch_cannot_apply_exactly_is_refused_whole(tmp_path):
    """A tier rate finer than the batch multiplies by (10^-8) is refused when the policy is
    loaded, before any row is read or written (every engine applies what validates)."""
    policy_dir = Path(__file__).parents[1] / "src" / "fdi_incentive" / "policies"
    text = (policy_dir / "cn-cq-2023.toml").read_text(encoding="utf-8").replace('rate = "0.04"', 'rate = "0.040000001"')
    assert "0.040000001" in text
    custom = tmp_path / "fine.toml"
    custom.write_text(text, encoding="utf-8")
    from fdi_incentive import PolicyError, load_policy_file

    with pytest.raises(PolicyError, match=r"tiers\[1\]\.rate: .*at most 8 decimals"):
        load_policy_file(custom)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fine.toml"]


def test_a_ledger_under_a_policy_that_counts_equity_alone_states_assess_rate(tmp_path):
    """Which arrivals count is the policy's (base.counts): under one counting equity alone, a
    project-year's rate is that of its equity arrivals' days, as `assess` states it, and its
    base leaves the reinvested profit out."""
    policy_dir = Path(__file__).parents[1] / "src" / "fdi_incentive" / "policies"
    text = (policy_dir / "cn-cq-2023.toml").read_text(encoding="utf-8")
    text = text.replace('counts = ["equity", "reinvested_profit"]', 'counts = ["equity"]')
    assert 'counts = ["equity"]' in text
    custom = tmp_path / "equity-only.toml"
    custom.write_text(text, encoding="utf-8")
    from fdi_incentive import load_policy_file

    lp = load_policy_file(custom)
    arrivals = [("2024-03-15", "equity", "20000000"), ("2024-09-02", "equity", "15000000"),
                ("2025-04-10", "reinvested_profit", "9000000"), ("2025-06-30", "equity", "30000000")]
    src, out = tmp_path / "ledger.csv", tmp_path / "out.csv"
    write_csv(src, [["p", d, t, a, "USD", "new", "manufacturing"] for d, t, a in arrivals],
              header=["project_id", "date", "type", "amount", "currency", "kind", "sector"])
    rates = RateChain(RateTable.from_csv(RATES))
    summary = score_file(src, out, options=Options(rates=rates, policy=lp))
    got = {r["year"]: r for r in read_csv(out)}
    project = Project(sector="manufacturing", arrivals=[Arrival(date=d, type=t, amount=D(a), currency="USD") for d, t, a in arrivals])
    assert summary.errors == 0
    for y in assess(project, fx=rates, policy=lp).years:
        row, expected = got[str(y.year)], y.model_dump(mode="json")
        for key in ("base_usd", "fx_rate", "base_cny", "incentive_cny"):
            assert row[key] == str(expected[key]), (y.year, key)
    assert got["2025"]["base_usd"] == "30000000.00"


def test_a_failure_while_parquet_is_being_written_leaves_nothing(tmp_path, monkeypatch):
    """Parquet output is written as the batches come (polars pulls them while it writes): an
    error in a later batch reaches the caller as it was raised, and neither the output nor a
    part of it is left; the stages' threads end."""
    import functools
    import subprocess
    import sys
    import threading

    import fdi_incentive.batch as batch
    from fdi_incentive.frame import Scorer
    from fdi_incentive.io.readers import csv_blocks

    src, out = tmp_path / "in.csv", tmp_path / "out.parquet"
    subprocess.run([sys.executable, str(Path(__file__).parents[1] / "bench" / "generate.py"), "3000", str(src)], check=True)
    monkeypatch.setattr(readers, "csv_blocks", functools.partial(csv_blocks, block=20_000))  # about 10 blocks
    score, calls = Scorer.score, []

    def failing(self, *args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            raise InputError("INPUT", "in.csv", "a disk that does not fail")
        return score(self, *args, **kwargs)

    monkeypatch.setattr(Scorer, "score", failing)
    with pytest.raises(InputError, match="a disk that does not fail"):
        score_file(src, out)
    assert not out.exists() and not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".out*"))
    assert not [t.name for t in threading.enumerate() if t.name == "fdi-batch-stage"]


ledger_cell = {
    "project_id": st.one_of(st.sampled_from(["a", "b", " a ", ""]), cell),
    "date": st.one_of(st.sampled_from(["2024-03-15", "2024/3/15", "2024年3月15日", "20240315", "2024-03-15 10:00", "2024-02-30",
                                       "24-03-15", "15/03/2024", "", "2024-3-5", "0000-01-01", "00000101", "9999-12-31"]),
                      cell),
    "sector": st.sampled_from(["services", "manufacturing", ""]),  # (arrivals of a project-year that disagree: its error)
    "type": st.one_of(st.sampled_from(["equity", "Reinvested Profit", "shareholder-loan", "利润再投资", "gift", ""]), cell),
    "amount": st.one_of(st.sampled_from(["40000000", "15,000,000.00", "15000000,50", "1.234", "-5", "1e20", "", "0"]), cell),
    "currency": st.one_of(st.sampled_from(["USD", "eur", "CNY", "XXX", "", "us"]), cell),
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.fixed_dictionaries(ledger_cell), min_size=1, max_size=25))
def test_a_malformed_ledger_never_crashes_and_never_loses_an_arrival(tmp_path, arrivals):
    """Any cells in a ledger's arrivals: the run ends, every arrival is counted in exactly one
    output row (an arrival with no readable date, in a row of its own), and every row with an
    error says which arrival rows are at fault."""
    src, out = tmp_path / "ledger.csv", tmp_path / "out.csv"
    header = ["project_id", "date", "type", "amount", "currency", "kind", "sector"]
    write_csv(src, [[a[c] for c in header[:5]] + ["new", a["sector"]] for a in arrivals], header=header)
    rates = RateChain(RateTable.from_csv(RATES))
    summary = score_file(src, out, options=Options(rates=rates))
    rows = read_csv(out)
    assert summary.rows == len(rows) and summary.shape == "ledger"
    assert sum(int(r["arrivals"]) for r in rows) == len(arrivals)  # (no row of empty cells: kind is set)
    assert summary.arrivals == len(arrivals)
    for r in rows:
        assert (r["error"] == "") != (r["incentive_cny"] == "")
        if r["error"] and r["error"].startswith("arrival row"):
            assert all(1 <= int(n) <= len(arrivals) for n in re.findall(r"arrival row (\d+):", r["error"]))


def test_a_large_ledger_added_up_in_parts_gives_the_same_rows(tmp_path, monkeypatch):
    """A ledger too large to add up at once is added up a part at a time (every arrival of a
    project in the same part) and its project-years put back in the order of their first
    arrival: the output is byte for byte the one made at once, bad rows and all."""
    import random

    import fdi_incentive.ledger as ledger

    rng = random.Random(7)
    rows = []
    for i in range(6000):
        day = rng.choice(["2023-05-04", "2024-02-30", "2024年3月15日", "2025-01-02", "2025-07-07", ""])
        amount = rng.choice(["1000000", "25,000,000.00", "abc", "40000000", "3.333"])
        rows.append([f"P{rng.randrange(700)}", day, rng.choice(["equity", "reinvested_profit", "shareholder_loan", "gift"]),
                     amount, rng.choice(["USD", "EUR", "CNY"]), "new", rng.choice(["manufacturing", "services"])])
    src = tmp_path / "ledger.csv"
    write_csv(src, rows, header=["project_id", "date", "type", "amount", "currency", "kind", "sector"])
    rates = RateChain(RateTable.from_csv(RATES))
    whole = score_file(src, tmp_path / "whole.csv", options=Options(rates=rates, fx_rate=D("7.1")))
    monkeypatch.setattr(ledger, "ONE_PART_BYTES", 40_000)
    monkeypatch.setattr(ledger, "PART_BYTES", 40_000)
    monkeypatch.setattr(ledger, "CHUNK_BYTES", 30_000)
    monkeypatch.setattr(ledger, "SPAN", 1_000)
    spans: list[int] = []
    in_order = ledger._in_order
    monkeypatch.setattr(ledger, "_in_order", lambda paths: (spans.append(len(paths)), in_order(paths))[1])
    seen: list[float] = []
    parts = score_file(src, tmp_path / "parts.csv", options=Options(rates=rates, fx_rate=D("7.1")), progress=seen.append)
    assert spans and spans[0] > 1  # (the parts were taken)
    assert (tmp_path / "parts.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()
    assert parts.model_dump(exclude={"output"}) == whole.model_dump(exclude={"output"}) and whole.errors > 0
    assert seen == sorted(seen) and seen[-1] == 100
    # the same arrivals from a Parquet file, read a slice at a time
    import polars as pl

    pl.read_csv(src, infer_schema=False).write_parquet(tmp_path / "ledger.parquet")
    monkeypatch.setattr(ledger, "ONE_PART_BYTES", 8_000)  # (Parquet is compressed: the same rows, a smaller file)
    monkeypatch.setattr(ledger, "PART_BYTES", 8_000)
    assert (tmp_path / "ledger.parquet").stat().st_size > 2 * ledger.PART_BYTES
    score_file(tmp_path / "ledger.parquet", tmp_path / "from-parquet.csv", options=Options(rates=rates, fx_rate=D("7.1")))
    assert (tmp_path / "from-parquet.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes() and len(spans) == 2


def test_the_bench_ledger_is_read_whole(tmp_path):
    """bench/generate.py --ledger (what `bench/batch.py --ledger` times) makes arrivals fdi reads
    without an error, Chinese-written dates included, and adds up per project-year."""
    import subprocess
    import sys

    src = tmp_path / "ledger.csv"
    subprocess.run([sys.executable, str(Path(__file__).parents[1] / "bench" / "generate.py"), "--ledger", "3000", str(src)],
                   check=True)
    assert "年" in src.read_text(encoding="utf-8")
    summary = score_file(src, tmp_path / "out.csv", options=Options(fx_rate=D("7.1")))
    assert summary.shape == "ledger" and summary.errors == 0 and 0 < summary.rows < 3000


class Formula(str):
    """A formula cell (written as a program writes it: without its value)."""


excel_cell = st.one_of(
    cell, st.none(), st.booleans(), st.integers(-10**15, 10**15),
    st.sampled_from(["=7.1+0.1", "=2*5000000", '="services"', "=A1", "=SUM(A1:A3)"]).map(Formula),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.dates(min_value=__import__("datetime").date(1900, 3, 1), max_value=__import__("datetime").date(2100, 1, 1)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(excel_cell, min_size=0, max_size=10), min_size=1, max_size=15))
@example(rows=[[None, 2024.0, True, "制造业", None, 40000000.5]])
def test_malformed_excel_and_json_lines_never_crash_and_never_lose_a_row(tmp_path, rows):
    """Cells of any type (text with line ends and quotes, numbers, booleans, dates, empty) in an
    Excel sheet and in JSON Lines: every row that holds something is in the output, scored or
    with its error, and the run never fails."""
    import datetime
    import json

    import xlsxwriter

    def empty(value) -> bool:
        return value is None or (isinstance(value, str) and value == "")

    expected = sum(1 for r in rows if not all(empty(v) for v in r))
    book = xlsxwriter.Workbook(str(tmp_path / "in.xlsx"), {"strings_to_numbers": False, "strings_to_formulas": False,
                                                          "strings_to_urls": False})
    sheet, dates = book.add_worksheet(), book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, HEADER)
    for i, row in enumerate(rows, 1):
        for j, value in enumerate(row):
            if isinstance(value, datetime.date):
                sheet.write_datetime(i, j, value, dates)
            elif isinstance(value, Formula):
                sheet.write_formula(i, j, value)
            elif isinstance(value, str):
                sheet.write_string(i, j, value[:32_000])
            elif value is not None:
                sheet.write(i, j, value)
    book.close()
    summary = score_file(tmp_path / "in.xlsx", tmp_path / "x.csv")
    got = read_csv(tmp_path / "x.csv")
    assert len(got) == summary.rows == expected
    assert all(r["error"] or r["incentive_cny"] for r in got)
    for row, out in zip([r for r in rows if not all(empty(v) for v in r)], got):  # (a formula never read as a value)
        for j, value in enumerate(row[:len(HEADER)]):
            if isinstance(value, Formula):
                assert f"holds the formula {value}" in out["error"] or out[HEADER[j]] == "'" + value, (row, out)
    rows = [[v for v in r] for r in rows if not any(isinstance(v, Formula) for v in r)]  # (JSON Lines: no formulas)
    expected = sum(1 for r in rows if not all(empty(v) for v in r))
    if not rows:
        return
    lines = [json.dumps({k: (v.isoformat() if isinstance(v, datetime.date) else v) for k, v in zip(HEADER, [*row, *[None] * 9])},
                        ensure_ascii=False) for row in rows]  # (every key in every record, as an export writes them)
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = score_file(tmp_path / "in.jsonl", tmp_path / "j.csv")
    got = read_csv(tmp_path / "j.csv")
    assert len(got) == summary.rows == expected
    assert all(r["error"] or r["incentive_cny"] for r in got)


# --- issue 22, items 11, 12, 16: a ledger's arrivals compared as read, its total rows, its clashes in Chinese ---

import json  # noqa: E402

from typer.testing import CliRunner  # noqa: E402

from fdi_incentive.cli import app  # noqa: E402


def fdi_cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def meaning(canon: str, text: str):
    """What a kind, sector or code cell means (the test's own reading: calc's parsers)."""
    from fdi_incentive.industry import normalise_code, normalise_name, sector_meaning
    from fdi_incentive.policy import KIND_NAMES

    text = text.strip()
    if not text:
        return None
    if canon == "kind":
        return KIND_NAMES.get(normalise_name(text), text)
    if canon == "sector":
        return sector_meaning(text) or text
    try:
        return normalise_code(text)[0]
    except InputError:
        return text


SPELLINGS = {"kind": ["new", "New ", "新设", "capital_increase", "Capital-Increase", "capital increase", "增资", ""],
             "sector": ["services", "Services", " SERVICES ", "manufacturing", "Manufacturing", "制造业", ""],
             "industry_code": ["C3670", "c3670", "3670", " C 3670", "C36", ""]}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(*(st.sampled_from(v) for v in SPELLINGS.values())), min_size=1, max_size=5))
def test_a_ledgers_arrivals_are_compared_as_read_not_as_written(tmp_path, spelt):
    """The arrivals of one project-year spell its kind, sector and code as they like (增资 and
    capital_increase, services and Services, c3670 and C3670): an error only where what they mean
    differs, naming the column."""
    src = tmp_path / "l.csv"
    write_csv(src, [["A", "2024-03-15", "equity", "40000000", "USD", k, s, c] for k, s, c in spelt],
              header=["project_id", "date", "type", "amount", "currency", "kind", "sector", "industry_code"])
    score_file(src, tmp_path / "o.csv", options=Options(fx_rate=D("7.1")))
    [row] = read_csv(tmp_path / "o.csv")
    for j, canon in enumerate(SPELLINGS):
        meant = {meaning(canon, a[j]) for a in spelt} - {None}
        assert (f"{canon}: the arrivals of this project-year disagree" in row["error"]) == (len(meant) > 1), (canon, row)


def test_spellings_of_one_kind_and_sector_in_a_ledger_are_one_project_year(tmp_path):
    src = tmp_path / "l.csv"
    write_csv(src, [["A", "2024-03-15", "equity", "20000000", "USD", "增资", "services"],
                    ["A", "2024-06-15", "equity", "20000000", "USD", "capital_increase", "Services"]],
              header=["project_id", "date", "type", "amount", "currency", "kind", "sector"])
    summary = score_file(src, tmp_path / "o.csv", options=Options(fx_rate=D("7.1")))
    [row] = read_csv(tmp_path / "o.csv")
    assert summary.errors == 0 and row["error"] == "" and row["incentive_cny"] == "5680000.00", row


LEDGER_HEAD = ["项目编号", "到位日期", "资金类型", "金额", "币种", "行业"]


def test_a_ledgers_total_rows_are_kept_marked_not_scored_and_checked(tmp_path):
    """合计 / 小计 / 总计 in a ledger: as in a file of project-years, a row of its own in the output,
    marked, not scored and not an error; each checked against the arrivals' amounts above it (a
    subtotal against those since the previous total row), as the sheet writes them."""
    src = tmp_path / "l.csv"
    write_csv(src, [["A", "2024-03-15", "货币出资", "2000", "USD", "services"],
                    ["B", "2024-04-15", "货币出资", "1500", "USD", "services"],
                    ["小计", "", "", "3500", "", ""],
                    ["A", "2024-05-15", "外方股东贷款", "500", "USD", "services"],
                    ["合计", "", "", "4100", "", ""]], header=LEDGER_HEAD)
    r = fdi_cli("batch", src, "-o", tmp_path / "o.csv", "--unit", "10k", "--fx-rate", "7.1", "--summary-json",
                tmp_path / "s.json")
    assert r.exit_code == 1, r.output  # (the 合计 does not add up: a ledger's total row, as a sheet's, exits 1)
    assert "(合计): the total does not match the rows above it" in " ".join(r.output.split()), r.output
    rows = read_csv(tmp_path / "o.csv")
    assert [x["project_id"] for x in rows] == ["A", "B", "小计", "合计"]
    for total in rows[2:]:
        assert total["reason"].startswith("total row: not scored") and total["error"] == "" and total["incentive_cny"] == ""
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert summary["errors"] == 0 and summary["arrivals"] == 3
    sub, grand = summary["totals"]
    assert (sub["label"], sub["checks"]["金额"]["rows"], sub["checks"]["金额"]["equal"]) == ("小计", 2, True)
    assert sub["checks"]["金额"]["total"] == "35000000.00" and sub["checks"]["金额"]["unit"] == 10000
    assert (grand["label"], grand["checks"]["金额"]["rows"], grand["checks"]["金额"]["equal"]) == ("合计", 3, False)
    assert grand["checks"]["金额"]["rows_above"] == "40000000.00"
    said = " ".join(r.output.replace("│", " ").split())  # (a panel's borders aside)
    assert "line 6 (合计), 金额: 4,100 ≠ the sum of the 3 rows above, 4,000 (differs by 100)" in said, said
    assert "line 4 (小计), 金额: 3,500 = the sum of the 2 rows above ✓" in said, said


def test_a_ledgers_clash_is_said_in_chinese_and_its_cell_stays_english(tmp_path):
    src = tmp_path / "l.csv"
    write_csv(src, [["A", "2024-03-15", "equity", "20000000", "USD", "new", "services"],
                    ["A", "2024-06-15", "equity", "20000000", "USD", "capital_increase", "services"]],
              header=["project_id", "date", "type", "amount", "currency", "kind", "sector"])
    outputs = {}
    for lang in ("en", "zh"):
        r = fdi_cli("batch", src, "-o", tmp_path / f"{lang}.csv", "--fx-rate", "7.1", "--no-progress", "--lang", lang)
        assert r.exit_code == 1
        outputs[lang] = (tmp_path / f"{lang}.csv").read_bytes()
    assert outputs["en"] == outputs["zh"]
    assert "kind: the arrivals of this project-year disagree ('capital_increase', 'new')" in outputs["en"].decode()
    shown = re.sub(r"[\s│]+", "", r.output)
    assert "arrivalsofthisproject-yeardisagree" not in shown and "kind：" in shown, r.output


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.tuples(st.sampled_from(["A", "B", "C"]), st.sampled_from(["2024-03-15", "2025-01-02"]),
                                    st.sampled_from(["equity", "shareholder_loan", "利润再投资"]),
                                    st.integers(1, 3000), st.sampled_from(["USD", "CNY"])),
                          st.tuples(st.sampled_from(["合计", "小计", "总计", "Total", " 合 计："]), st.integers(-1, 1))),
                min_size=1, max_size=12))
def test_a_ledgers_total_rows_anywhere_are_checked_as_a_sheets_are(tmp_path, rows):
    """Total rows anywhere among a ledger's arrivals, right or off by one: each a row of its own,
    in its place, never an error; checked against the arrivals' amounts (whatever their type or
    currency, as the sheet's SUM adds them) since the previous total row (小计, a 合计 arrivals
    follow) or above it (总计, Total, the last 合计); the arrivals all added up into project-years."""
    written, expected, since, above = [], [], 0, 0
    for k, row in enumerate(rows):
        if len(row) == 5:
            written.append([*row[:3], str(row[3]), row[4], "services"])
            since, above = since + row[3], above + row[3]
            continue
        word, off = row
        follows = any(len(r) == 5 for r in rows[k + 1:])
        bare = "".join(word.split()).rstrip(":：").casefold()
        want = since if bare == "小计" or (bare == "合计" and follows) else above
        written.append([word, "", "", str(want + off), "", ""])
        expected.append((word.strip(), want, off == 0 if want + off >= 0 else None))  # (-1: not an amount)
        since = 0
    src = tmp_path / "l.csv"
    write_csv(src, written, header=LEDGER_HEAD)
    summary = score_file(src, tmp_path / "o.csv", options=Options(fx_rate=D("7.1")))
    out = read_csv(tmp_path / "o.csv")
    totals = [r for r in out if r["reason"].startswith("total row")]
    assert [r["项目编号"] if "项目编号" in r else r["project_id"] for r in totals] == [w for w, _, _ in expected]
    assert all(r["error"] == "" for r in out) and summary.errors == 0
    assert summary.arrivals == sum(len(r) == 5 for r in rows) == sum(int(r["arrivals"] or 0) for r in out)
    got = [(t.label, t.checks["金额"].rows_above, t.checks["金额"].equal) for t in summary.totals]
    assert got == [(w, D(want), ok) for w, want, ok in expected]
