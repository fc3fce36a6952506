"""The bureau's own workbook: Chinese industry names, CSV and sheets Chinese Excel opens as meant,
and the small things an analyst notices (issue 13)."""

import csv
import io
import os
import json
from decimal import Decimal as D
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fdi_incentive import InputError, Project, assess, classify
from fdi_incentive.industry import unknown_sector_text
from fdi_incentive.batch import score_file
from fdi_incentive.cli import app
from fdi_incentive.frame import Options

runner = CliRunner()


def fdi(*args):
    return runner.invoke(app, [str(a) for a in args])


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


# --- item 5: Chinese industry names ------------------------------------------------------------

@pytest.mark.parametrize("name", ["电子信息", "汽车", "装备", "装备制造", "材料", "消费品", "医药"])
def test_chongqings_six_industries_in_chinese_are_manufacturing(name):
    y = assess(Project.for_year(2024, paid_in="40000000", sector=name), fx="7.2").years[0]
    assert y.category == "manufacturing" and y.tier == "manufacturing"


@pytest.mark.parametrize("name, category, code", [
    ("批发和零售业", "other", "F"), ("交通运输、仓储和邮政业", "other", "G"), ("交通运输仓储和邮政业", "other", "G"),
    ("餐饮业", "other", "H62"), ("汽车制造业", "manufacturing", "C36"), ("农、林、牧、渔业", "other", "A"),
    ("货币金融服务", "finance", "J66"), ("其他金融业", "finance", "J69"), ("房地产业", "real_estate", "K70"), ("制造业", "manufacturing", "C"),
    ("信息传输、软件和信息技术服务业", "other", "I"), ("国际组织", "other", "T97"),
])
def test_gbt4754_section_and_division_names_are_sectors(name, category, code):
    c = classify(name)
    assert (c.category, c.code) == (category, code)
    assert c.sector == name  # as the user wrote it


def test_every_section_and_division_name_is_a_sector():
    from fdi_incentive.industry import divisions, section_names

    for letter, (zh, _) in section_names().items():
        assert classify(zh).code[0] == letter, zh
    for div, (letter, zh, _) in divisions().items():
        assert classify(zh).code[0] == letter, zh


def test_an_unknown_name_with_a_valid_code_lets_the_code_decide_and_says_so():
    a = assess(Project.for_year(2024, paid_in="40000000", sector="新能源整车", industry_code="C3670"), fx="7.2")
    assert a.years[0].tier == "manufacturing"
    assert any("'新能源整车'" in n and "C3670 decides" in n for n in a.classification.notes)


def test_an_unknown_name_alone_suggests_the_nearest_names():
    with pytest.raises(InputError) as exc:
        classify("汽车零部件")
    assert "nearest: 汽车" in str(exc.value)
    with pytest.raises(InputError) as exc:
        classify("餐饮")
    assert "餐饮业" in str(exc.value) and "住宿和餐饮业" in str(exc.value)
    with pytest.raises(InputError) as exc:
        classify("manufactoring")
    assert "nearest: manufacturing" in str(exc.value)


@pytest.mark.parametrize("code, words", [
    ("C3670", "class C3670, in division 36 (汽车制造业)"), ("367", "group C367, in division 36 (汽车制造业)"),
    ("C36", "division 36 (汽车制造业)"), ("C", "section C (制造业)"),
])
def test_a_code_is_named_by_what_it_is(code, words):
    c = classify(industry_code=code)
    assert c.basis == f"GB/T 4754-2017 {words}"


def test_a_class_is_never_called_by_its_divisions_name_in_the_breakdown():
    r = fdi("calc", "--year", "2024", "--industry-code", "C3670", "--paid-in-usd", "40000000", "--fx-rate", "7.2")
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())  # (as wrapped at 80 columns)
    assert "class C3670, in division 36 (汽车制造业)" in text
    assert "C3670 (Manufacture of Automobiles)" not in text


def test_batch_reads_chinese_industry_names_and_the_reason_says_when_the_code_decides(tmp_path):
    src = write_csv(tmp_path / "in.csv", ["project_id", "year", "sector", "industry_code", "paid_in_usd", "fx_rate"], [
        ["A", "2024", "电子信息", "", "40000000", "7.1"],
        ["B", "2024", "批发和零售业", "F51", "15000000", "7.1"],
        ["C", "2024", "新能源整车", "C3670", "40000000", "7.1"],
        ["D", "2024", "汽车零部件", "", "40000000", "7.1"],
        ["E", "2024", "货币金融服务", "", "40000000", "7.1"],
    ])
    out = tmp_path / "out.csv"
    summary = score_file(src, out)
    rows = {r["project_id"]: r for r in csv.DictReader(out.open(encoding="utf-8-sig"))}
    assert rows["A"]["tier"] == "manufacturing" and rows["B"]["tier"] == "general"
    assert rows["C"]["tier"] == "manufacturing" and "C3670 decides" in rows["C"]["reason"]
    assert rows["C"]["reason"].endswith("manufacturing tier: base over USD 30,000,000.00; capped at CNY 10,000,000.00")
    # (the cell says what `fdi sql` says of an unknown name; the summary names the nearest known ones, once a name)
    assert rows["D"]["error"] == f"sector: '汽车零部件' is not valid; expected {unknown_sector_text()}" and summary.errors == 1
    assert any("'汽车零部件' (nearest: 汽车)" in n for n in summary.notes), summary.notes
    assert rows["E"]["eligible"] == "false" and rows["E"]["reason"].startswith("excluded: finance")


def test_the_unknown_sector_names_of_the_summary_come_in_one_order(tmp_path):
    """The names came in polars' hash order, another at each run: now sorted, so the ten named of
    many are the same ten every run."""
    names = [f"widget-{c}" for c in "lkjihgfedcba"]  # (12: ten are named, two counted)
    src = write_csv(tmp_path / "in.csv", ["project_id", "year", "sector", "paid_in_usd", "fx_rate"],
                    [[f"P{i}", "2024", name, "40000000", "7.1"] for i, name in enumerate(names)])
    [note] = [n for n in score_file(src, tmp_path / "out.csv").notes if n.startswith("sector names not known")]
    said = [name for name in sorted(names) if f"'{name}'" in note]
    assert said == sorted(names)[:10] and note.index("'widget-a'") < note.index("'widget-b'") < note.index("'widget-j'")
    assert note.endswith(" and 2 more names")


# --- items 13 and 16: one spelling of each category; services as written; the project's kind ---

def test_one_spelling_of_each_category_and_services_as_written():
    r = fdi("calc", "--year", "2024", "--sector", "quasi-finance", "--paid-in-usd", "40000000", "--fx-rate", "7.2")
    assert r.exit_code == 0, r.output
    assert "quasi-finance" in r.output and "quasi finance" not in r.output and "quasi_finance" not in r.output
    r = fdi("calc", "--year", "2024", "--sector", "services", "--paid-in-usd", "15000000", "--fx-rate", "7.2")
    assert "Category: other, from sector 'services'" in r.output


def test_the_projects_kind_is_in_the_breakdown():
    r = fdi("calc", "--year", "2024", "--sector", "汽车", "--kind", "增资", "--paid-in-usd", "40000000", "--fx-rate", "7.2")
    assert r.exit_code == 0, r.output
    assert "capital increase (增资)" in r.output
    r = fdi("calc", "--year", "2024", "--sector", "汽车", "--paid-in-usd", "40000000", "--fx-rate", "7.2")
    assert "new project (新设)" in r.output


# --- item 7: CSV that Chinese Excel opens ---------------------------------------------------------

HEAD = ["项目编号", "年份", "项目类型", "行业", "实际到位外资", "汇率"]
ROWS = [["渝A-001", "2024", "新设", "电子信息", "40000000", "7.1"], ["渝A-002", "2024", "增资", "批发和零售业", "15000000", "7.1"]]


@pytest.mark.parametrize("encoding", ["gbk", "utf-8-sig"])
def test_a_csv_that_came_as_gbk_or_with_a_bom_goes_out_with_a_bom(tmp_path, encoding):
    src = write_csv(tmp_path / "in.csv", HEAD, ROWS, encoding=encoding)
    out = tmp_path / "out.csv"
    summary = score_file(src, out)
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
    assert data[3:].decode("utf-8").splitlines()[1].startswith("渝A-001,2024,新设,电子信息")
    assert any("BOM" in n for n in summary.notes)


def test_a_plain_utf8_csv_goes_out_without_a_bom_and_stdout_never_gets_one(tmp_path):
    src = write_csv(tmp_path / "in.csv", HEAD, ROWS)
    out = tmp_path / "out.csv"
    score_file(src, out)
    assert out.read_bytes().startswith("项目编号".encode())
    gbk = write_csv(tmp_path / "gbk.csv", HEAD, ROWS, encoding="gbk")
    r = fdi("batch", gbk)
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("项目编号")


@pytest.mark.parametrize("asked, starts", [("utf-8", "项目编号".encode()), ("utf-8-sig", b"\xef\xbb\xbf"),
                                           ("gbk", "项目编号".encode("gbk"))])
def test_output_encoding_is_chosen(tmp_path, asked, starts):
    src = write_csv(tmp_path / "in.csv", HEAD, ROWS * 50, encoding="gbk")
    out = tmp_path / "out.csv"
    r = fdi("batch", src, "-o", out, "--output-encoding", asked)
    assert r.exit_code == 0, r.output
    data = out.read_bytes()
    assert data.startswith(starts)
    text = data.decode("gbk" if asked == "gbk" else "utf-8-sig")
    assert text.splitlines()[2].startswith("渝A-002,2024,增资,批发和零售业,15000000,7.1,")  # (a record copied as it stands)
    assert len(text.splitlines()) == 101


def test_a_value_gbk_cannot_hold_is_an_error_naming_the_row(tmp_path):
    src = write_csv(tmp_path / "in.csv", HEAD, ROWS + [["渝A-003 😀", "2024", "新设", "汽车", "40000000", "7.1"]])
    out = tmp_path / "out.csv"
    r = fdi("batch", src, "-o", out, "--output-encoding", "gbk")
    assert r.exit_code == 2
    assert "row 3" in r.output and "项目编号" in r.output and "U+1F600" in r.output and "utf-8-sig" in r.output
    assert not out.exists()
    r = fdi("batch", src, "-o", tmp_path / "out.xlsx", "--output-encoding", "gbk")
    assert r.exit_code == 2 and "a CSV output" in r.output
    r = fdi("batch", src, "-o", out, "--output-encoding", "latin-1")
    assert r.exit_code == 2 and "utf-8 or utf-8-sig or gbk" in r.output


def test_a_gbk_csv_with_title_lines_still_goes_out_with_a_bom(tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes(("2024年度外资奖励测算,,,,,\n" + ",".join(HEAD) + "\n" + "\n".join(",".join(r) for r in ROWS) + "\n")
                    .encode("gbk"))
    out = tmp_path / "out.csv"
    score_file(src, out)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf" + "项目编号".encode())


# --- item 8: numbers as numbers in .xlsx -----------------------------------------------------------

def test_money_rates_and_fx_are_numbers_in_excel_where_a_double_holds_them(tmp_path):
    import openpyxl

    src = write_csv(tmp_path / "in.csv", ["project_id", "year", "sector", "paid_in_usd", "fx_rate"], [
        ["A", "2024", "manufacturing", "30000000.01", "7.2"],        # gross 8,640,000.00288: 12 digits, a number
        ["B", "2024", "services", "12345678901.23", "7.12345678"],  # base in CNY of 21 digits: stays text
        ["C", "2024", "real-estate", "80000000", "7.2"],
    ])
    out = tmp_path / "out.xlsx"
    summary = score_file(src, out)
    ws = openpyxl.load_workbook(out).active
    head = [c.value for c in ws[1]]
    a, b = ({h: c for h, c in zip(head, row)} for row in list(ws.iter_rows(min_row=2))[:2])
    assert a["incentive_cny"].value == 8640000.00 and a["incentive_cny"].number_format == "#,##0.00"
    assert a["gross_cny"].value == 8640000.00288 and a["gross_cny"].data_type == "n"
    assert a["rate"].value == 0.04 and a["rate"].number_format.endswith("%")
    assert a["fdi_fx_rate"].value == 7.2 and a["fx_rate"].value == "7.2" and a["base_usd"].value == 30000000.01
    assert b["base_cny"].data_type == "s" and b["base_cny"].value == "87943910072.6697938394"
    assert b["incentive_cny"].value == 10000000
    assert any("written as text" in n and n.startswith("2 ") for n in summary.notes), summary.notes  # base and gross
    # input columns keep what they were: text from a CSV, exactly as given
    assert a["paid_in_usd"].value == "30000000.01" and a["year"].value == "2024"
    # the header frozen, a filter on it, columns as wide as their text
    from openpyxl.utils import get_column_letter

    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:{get_column_letter(len(head))}4"
    assert ws.column_dimensions[get_column_letter(head.index("reason") + 1)].width > 40
    from decimal import Decimal
    for row in ws.iter_rows(min_row=2):  # every number reads back as exactly the decimal the CSV output has
        for cell in row:
            if cell.data_type == "n" and cell.value is not None:
                assert Decimal(repr(cell.value)) == Decimal(str(cell.value))


# --- item 10: `fdi policy show` readable at 80 columns -----------------------------------------------

def _squeezed(text: str) -> str:
    """Rendered text with the table's borders and every space and line end taken out."""
    return "".join(ch for ch in text if not ch.isspace() and ch not in "│┃║|")


@pytest.mark.parametrize("width", [80, 100, None])  # None: piped, as `fdi policy show … | less`
def test_policy_show_keeps_every_citation_readable(width):
    import io

    from rich.console import Console

    from fdi_incentive.policy import get_policy
    from fdi_incentive.render_policy import render_policy

    lp = get_policy("cn-cq-2023")
    if width is None:
        r = fdi("policy", "show", "cn-cq-2023")
        assert r.exit_code == 0
        text = r.output
    else:
        console = Console(file=io.StringIO(), width=width, record=True)
        console.print(render_policy(lp))
        text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= (width or 80)
    p = lp.policy
    parts = [p.effective, p.base, p.exclusions, p.stacking, p.cap, p.conversion, p.rounding, *p.tiers]
    squeezed = _squeezed(text)
    for part in parts:
        for _, said in part.said():  # the source's words, our reading, an assumption: each whole
            assert _squeezed(said) in squeezed, said
    assert "…" not in "".join(line.split("│")[1] for line in text.splitlines() if line.startswith("│") and line.count("│") == 3)


# --- items 11, 12, 17: completion, flags, --rate ---------------------------------------------------

def test_shell_completion_is_typers_own():
    r = fdi("--show-completion", "bash")
    assert r.exit_code == 0, r.output
    assert "_FDI_COMPLETE=complete_bash" in r.output and "complete -o default -F _fdi_completion fdi" in r.output
    assert "--install-completion" in fdi("--help").output


def test_completion_completes_commands_and_options(monkeypatch):
    import subprocess
    import sys

    env = {**os.environ, "_FDI_COMPLETE": "complete_bash", "COMP_WORDS": "fdi batch --output-enc", "COMP_CWORD": "2",
           "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    out = subprocess.run([sys.executable, "-m", "fdi_incentive"], env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["--output-encoding"]


@pytest.mark.parametrize("command", [["calc"], ["plan"], ["policy", "list"], ["policy", "show"]])
def test_help_shows_json_as_a_flag(command):
    r = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "120"})
    line = next(line for line in r.output.splitlines() if "--json" in line and "Print" in line)
    assert "<bool>" not in line and "BOOLEAN" not in line


@pytest.mark.parametrize("command", [
    ["calc", "--year", "2024", "--sector", "services", "--paid-in-usd", "20000000", "--fx-rate", "7"],
    ["plan", "--total-usd", "20000000", "--years", "2024", "--sector", "services", "--fx-rate", "7"],
])
@pytest.mark.parametrize("rate, hint", [("2%", "for 2% write 0.02"), ("abc", ""), ("5", "")])
def test_rate_says_it_wants_a_fraction(command, rate, hint):
    r = fdi(*command, "--rate", rate)
    assert r.exit_code == 2
    assert f"--rate: '{rate}' is not valid; expected a fraction between 0 and 1, such as 0.05 (for 5%)" in r.output
    assert hint in r.output and "CNY per unit" not in r.output


# --- item 14: README's column list is what is written ----------------------------------------------

def test_readme_lists_the_result_columns_and_the_fdi_prefix_rule(tmp_path):
    import re

    from fdi_incentive.frame import RESULT_COLUMNS

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    listed = re.search(r"input columns first\s+\(exactly as given\), then `([^`]*)`", readme).group(1)
    assert [c.strip() for c in listed.split(",")] == RESULT_COLUMNS
    src = write_csv(tmp_path / "in.csv", ["project_id", "year", "sector", "paid_in_usd", "fx_rate"],
                    [["A", "2024", "services", "15000000", "7.2"]])
    score_file(src, tmp_path / "out.csv")
    header = (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header == ["project_id", "year", "sector", "paid_in_usd", "fx_rate",
                      *("fdi_fx_rate" if c == "fx_rate" else c for c in RESULT_COLUMNS)]
    assert "makes the result `fdi_fx_rate`" in " ".join(readme.split())


# --- item 3: a total row is a total row --------------------------------------------------------------

TOTAL_HEAD = ["项目编号", "年份", "行业", "实际到位外资", "外方股东贷款", "汇率"]


@pytest.mark.parametrize("to", ["out.csv", "out.xlsx"])
def test_a_total_row_is_kept_marked_not_scored_and_checked(tmp_path, to):
    src = write_csv(tmp_path / "in.csv", TOTAL_HEAD, [
        ["CQ-001", "2024", "电子信息", "3500", "500", "7.1"],
        ["CQ-002", "2024", "汽车", "1200", "", "7.1"],
        ["CQ-003", "2024", "批发和零售业", "1500.5", "", "7.1"],
        ["合计", "", "", "6200.5", "400", ""],
    ])
    r = fdi("batch", src, "-o", tmp_path / to, "--unit", "10k", "--summary-json", tmp_path / "s.json")
    assert r.exit_code == 1, r.output  # a total that does not add up exits 1 (the 400 below); its row is no error row
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert summary["rows"] == 4 and summary["errors"] == 0 and summary["scored"] == 3
    [total] = summary["totals"]
    assert total["row"] == 4 and total["label"] == "合计"
    assert total["checks"]["实际到位外资"] == {"total": "62005000.00", "rows_above": "62005000.00", "rows": 3,
                                            "unreadable": 0, "equal": True, "unit": 10000}
    assert total["checks"]["外方股东贷款"]["equal"] is False  # 400 万 against 500 万 above
    # (in the sheet's own numbers, 万 under --unit 10k, as the analyst compares them with the sheet)
    assert "实际到位外资: 6,200.5 = the sum of the 3 rows above ✓" in " ".join(r.output.split())
    assert "外方股东贷款: 400 ≠ the 1 row above, 500 (differs by -100)" in " ".join(r.output.split())
    if to == "out.csv":
        rows = list(csv.DictReader((tmp_path / to).open(encoding="utf-8-sig")))
        assert len(rows) == 4 and rows[3]["项目编号"] == "合计"
        assert rows[3]["reason"].startswith("total row: not scored") and rows[3]["error"] == ""
        assert rows[3]["incentive_cny"] == "" and rows[3]["eligible"] == ""
        assert summary["total_incentive_cny"] == str(sum(D(r["incentive_cny"]) for r in rows[:3]))


def test_total_words_and_the_first_cell(tmp_path):
    src = write_csv(tmp_path / "in.csv", ["note", "project_id", "year", "sector", "paid_in_usd", "fx_rate"], [
        ["", "A", "2024", "services", "15000000", "7.2"],
        ["小计", "", "", "", "15000000", ""],
        ["", "B", "2024", "services", "20000000", "7.2"],
        ["", "Total ", "", "", "35000000", ""],
        ["总 计", "", "", "", "35000000.00", ""],
    ])
    summary = score_file(src, tmp_path / "out.csv")
    assert summary.errors == 0 and summary.scored == 2 and [t.label for t in summary.totals] == ["小计", "Total", "总 计"]
    assert all(t.checks["paid_in_usd"].equal for t in summary.totals)  # a subtotal's group, then all the rows above


def test_a_grand_total_is_checked_against_every_row_above_a_subtotal_against_its_group(tmp_path):
    """总计 / Total / a 合计 no data row follows: every data row above (subtotals left out), right or
    wrong; 小计 or a 合计 data rows follow: the rows since the previous total row."""
    src = write_csv(tmp_path / "in.csv", ["project_id", "year", "sector", "paid_in_usd", "fx_rate"], [
        ["A", "2024", "services", "2000", "7.2"], ["B", "2024", "services", "3800", "7.2"],
        ["小计", "", "", "5800", ""],
        ["C", "2024", "services", "900", "7.2"],
        ["总计", "", "", "6701", ""],  # wrong by 1: against all 3 rows (6,700), not C's 900
        ["D", "2024", "services", "1000", "7.2"], ["E", "2024", "services", "500", "7.2"],
        ["合计", "", "", "1500", ""],  # data rows follow: a subtotal, of D and E (since the 总计)
        ["F", "2024", "services", "200", "7.2"],
        ["合计", "", "", "8400", ""],  # the last: every data row above
    ])
    summary = score_file(src, tmp_path / "out.csv")
    got = [(t.label, t.checks["paid_in_usd"].rows, str(t.checks["paid_in_usd"].rows_above), t.checks["paid_in_usd"].equal)
           for t in summary.totals]
    assert got == [("小计", 2, "5800.00", True), ("总计", 3, "6700.00", False), ("合计", 2, "1500.00", True),
                   ("合计", 6, "8400.00", True)]


# --- item 4: amounts that look like the wrong unit -------------------------------------------------

def test_amounts_all_below_usd_100k_suggest_10k(tmp_path):
    src = write_csv(tmp_path / "in.csv", ["project_id", "year", "sector", "paid_in_usd", "fx_rate"],
                    [["A", "2024", "services", "3500", "7.1"], ["B", "2024", "services", "99999.99", "7.1"]])
    summary = score_file(src, tmp_path / "out.csv")
    assert any("below USD 100,000" in n and "--unit 10k" in n and "万美元" in n for n in summary.notes)
    assert not any("--unit 10k" in n for n in score_file(src, tmp_path / "o2.csv", options=Options(unit=D(10000))).notes)
    big = write_csv(tmp_path / "big.csv", ["project_id", "year", "sector", "paid_in_usd", "fx_rate"],
                    [["A", "2024", "services", "3500", "7.1"], ["B", "2024", "services", "100000", "7.1"]])
    assert not any("--unit 10k" in n for n in score_file(big, tmp_path / "o3.csv").notes)


# --- item 2: columns that match nothing are named; a missing column stops the run -----------------

def test_columns_that_match_nothing_are_named_in_the_summary(tmp_path):
    src = write_csv(tmp_path / "in.csv", ["项目编号", "年份", "行业", "实际到位外资", "备注", "联系人"],
                    [["A", "2024", "制造业", "40000000", "重点项目", "张三"]])
    r = fdi("batch", src, "-o", tmp_path / "out.csv", "--fx-rate", "7.1", "--summary-json", tmp_path / "s.json")
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))["ignored_columns"] == ["备注", "联系人"]
    assert "columns ignored (kept in the output as they are): 备注, 联系人" in " ".join(r.output.split())


def test_a_missing_required_column_stops_before_scoring_in_one_message(tmp_path):
    src = write_csv(tmp_path / "in.csv", ["项目编号", "年份", "行业", "到位资金（万美元）"],
                    [[f"A{i}", "2024", "制造业", "4000"] for i in range(15)])
    out = tmp_path / "out.csv"
    r = fdi("batch", src, "-o", out)
    assert r.exit_code == 2 and not out.exists()
    assert len(r.output.strip().splitlines()) == 1
    assert "the amount paid in" in r.output and "paid_in_usd / 实际到位外资" in r.output
    assert "the header has '项目编号', '年份', '行业', '到位资金（万美元）'" in r.output


# --- item 1: units in the header ---------------------------------------------------------------------

@pytest.mark.parametrize("header, cell, usd", [
    ("实际到位外资（万美元）", "3500", "35000000.00"), ("实际到位外资(万美元)", "3500", "35000000.00"),
    ("实际到位外资(美元)", "35000000", "35000000.00"), ("paid_in (USD 10k)", "3500", "35000000.00"),
    ("paid_in_usd [USD m]", "35", "35000000.00"), ("实际到位外资【万美元】", "3500.5", "35005000.00"),
])
def test_a_unit_in_the_header_is_the_columns_unit(tmp_path, header, cell, usd):
    extra = [["USD"]] if header.startswith("paid_in (") else [[]]
    src = write_csv(tmp_path / "in.csv", ["project_id", "year", "sector", header, *(["currency"] if extra[0] else []), "fx_rate"],
                    [["A", "2024", "manufacturing", cell, *extra[0], "7.1"]])
    summary = score_file(src, tmp_path / "out.csv")
    row = next(csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8-sig")))
    assert summary.errors == 0 and row["base_usd"] == usd
    assert header in summary.column_units and "from the header" in summary.column_units[header]


def test_units_per_column_and_the_summary_states_them(tmp_path):
    src = write_csv(tmp_path / "in.csv", ["项目编号", "年份", "行业", "实际到位外资（万美元）", "外方股东贷款(万美元)",
                                          "利润再投资（万元）", "汇率"],
                    [["A", "2024", "服务业", "900", "100", "720", "7.2"]])
    r = fdi("batch", src, "-o", tmp_path / "out.csv", "--summary-json", tmp_path / "s.json")
    assert r.exit_code == 0, r.output
    row = next(csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8-sig")))
    assert row["base_usd"] == "10000000.00" and row["tier"] == ""  # 9M + CNY 7.2M (USD 1M): not over 10M
    units = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))["column_units"]
    assert units == {"实际到位外资（万美元）": "USD × 10,000 (万美元, from the header)",
                     "外方股东贷款(万美元)": "USD × 10,000 (万美元, from the header)",
                     "利润再投资（万元）": "CNY × 10,000 (万元, from the header)"}
    assert "units: 实际到位外资（万美元）: USD × 10,000" in " ".join(r.output.split())


def test_a_header_unit_that_contradicts_unit_is_exit_2(tmp_path):
    src = write_csv(tmp_path / "in.csv", ["项目编号", "年份", "行业", "实际到位外资（万美元）"], [["A", "2024", "制造业", "3500"]])
    r = fdi("batch", src, "-o", tmp_path / "out.csv", "--unit", "1")
    assert r.exit_code == 2 and "实际到位外资（万美元）" in r.output and "--unit" in r.output
    assert fdi("batch", src, "-o", tmp_path / "out.csv", "--unit", "10k", "--fx-rate", "7.1").exit_code == 0
    bad = write_csv(tmp_path / "bad.csv", ["项目编号", "年份", "行业", "实际到位外资（万元）"], [["A", "2024", "制造业", "3500"]])
    r = fdi("batch", bad, "-o", tmp_path / "out.csv")
    assert r.exit_code == 2 and "a unit in USD for paid_in_usd" in r.output
    # paid_in（万元） without a currency column: its rows are USD (it was read as USD × 10,000)
    bad = write_csv(tmp_path / "bad2.csv", ["项目编号", "年份", "行业", "paid_in（万元）"], [["A", "2024", "制造业", "3500"]])
    r = fdi("batch", bad, "-o", tmp_path / "out.csv")
    assert r.exit_code == 2 and "a unit in USD for paid_in" in r.output


@pytest.mark.parametrize("typed", ["1m", " 1M", "百万", "1"])
def test_a_contradicted_unit_is_quoted_as_typed(tmp_path, typed):
    """`--unit 1m` was quoted back as '1,000,000'."""
    src = write_csv(tmp_path / "in.csv", ["项目编号", "年份", "行业", "实际到位外资（万美元）"], [["A", "2024", "制造业", "3500"]])
    r = fdi("batch", src, "-o", tmp_path / "out.csv", "--unit", typed)
    assert r.exit_code == 2 and r.output.startswith(f"fdi: error: --unit: {typed!r} is not valid"), r.output


@pytest.mark.parametrize("amount, currency_col, currencies, bad_row", [
    ("paid_in（万元）", "currency", ["USD", "USD"], 1),                # 万元 is CNY, the rows say USD
    ("paid_in（万美元）", "currency", ["USD", "cny"], 2),
    ("paid_in (USD 10k)", "currency", ["USD", ""], None),             # an empty currency cell is USD: agrees
    ("利润再投资（万元）", "reinvested_profit_currency", ["CNY", "EUR"], 2),
    ("利润再投资（万元）", "reinvested_profit_currency", ["", "CNY"], None),   # empty is CNY
])
def test_a_header_unit_a_rows_currency_contradicts_is_exit_2(tmp_path, amount, currency_col, currencies, bad_row):
    """README: a header whose unit names another currency than its column's is exit 2; where the
    column's currency is each row's currency cell (paid_in + currency), a row saying another stops the run."""
    paid = [] if amount.startswith("paid_in") else ["paid_in_usd"]
    src = write_csv(tmp_path / "in.csv", ["project_id", "year", "sector", *paid, amount, currency_col, "fx_rate"],
                    [[p, "2024", "manufacturing", *(["40000000"] if paid else []), "3500", c, "7.1"]
                     for p, c in zip("AB", currencies)])
    out = tmp_path / "out.csv"
    r = fdi("batch", src, "-o", out)
    if bad_row is None:
        assert r.exit_code == 0, r.output
        return
    assert r.exit_code == 2 and not out.exists(), r.output
    said = " ".join(r.output.split())
    assert amount in said and f"row {bad_row}" in said and currency_col in said


# --- done when: the bureau's file scores with no options at all ------------------------------------

BUREAU_FILE = """2024年度外资奖励测算,,,,,
项目编号,年份,项目类型,行业,行业代码,实际到位外资（万美元）,外方股东贷款（万美元）,汇率
CQ-001,2024,新设,电子信息,C3971,3500,500,7.1
CQ-002,2024,增资,汽车,,1200,,7.1
CQ-003,2024,新设,批发和零售业,F51,1500.5,,7.1
合计,,,,,6200.5,500,
"""


def test_the_bureaus_gbk_workbook_scores_with_no_options(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("2024奖励测算.csv").write_bytes(BUREAU_FILE.replace("\n", "\r\n").encode("gbk"))  # as Excel saves it
    r = fdi("batch", "2024奖励测算.csv", "-o", "out.csv")
    assert r.exit_code == 0, r.output
    data = Path("out.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # Excel opens it as UTF-8: Chinese intact
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["项目编号"] for r in rows] == ["CQ-001", "CQ-002", "CQ-003", "合计"]  # every row in is a row out
    assert [r["base_usd"] for r in rows[:3]] == ["35000000.00", "12000000.00", "15005000.00"]  # read in 万美元
    assert [r["tier"] for r in rows[:3]] == ["manufacturing", "general", "general"]  # the industry names understood
    assert [r["incentive_cny"] for r in rows] == ["9940000.00", "1704000.00", "2130710.00", ""]
    assert all(r["error"] == "" for r in rows) and rows[3]["reason"].startswith("total row")
    text = _squeezed(r.output)  # (as wrapped in its panels)
    assert _squeezed("total payout CNY 13,774,710.00") in text
    assert _squeezed("line 6 (合计), 实际到位外资（万美元）: 6,200.5 = the sum of the 3 rows above ✓") in text
    assert _squeezed("line 6 (合计), 外方股东贷款（万美元）: 500 = the 1 row above ✓") in text


# --- item 6: errors the analyst can find ---------------------------------------------------------------

def test_errors_name_the_csv_line_and_the_project(tmp_path):
    src = tmp_path / "in.csv"
    src.write_bytes(("外资项目表,,,,\n"
                     "项目编号,年份,行业,实际到位外资,备注\n"
                     "A,2024,制造业,40000000,\n"
                     "\n"
                     'B,2024,制造业,abc,"两行\n的备注"\n'
                     "C,2024,widgets,40000000,\n").encode("gbk"))
    r = fdi("batch", src, "-o", tmp_path / "out.csv", "--fx-rate", "7.1", "--summary-json", tmp_path / "s.json")
    assert r.exit_code == 1
    errors = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))["first_errors"]
    assert [(e["row"], e["line"], e["project_id"]) for e in errors] == [(2, "line 5", "B"), (3, "line 7", "C")]
    text = " ".join(r.output.split())
    assert "line 5 (B): paid_in_usd: 'abc' is not valid" in text and "line 7 (C): sector: 'widgets'" in text


def test_errors_name_the_sheet_and_the_row_excel_shows(tmp_path):
    import xlsxwriter

    book = xlsxwriter.Workbook(str(tmp_path / "in.xlsx"))
    sheet = book.add_worksheet("2024年")
    sheet.write_row(0, 0, ["2024年外资项目表"])
    sheet.write_row(2, 0, ["项目编号", "年份", "行业", "实际到位外资"])
    sheet.write_row(3, 0, ["A", 2024, "制造业", 40000000])
    sheet.write_row(5, 0, ["B", 2024, "widgets", 40000000])
    book.close()
    summary = score_file(tmp_path / "in.xlsx", tmp_path / "out.csv", options=Options(fx_rate=D("7.1")))
    [e] = summary.first_errors
    assert (e.row, e.line, e.project_id) == (2, "sheet '2024年' row 6", "B")


def test_an_excel_inputs_columns_keep_their_cell_types(tmp_path):
    import openpyxl
    import xlsxwriter

    book = xlsxwriter.Workbook(str(tmp_path / "in.xlsx"), {"strings_to_numbers": False})
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["项目编号", "年份", "行业", "实际到位外资", "备注"])
    sheet.write_row(1, 0, ["A", 2024, "制造业", 40000000.5, "12"])
    sheet.write_row(2, 0, ["B", 2024, "服务业", 15000000, "x"])
    book.close()
    score_file(tmp_path / "in.xlsx", tmp_path / "out.xlsx", options=Options(fx_rate=D("7.1")))
    ws = openpyxl.load_workbook(tmp_path / "out.xlsx").active
    head = [c.value for c in ws[1]]
    a = {h: c for h, c in zip(head, ws[2])}
    assert a["年份"].value == 2024 and a["实际到位外资"].value == 40000000.5  # numbers in, numbers out
    assert a["项目编号"].value == "A" and a["备注"].value == "12" and a["备注"].data_type == "s"  # text in, text out


def test_the_summary_names_only_unknown_sector_names_that_are_errors(tmp_path):
    """A name we do not know, given with a valid code, is no error (the code decides): the summary's
    list of unknown names leaves it out, though other rows have no code (every pair of a batch's
    distinct sectors and codes is classified, not only the pairs its rows hold)."""
    src = tmp_path / "in.csv"
    src.write_text("project_id,year,sector,industry_code,paid_in_usd,fx_rate\n"
                   "A,2024,新能源整车,C3670,40000000,7.1\nB,2024,manufacturing,,40000000,7.1\n"
                   "C,2024,汽车零部件,,40000000,7.1\n", encoding="utf-8")
    summary = score_file(src, tmp_path / "out.csv")
    said = [n for n in summary.notes if "汽车零部件" in n]
    assert len(said) == 1 and "新能源整车" not in said[0], summary.notes
    assert summary.errors == 1


# --- issue 22, items 8, 9, 15: what a workbook holds that calamine alone does not say ------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SHEET_HEAD = ["project_id", "year", "kind", "sector", "industry_code", "paid_in_usd", "shareholder_loans_usd",
              "reinvested_profit", "fx_rate", "note"]
FORMULAS = ["=7.1+0.1", "=2*5000000", '="services"', "=B2", "=SUM(F2:F3)", '=IF(1>0,"new","x")']


def _letters(j: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(j + 1)


def _rows_out(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(path.open(encoding="utf-8-sig", newline="")))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(1, 5), data=st.data(), writer=st.sampled_from(["openpyxl", "xlsxwriter"]))
def test_a_formula_whose_value_the_file_does_not_hold_is_its_rows_error(tmp_path, n, data, writer):
    """Formula cells in every column kind, written by a program (openpyxl: no value; xlsxwriter: 0 and
    "calculate again when opened"): each row holding one in a column fdi reads is an error naming the
    column and the cell, never read as empty (an fx_rate falling back to the ECB rate, a profit of 0);
    in a column fdi does not read, the cell keeps the formula's text; every other row is scored."""
    cells = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, len(SHEET_HEAD) - 1),
                                         st.sampled_from(FORMULAS)), max_size=4, unique_by=lambda t: t[:2]))
    rows = [[f"P{i}", 2024, "new", "services", None, 20000000, 0, 0, 7.1, "x"] for i in range(n)]
    path = tmp_path / "in.xlsx"
    if writer == "openpyxl":
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(SHEET_HEAD)
        for i, row in enumerate(rows):
            sheet.append(row)
        for i, j, formula in cells:
            sheet.cell(row=i + 2, column=j + 1, value=formula)
        book.save(path)
    else:
        import xlsxwriter

        book = xlsxwriter.Workbook(str(path))
        sheet = book.add_worksheet()
        sheet.write_row(0, 0, SHEET_HEAD)
        at = {(i, j): f for i, j, f in cells}
        for i, row in enumerate(rows):
            for j, value in enumerate(row):
                if (i, j) in at:
                    sheet.write_formula(i + 1, j, at[(i, j)])
                elif value is not None:
                    sheet.write(i + 1, j, value)
        book.close()
    summary = score_file(path, tmp_path / "out.csv")
    got = _rows_out(tmp_path / "out.csv")
    assert len(got) == summary.rows == n
    for i, row in enumerate(got):
        mine = [(j, f) for r, j, f in cells if r == i]
        read = [(j, f) for j, f in mine if SHEET_HEAD[j] != "note"]
        for j, formula in read:
            assert f"{SHEET_HEAD[j]}: cell {_letters(j)}{i + 2} holds the formula {formula}" in row["error"], row
        if not read:
            assert row["error"] == "" and row["incentive_cny"] == "2840000.00", row
        for j, formula in mine:
            if SHEET_HEAD[j] == "note":
                assert row["note"] == "'" + formula  # (its text, neutralised as every formula start is)


def test_a_formula_without_its_value_in_a_ledger_is_its_project_years_error(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["project_id", "date", "type", "amount", "currency", "sector"])
    sheet.append(["A", "2024-03-01", "equity", "=2*10000000", "USD", "services"])
    sheet.append(["B", "2024-03-01", "equity", 20000000, "USD", "services"])
    book.save(tmp_path / "l.xlsx")
    r = fdi("batch", tmp_path / "l.xlsx", "-o", tmp_path / "out.csv", "--fx-rate", "7.1")
    assert r.exit_code == 1
    a, b = _rows_out(tmp_path / "out.csv")
    assert "amount: cell D2 holds the formula =2*10000000 without its value" in a["error"] and a["incentive_cny"] == ""
    assert b["error"] == "" and b["incentive_cny"] == "2840000.00"


def _book(path: Path, sheets: list[tuple[str, str, list[list]]]) -> Path:
    """A workbook of (name, state: visible / hidden / veryHidden, rows) sheets."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, state, rows in sheets:
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        sheet.sheet_state = state
    book.save(path)
    return path


def test_a_hidden_first_sheet_is_passed_over_and_named(tmp_path):
    head = ["project_id", "year", "sector", "paid_in_usd", "fx_rate"]
    path = _book(tmp_path / "in.xlsx", [("Old", "hidden", [head, ["OLD", 2023, "services", 99000000, 7.1]]),
                                        ("2024", "visible", [head, ["NEW", 2024, "services", 20000000, 7.1]])])
    r = fdi("batch", path, "-o", tmp_path / "out.csv", "--summary-json", tmp_path / "s.json")
    assert r.exit_code == 0, r.output
    assert [row["project_id"] for row in _rows_out(tmp_path / "out.csv")] == ["NEW"]
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert summary["input_format"] == "Excel sheet '2024'"
    assert any("'Old' (hidden)" in n and "not read" in n for n in summary["notes"]), summary["notes"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["visible", "hidden", "veryHidden"]), st.booleans()), min_size=1, max_size=5)
       .filter(lambda s: any(state == "visible" for state, _ in s)))
def test_the_first_visible_sheet_with_a_header_is_read_and_every_other_one_is_named(tmp_path, sheets):
    """Sheets visible, hidden or very hidden, with a project header or only notes: the first visible
    one with a header is read (else the first visible one, an error); every other sheet with a
    header is named in the summary, the hidden ones said to be hidden."""
    head = ["project_id", "year", "sector", "paid_in_usd", "fx_rate"]
    made = [(f"S{k}", state, [head, [f"P{k}", 2024, "services", 20000000, 7.1]] if has else [["notes"], ["x"]])
            for k, (state, has) in enumerate(sheets)]
    path = _book(tmp_path / "in.xlsx", made)
    read = next((k for k, (state, has) in enumerate(sheets) if state == "visible" and has), None)
    if read is None:
        with pytest.raises(InputError):
            score_file(path, tmp_path / "out.csv")
        return
    summary = score_file(path, tmp_path / "out.csv")
    assert [row["project_id"] for row in _rows_out(tmp_path / "out.csv")] == [f"P{read}"]
    others = [(f"S{k}", state) for k, (state, has) in enumerate(sheets) if has and k != read]
    said = [n for n in summary.notes if "not read" in n]
    if not others:
        assert said == []
    else:
        [note] = said
        for name, state in others:
            assert (f"'{name}' (hidden)" if state != "visible" else f"'{name}'") in note
            assert f"'{name}' (hidden)" not in note or state != "visible"


def _with_sheet_xml(path: Path, xml: bytes, level: int = 1) -> Path:
    """An openpyxl workbook with its first sheet's XML replaced by ``xml``."""
    import zipfile

    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["project_id", "year", "sector", "paid_in_usd", "fx_rate"])
    book.save(tmp := path.with_suffix(".tmp.xlsx"))
    with zipfile.ZipFile(tmp) as z_in, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z_out:
        for info in z_in.infolist():
            z_out.writestr(info.filename, xml if info.filename == "xl/worksheets/sheet1.xml" else z_in.read(info.filename))
    return path


SHEET_XML = (b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">%s<sheetData>'
             b'<row r="1"><c r="A1" t="inlineStr"><is><t>project_id</t></is></c><c r="B1" t="inlineStr"><is><t>year</t></is></c>'
             b'<c r="C1" t="inlineStr"><is><t>sector</t></is></c><c r="D1" t="inlineStr"><is><t>paid_in_usd</t></is></c></row>'
             b'%s</sheetData></worksheet>')


@pytest.mark.parametrize("dimension, rows, words", [
    (b'<dimension ref="A1:D3000000"/>', b'<row r="2"><c r="A2"><v>1</v></c></row>', "3,000,000 rows"),
    (b"", b"".join(b'<row r="%d"><c r="B%d"><v>2024</v></c><c r="D%d"><v>%d</v></c></row>' % (r, r, r, r)
                   for r in range(2, 1_048_578)), "1,048,577 rows"),
    (b'<dimension ref="A1:D2"/>', b'<row r="2"><c r="A2"><v>1</v></c><c r="XFE2"><v>1</v></c></row>', "column 16,385"),
    (b"", b'<row r="2"><c r="A2"><v>1</v></c></row><row r="2000000"><c r="A2000000"><v>1</v></c></row>', "2,000,000 rows"),
], ids=["dimension", "rows-counted", "column", "row-number"])
def test_a_sheet_past_excels_limits_is_refused_before_its_cells_are_read(tmp_path, dimension, rows, words):
    """Its dimension says so, or its rows and cells as they stream by (a dimension left out or
    wrong): exit 2 naming the sheet and the limit, without reading the sheet into memory."""
    path = _with_sheet_xml(tmp_path / "big.xlsx", SHEET_XML % (dimension, rows))
    r = fdi("batch", path, "-o", tmp_path / "out.csv")
    assert r.exit_code == 2 and not (tmp_path / "out.csv").exists()
    said = " ".join(r.output.split())
    assert "1,048,576 rows and 16,384 columns" in said and "sheet 'Sheet'" in said and words in said, said


def test_a_part_that_expands_past_its_bound_is_refused(tmp_path):
    """A zip bomb: a part expanding to 1,000 times its compressed size is refused before any is inflated."""
    filler = b"<!--" + b" " * (64 << 20) + b"-->"
    path = _with_sheet_xml(tmp_path / "bomb.xlsx", SHEET_XML % (b"", filler), level=9)
    r = fdi("batch", path, "-o", tmp_path / "out.csv")
    assert r.exit_code == 2
    said = " ".join(r.output.split())
    assert "zip bomb" in said and "xl/worksheets/sheet1.xml" in said and "100 times" in said, said


@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/styles.xml"])
def test_a_part_that_holds_more_than_its_zip_says_is_refused(tmp_path, part):
    """A part whose stated size is smaller than what it inflates to (a zip bomb that lies about its
    size): inflated only as far as it says, then refused, its sheet never read."""
    import struct

    rows = b"".join(b'<row r="%d"><c r="B%d"><v>2024</v></c></row>' % (r, r) for r in range(2, 20000))
    path = _with_sheet_xml(tmp_path / "lies.xlsx", SHEET_XML % (b"", rows))
    raw = bytearray(path.read_bytes())
    name = part.encode()
    for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        at = raw.find(signature + b"", 0)
        while at >= 0:
            if raw[at + name_at:at + name_at + len(name)] == name:
                raw[at + size_at:at + size_at + 4] = struct.pack("<I", 100)
            at = raw.find(signature, at + 4)
    path.write_bytes(bytes(raw))
    r = fdi("batch", path, "-o", tmp_path / "out.csv")
    assert r.exit_code == 2 and "a readable Excel workbook" in " ".join(r.output.split()), r.output
    assert "Traceback" not in r.output
