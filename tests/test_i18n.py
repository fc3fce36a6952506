"""The Chinese interface: every message has its translation, the catalogue is current with the code,
`--lang zh` (or a zh_* locale) speaks Chinese, and nothing a script reads changes with the language."""

import csv
import gettext
import io
import json
import re
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from typer.testing import CliRunner

import fdi_incentive
from fdi_incentive import i18n
from fdi_incentive.cli import ExitCode, app
from fdi_incentive.policy import bundled_policies

from .strategies import broken_projects

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "src" / "fdi_incentive"
PO = PACKAGE / "locale" / "zh" / "LC_MESSAGES" / "fdi_incentive.po"
MO = PO.with_suffix(".mo")
runner = CliRunner()
CALC = ["calc", "--year", "2024", "--sector", "manufacturing", "--paid-in-usd", "42000000", "--fx-rate", "7.1"]


def fdi(*args, env=None):
    return runner.invoke(app, [str(a) for a in args], env=env)


def catalogue():
    with PO.open("rb") as f:
        return read_po(f, locale="zh")


def messages():
    return [m for m in catalogue() if m.id]


def test_every_message_has_a_chinese_translation():
    untranslated = [m.id for m in messages() if not m.string or m.fuzzy]
    assert not untranslated, f"translate these in {PO.relative_to(ROOT)} (README: Translations): {untranslated}"


def test_the_catalogue_holds_every_message_of_the_code_and_no_other():
    """Re-extracted with Babel from src/ as `pybabel extract` does: a message wrapped in `_()` or `N_()`
    that the catalogue lacks (or one it keeps that the code no longer has) fails here."""
    in_code = {msgid for _file, _line, msgid, _comments, _context in
               extract_from_dir(str(PACKAGE), method_map=[("**.py", "python")])}
    in_po = {m.id for m in messages()}
    assert in_code - in_po == set(), "new messages: run the update commands in README (Translations)"
    assert in_po - in_code == set(), "messages the code no longer has: run the update commands in README (Translations)"
    with (PACKAGE / "locale" / "fdi_incentive.pot").open("rb") as f:
        assert {m.id for m in read_po(f) if m.id} == in_code, "the template is stale: run pybabel extract (README: Translations)"


def test_the_compiled_catalogue_is_the_po_file():
    """The .mo shipped in the wheel says what the .po says (recompile with `pybabel compile` after an edit)."""
    compiled = io.BytesIO()
    write_mo(compiled, catalogue())
    compiled.seek(0)
    with MO.open("rb") as f:
        assert gettext.GNUTranslations(f)._catalog == gettext.GNUTranslations(compiled)._catalog


def test_a_translation_keeps_the_placeholders_and_markup_of_its_message():
    for m in messages():
        for pattern in (r"\{[a-z_]*\}", r"\[/?[a-z ]*\]"):
            assert sorted(re.findall(pattern, m.string)) == sorted(re.findall(pattern, m.id)), (m.id, m.string)


def test_the_compiled_catalogue_ships_in_the_wheel():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]
    assert "locale/*/LC_MESSAGES/*.mo" in data["fdi_incentive"]
    assert MO.is_file()


def test_shipped_policies_say_in_chinese_what_they_say_in_english():
    for lp in bundled_policies():
        p = lp.policy
        assert all(c.text_zh for c in p.caveats), p.id
        assert all(t.label_zh for t in p.tiers), p.id
        assert p.jurisdiction_zh and all(s.seen_zh for s in p.sources), p.id
        assert all(s.issuer_zh for s in p.sources if s.role != "summary"), p.id  # (the summary is an English news site's)
        parts = [p.effective, p.source_period, p.base, *p.tiers, p.exclusions, p.stacking, p.cap, p.conversion, p.rounding,
                 p.place, *(p.place.groups if p.place else []), *p.combines,
                 *(x for t in p.tiers for x in (t.cap, t.period_cap, *t.parts))]
        assert all(g.label_zh for g in (p.place.groups if p.place else [])), p.id
        assert all(part.label_zh for t in p.tiers for part in t.parts), p.id
        for part in filter(None, parts):
            assert bool(part.reading) == bool(part.reading_zh) and bool(part.assumption) == bool(part.assumption_zh), (p.id, part)


def test_calc_in_chinese_prints_the_whole_breakdown_in_chinese():
    short = fdi(*CALC, "--loans-usd", "5000000", "--lang", "zh")
    result = fdi(*CALC, "--loans-usd", "5000000", "--lang", "zh", "--caveats")  # (the texts in full)
    assert result.exit_code == 0 == short.exit_code, result.output
    out = re.sub(r"\s+", "", result.output)  # (lines wrap anywhere in Chinese)
    for words in ["实际到位外资", "外方股东贷款", "不计入", "基数", "一般档", "制造业档", "超过USD", "奖励合计：CNY10,000,000.00",
                  "注意事项", "不低于", "哪些变化会改变结果"]:
        assert words in re.sub(r"\s+", "", short.output), words
    for words in ["实际到位外资", "外方股东贷款", "不计入", "基数", "一般档：超过USD", "制造业档：超过USD", "年度奖励金额上限",
                  "年度奖励金额", "封顶", "奖励合计：CNY10,000,000.00", "注意事项", "不低于", "哪些变化会改变结果",
                  "原文：", "我们的理解：", "假设：", "给定汇率"]:
        assert words in out, words
    # no English label, heading, caveat, reading or assumption is left (quotes inside Chinese text aside)
    for m in messages():
        english = re.sub(r"\[/?[a-z ]*\]", "", m.id).strip()
        if "{" not in english and " " in english and len(english) >= 8 and english != m.string:
            assert english not in result.output and english not in short.output, english
    p = next(lp.policy for lp in bundled_policies() if lp.policy.id == "cn-cq-2023")
    for text in [c.text for c in p.caveats] + [part.reading or part.assumption or "" for part in (p.base, p.stacking)]:
        assert re.sub(r"\s+", "", text[:40]) not in out, text


def test_the_locale_chooses_the_language_and_lang_overrides_it():
    assert "奖励合计" in fdi(*CALC, env={"LANG": "zh_CN.UTF-8"}).output
    assert "Total incentive" in fdi(*CALC, env={"LANG": "zh_CN.UTF-8", "LC_ALL": "C.UTF-8"}).output
    assert "奖励合计" in fdi(*CALC, env={"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_TW.UTF-8"}).output
    assert "Total incentive" in fdi(*CALC, "--lang", "en", env={"LANG": "zh_CN.UTF-8"}).output
    assert "奖励合计" in fdi(*CALC, "--lang", "zh-CN").output


def test_a_language_we_do_not_speak_is_a_usage_error():
    result = fdi(*CALC, "--lang", "fr")
    assert result.exit_code == ExitCode.USAGE and result.output.strip() == "fdi: error: --lang: 'fr' is not valid; expected zh or en"


@pytest.mark.parametrize("args, message", [
    (["--paid-in-usd", "abc"], "fdi：错误：--paid-in-usd：'abc'无效；应为金额，如15000000或15,000,000.00"),
    (["--sector", "widgets"], "sector：'widgets'无效；应为行业，如 manufacturing"),
    (["--year", "2017"], "year：2017年没有有效的政策"),
    (["--rate", "0.03"], "rate：'0.03'无效；应为不低于0.04（制造业档的下限：不低于4%）"),
])
def test_errors_in_chinese(args, message):
    base = dict(zip(CALC[1::2], CALC[2::2])) | dict(zip(args[::2], args[1::2]))
    result = fdi("calc", *[x for kv in base.items() for x in kv], "--lang", "zh")
    assert result.exit_code == ExitCode.USAGE and message in result.output, result.output


def test_json_and_batch_output_do_not_change_with_the_language(tmp_path):
    """A script reads the same keys, ids and cells whatever the language."""
    en, zh = (json.loads(fdi(*CALC, "--json", "--lang", lang).output) for lang in ("en", "zh"))

    def shape(obj):
        if isinstance(obj, dict):
            return {k: shape(v) for k, v in obj.items()}
        return [shape(v) for v in obj] if isinstance(obj, list) else type(obj).__name__

    assert shape(en) == shape(zh)
    assert "各档不叠加：仅适用制造业档" in " ".join(zh["years"][0]["reasons"])  # (texts for people follow the language)
    assert [(y["tier"], y["policy_status"], y["incentive_cny"]) for y in en["years"]] == \
           [(y["tier"], y["policy_status"], y["incentive_cny"]) for y in zh["years"]]
    src = tmp_path / "in.csv"
    src.write_text("project_id,year,kind,sector,paid_in_usd,fx_rate\nA,2024,new,manufacturing,40000000,7.1\n"
                   "B,2024,new,widgets,lots,7.1\nC,2017,new,services,20000000,\n", encoding="utf-8")
    outputs = {}
    for lang in ("en", "zh"):
        out = tmp_path / f"{lang}.csv"
        result = fdi("batch", src, "-o", out, "--no-progress", "--lang", lang)
        assert result.exit_code == ExitCode.ROW_ERRORS, result.output
        outputs[lang] = out.read_bytes()
    assert outputs["en"] == outputs["zh"]
    rows = list(csv.DictReader(io.StringIO(outputs["zh"].decode("utf-8"))))
    assert "not valid" in rows[1]["error"]
    # rates from a table, and a ledger of arrivals (its rates and errors made apart from the scorer's)
    src.write_text("project_id,year,kind,sector,paid_in_usd\nA,2024,new,manufacturing,40000000\nB,2019,new,other,9000000\n",
                   encoding="utf-8")
    runs = {"table": [src, "--fx-table", ROOT / "examples" / "pboc-central-parity.csv"],
            "ledger": [ROOT / "examples" / "ledger.csv", "--projects", ROOT / "examples" / "ledger-projects.csv",
                       "--fx-table", ROOT / "examples" / "pboc-central-parity.csv"]}
    for name, args in runs.items():
        for lang in ("en", "zh"):
            result = fdi("batch", *args, "-o", tmp_path / f"{name}-{lang}.csv", "--no-progress", "--lang", lang)
            assert result.exit_code in (0, 1), result.output
        english = (tmp_path / f"{name}-en.csv").read_bytes()
        assert english == (tmp_path / f"{name}-zh.csv").read_bytes(), name
        cells = [row[c] or "" for row in csv.DictReader(io.StringIO(english.decode("utf-8"))) for c in ("reason", "error", "fx_source")]
        assert not any(word in c for c in cells for word in ("汇率", "无效", "应为", "平均")), name  # (the clauses' own words aside)


def test_batch_summary_in_chinese(tmp_path):
    result = fdi("batch", ROOT / "examples" / "projects.csv", "-o", tmp_path / "o.csv", "--no-progress", "--lang", "zh")
    assert result.exit_code == 0, result.output
    for words in ["行数", "已测算", "有错误的行", "封顶", "奖励总额", "按行业类别", "按年度", "制造业", "使用的列", "已写入"]:
        assert words in result.output, words
    assert "rows with errors" not in result.output and "total payout" not in result.output


def test_plan_and_policy_show_in_chinese():
    plan = fdi("plan", "--total-usd", "80000000", "--years", "2024-2026", "--sector", "manufacturing", "--fx-rate", "7.1",
               "--step", "1000000", "--lang", "zh")
    assert plan.exit_code == 0 and "与简单方案对比" in plan.output and "本方案不包括" in plan.output, plan.output
    shown = fdi("policy", "show", "cn-cq-2023", "--lang", "zh")
    assert shown.exit_code == 0 and "注意事项" in shown.output and "2%和4%是下限" in re.sub(r"\s+", "", shown.output)


def test_the_library_speaks_english_unless_told_and_the_cli_leaves_it_so():
    assert "奖励合计" in fdi(*CALC, "--lang", "zh").output
    assert i18n.get_language() == "en"
    project = fdi_incentive.Project.for_year(2024, paid_in=42000000, sector="manufacturing")
    english = fdi_incentive.assess(project, fx=fdi_incentive.FixedRate(Decimal("7.1")))
    assert english.years[0].caveats[0].startswith("2% and 4% are floors")
    with fdi_incentive.using("zh"):
        chinese = fdi_incentive.assess(project, fx=fdi_incentive.FixedRate(Decimal("7.1")))
    assert chinese.years[0].caveats[0].startswith("2%和4%是下限") and i18n.get_language() == "en"


def test_no_function_that_translates_hides_the_translator():
    """`_` bound in a function (`a, _, b = ...`, `for _ in ...`) makes every `_()` in it an error."""
    import ast

    for path in PACKAGE.rglob("*.py"):
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            calls = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "_" for n in ast.walk(fn))
            scopes = [n for n in ast.walk(fn) if isinstance(n, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp))]
            in_comprehension = {id(t) for c in scopes for g in c.generators for t in ast.walk(g.target)}
            binds = any(isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store) and id(n) not in in_comprehension
                        for n in ast.walk(fn))
            assert not (calls and binds), f"{path.name}: {fn.name} binds _ and calls _()"


def test_a_batch_that_cannot_run_says_why_in_chinese(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("a,b\n1,2\n", encoding="utf-8")
    result = fdi("batch", src, "-o", tmp_path / "out.csv", "--lang", "zh")
    assert result.exit_code == ExitCode.USAGE
    assert result.output.startswith("fdi：错误：INPUT：") and "应为列出年度、到位金额、行业的表头（year / 年份" in result.output, result.output
    result = fdi("batch", tmp_path / "missing.csv", "--lang", "zh")
    assert result.exit_code == ExitCode.USAGE and "已存在的CSV" in result.output, result.output


BUREAU_SHEET = ("2024年度外资奖励测算,,,,,\n项目编号,年份,项目类型,行业,行业代码,实际到位外资（万美元）,外方股东贷款（万美元）,汇率\n"
                "CQ-001,2024,新设,电子信息,C3971,3500,500,7.1\nCQ-002,2024,增资,汽车,,1200,,7.1\n"
                "CQ-003,2024,新设,批发和零售业,F51,1500.5,,7.1\n合计,,,,,6200.5,500,\n")


def test_the_bureau_sheet_is_summed_up_in_chinese_every_line(tmp_path):
    """How the file was read (transcoded, title lines passed over, units from the header, the BOM
    written for Excel) and where its rows are ('第 6 行') are said in Chinese like the rest; the
    output and the summary's JSON stay the same in both languages."""
    src = tmp_path / "2024奖励测算.csv"
    src.write_bytes(BUREAU_SHEET.encode("gbk"))
    outputs = {}
    for lang in ("zh", "en"):
        result = fdi("batch", src, "-o", tmp_path / f"{lang}.csv", "--no-progress", "--lang", lang)
        assert result.exit_code == 0, result.output
        outputs[lang] = (tmp_path / f"{lang}.csv").read_bytes()
        if lang == "zh":
            shown = re.sub(r"\s+", "", result.output)
            for words in ["已从gb18030转码", "表头在第2行，跳过其上方1行标题", "取自表头", "第6行（合计）", "写为带BOM的UTF-8"]:
                assert words in shown, (words, result.output)
            for english in ["transcoded", "header on line", "from the header", "line 6", "written as", "title line"]:
                assert english not in result.output, (english, result.output)
    assert outputs["zh"] == outputs["en"]


def test_rows_without_an_id_in_a_projects_file_are_named_in_chinese(tmp_path):
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("project_id,date,amount,currency,type\nA,2024-03-01,40000000,USD,capital\n", encoding="utf-8")
    projects = tmp_path / "projects.csv"
    projects.write_text("project_id,kind,sector\nA,new,manufacturing\n,new,services\nB,new,services\n,new,other\n",
                        encoding="utf-8")
    result = fdi("batch", ledger, "--projects", projects, "--fx-rate", "7.1", "-o", tmp_path / "o.csv", "--no-progress",
                 "--lang", "zh")
    assert result.exit_code in (0, 1), result.output  # (the rows' own errors aside)
    assert "--projects：第 3, 5 行 没有 project_id" in re.sub(r"\s*\n\s*", "", result.output), result.output


# --- a broken project or policy file is refused in the reader's language, naming the field ---------

# pydantic's own English, our English frames, Python's reprs: none belongs in a Chinese message
_ENGLISH = re.compile(r"Input should|is not valid|not permitted|required|Field |Project:|Arrival:|datetime|Decimal\(|"
                      r"expected|top level|unknown key|allowed keys|at least|at most|must |write the|\(got|"
                      r"\b[A-Za-z]{3,} [A-Za-z]{3,}\b")


def _speaks_chinese(output: str, path) -> str:
    """The output without the file's path, checked for English; returned for further checks."""
    text = output.replace(str(path), "FILE").replace("fdi policy show", "COMMAND")  # (a command stays as typed)
    assert text.startswith("fdi：错误："), output
    assert not _ENGLISH.search(text), (_ENGLISH.search(text), output)
    assert "实际为{" not in text and len(text) < 1000, output  # (never a dump of the whole file)
    return text


BROKEN_PROJECTS = [  # (file name, text, the field path the message names, a word of what was wrong)
    ("a.toml", 'sector = "汽车"\n[[arrivals]]\ndate = 2024-03-15\n', "arrivals[0].amount", "缺少"),
    ("b.json", '{"sector": "x", "foo": 1, "arrivals": [{"date": "2024-01-01", "amount": "1"}]}', "foo", "未知的键"),
    ("c.json", '{"sector": "x", "arrivals": []}', "arrivals", "至少"),
    ("d.json", '{"sector": "x", "arrivals": [{"date": "2024-13-45", "amount": "1"}]}', "arrivals[0].date：'2024-13-45'", "日期"),
    ("e.json", '{"name": 5, "sector": "x", "arrivals": [{"date": "2024-01-01", "amount": "1"}]}', "name：5无效", "文本"),
    ("f.json", "[1, 2]", "[1, 2]", "无效"),
    ("g.json", '{"sector": "x", "arrivals": [{"amount": "1"}]}', "arrivals[0]", "年份"),
    ("h.json", '{"sector": "x", "kind": "合资", "arrivals": [{"year": 2024, "amount": "1"}]}', "kind：'合资'无效", "应为"),
    ("i.json", '{"sector": "x", "arrivals": [{"year": 2024, "amount": "abc", "currency": "XXX1", "type": "gift"}]}',
     "arrivals[0].type：'gift'无效", "arrivals[0].currency"),
    ("j.json", '{"sector": "x", "arrivals": [{"year": 1800, "amount": "-5"}]}', "arrivals[0].year：1800无效", "arrivals[0].amount"),
    ("k.json", '{"sector": "x", "arrivals": {"year": 2024}}', "arrivals", "列表"),
    ("l.toml", 'name = 2024-03-15\nsector = "x"\n[[arrivals]]\nyear = 2024\namount = "1"\n', "name：2024-03-15无效", "文本"),
    ("m.json", '{"sector": "x", "arrivals": [5]}', "arrivals[0]：5无效", "表"),
    ("n.json", '{"sector": "x", "arrivals": [{"date": "2024-01-01", "year": 2023, "amount": "1"}]}', "arrivals[0]", "2023"),
    ("o.json", '{"id": true, "sector": "x", "arrivals": [{"date": "2024-01-01T10:00:00", "amount": "1"}]}', "id：true无效",
     "arrivals[0].date"),
]


@pytest.mark.parametrize("name, text, field, word", BROKEN_PROJECTS, ids=[b[0] for b in BROKEN_PROJECTS])
def test_a_broken_project_file_is_refused_in_chinese_naming_the_field(tmp_path, name, text, field, word):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = fdi("calc", "--project", path, "--lang", "zh")
    assert result.exit_code == ExitCode.USAGE, result.output
    said = _speaks_chinese(result.output, path)
    assert field in said and word in said, said
    english = fdi("calc", "--project", path, "--lang", "en")  # (and in English: the field, never a dump of the file)
    assert english.exit_code == ExitCode.USAGE and english.output.startswith("fdi: error: "), english.output
    assert field.split("：")[0] in english.output and "(got {" not in english.output and "datetime" not in english.output
    assert "Input should" not in english.output and "Project:" not in english.output, english.output


def test_a_kind_we_do_not_know_is_refused_in_chinese():
    result = fdi(*CALC, "--kind", "合资", "--lang", "zh")
    assert result.exit_code == ExitCode.USAGE
    assert result.output.startswith("fdi：错误：--kind：'合资'无效；应为"), result.output
    english = fdi(*CALC, "--kind", "merger")
    assert english.output.strip() == "fdi: error: --kind: 'merger' is not valid; expected one of new, capital-increase"


def test_the_api_names_a_projects_problem_in_the_language_it_speaks():
    from fdi_incentive import InputError, Project

    raw = {"sector": "x", "foo": 1, "arrivals": [{"date": "2024-13-45"}]}
    with pytest.raises(InputError) as english:
        Project.model_validate(raw)
    assert str(english.value).startswith("arrivals[0].date: '2024-13-45' is not valid; expected a date"), english.value
    assert "arrivals[0].amount: required key is missing" in str(english.value) and "foo: unknown key" in str(english.value)
    with fdi_incentive.using("zh"), pytest.raises(InputError) as chinese:
        Project.model_validate(raw)
    assert str(chinese.value).startswith("arrivals[0].date：'2024-13-45'无效；应为"), chinese.value
    assert not _ENGLISH.search(str(chinese.value)), chinese.value


_SHIPPED = (PACKAGE / "policies" / "cn-cq-2023.toml").read_text(encoding="utf-8")
BROKEN_POLICIES = [  # (what is replaced, by what, the field path the message names)
    ('rate = "0.04"', 'rate = "4"', "tiers[1].rate：'4'无效"),
    ('mode = "best"', 'mode = "sum"', "stacking.mode：'sum'无效"),
    ('title = "Chongqing reward', 'title = 5\nx = "', "title：5无效"),
    ('comparator = "gt" }\nrate = "0.02"', 'comparator = "over" }\nrate = "0.02"', "tiers[0].threshold.comparator：'over'无效"),
    ("[effective]\nfrom = 2023-01-01", '[effective]\nfrom = "2023-01"', "effective.from：'2023-01'无效"),
    ("[effective]\nfrom = 2023-01-01", "[effective]\nfrom = 2023-01-01\nto = 2022-12-31", "effective：'to'"),
    ('quantum = "0.01"', 'quantum = "0.03"', "rounding.quantum"),
    ('usd_quantum = "0.01"', 'usd_quantum = "1"', "rounding.usd_quantum"),
    ('rate = "0.04"', "rate = 0.04", "tiers[1].rate"),
    ('rate = "0.04"', "rate = true", "tiers[1].rate"),
    ('rate = "0.02"', 'rate = "0.020000001"', "tiers[0].rate"),
    ('id = "manufacturing"', 'id = "general"', "general"),
    ('quote = "', '# quote = "', "FILE："),
    ("[source_period]\nfrom = 2023-01-01", "[source_period]\nfrom = 2024-01-01", "source_period.from"),
    ("schema_version = 2", "schema_version = 1", "schema_version"),
    ("schema_version = 2", "schema_version = 3", "schema_version：3无效"),
    ('id = "cn-cq-2023"', 'id = "CN_X"', "id：'CN_X'无效"),
    ('id = "cn-cq-2023"', 'id = "cn-cq-2023"\nextra = 1', "extra：未知的键"),
    ('[cap]\namount = "10000000"', '[cap]\namount = "1e40"', "cap.amount"),
    ("[rounding]", "[roundings]", "rounding：缺少"),
    ('role = "text"', 'role = "law"', "sources[0].role：'law'无效"),
]


@pytest.mark.parametrize("old, new, field", BROKEN_POLICIES, ids=[b[2] for b in BROKEN_POLICIES])
def test_a_broken_policy_file_is_refused_in_chinese_naming_the_field(tmp_path, old, new, field):
    assert old in _SHIPPED
    path = tmp_path / "broken.toml"
    path.write_text(_SHIPPED.replace(old, new, 1), encoding="utf-8")
    result = fdi("policy", "validate", path, "--lang", "zh")
    assert result.exit_code == ExitCode.USAGE, result.output
    said = _speaks_chinese(result.output, path)
    assert field in said, said
    english = fdi("policy", "validate", path, "--lang", "en")
    assert english.exit_code == ExitCode.USAGE and "Input should" not in english.output, english.output
    assert "(got {" not in english.output and field.split("：")[0].replace("FILE", str(path)) in english.output, english.output


def test_every_command_reading_a_broken_policy_file_says_so_in_chinese(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text(_SHIPPED.replace('rate = "0.04"', 'rate = "4"', 1), encoding="utf-8")
    src = tmp_path / "in.csv"
    src.write_text("project_id,year,sector,paid_in_usd,fx_rate\nA,2024,manufacturing,40000000,7.1\n", encoding="utf-8")
    for args in (("policy", "show", path), ("policy", "validate", path), (*CALC, "--policy", path),
                 ("batch", src, "-o", tmp_path / "out.csv", "--policy", path)):
        result = fdi(*args, "--lang", "zh")
        assert result.exit_code == ExitCode.USAGE, (args, result.output)
        assert "tiers[1].rate：'4'无效；应为不超过1的数" in _speaks_chinese(result.output, path), (args, result.output)


@settings(max_examples=150, deadline=None)
@given(case=broken_projects())
def test_any_wrong_value_in_a_project_is_said_in_chinese_at_its_place(case):
    """Whatever is wrong, and wherever: the library's InputError (what `calc --project` prints, each
    line led by the file) names the place and says the rest in Chinese; in English it names the
    place too, and neither quotes the whole project back."""
    from fdi_incentive import InputError, Project

    doc, place = case
    try:
        with fdi_incentive.using("zh"):
            Project.model_validate(doc)
    except InputError as exc:
        said = str(exc)
        assert not _ENGLISH.search(said) and "{'" not in said and len(said) < 1000, said
        named = [place, place.rpartition(".")[0] or place]  # (the key, or the arrival whose check it fails)
        assert any(n in said for n in named), (place, said)
        with pytest.raises(InputError) as english:
            Project.model_validate(doc)
        assert "Input should" not in str(english.value) and "datetime" not in str(english.value), english.value
        assert any(n in str(english.value) for n in named), (place, english.value)


def test_policy_show_in_chinese_names_every_value_in_chinese():
    """Kinds, stacking, rounding, the jurisdiction and the quoting source's issuer are said in Chinese,
    with the Chinese words the policy's own sources use (渝中区, 重庆市人民政府办公厅 ...)."""
    for policy in ("cn-cq-2023", "cn-cq-2018"):
        shown = fdi("policy", "show", policy, "--lang", "zh")
        assert shown.exit_code == 0, shown.output
        out = re.sub(r"\s+", "", shown.output)
        for english in ["best", "half-up", "new,capital", "restatement", "Chongqing,China",
                        "CommerceCommission", "Chongqingrewardforpaid-in", "GeneralOffice", "text(", "summary(", "Seen"]:
            assert english not in out, (policy, english)
        for words in ["新设、增资", "取最高一档", "四舍五入", "中国重庆市", "区商务委", "条款原文，按转述所载"]:
            assert words in out, (policy, words)
    english = re.sub(r"\s+", " ", fdi("policy", "show", "cn-cq-2023", "--lang", "en").output)
    for words in ["new, capital increase", "half-up", "Chongqing, China", "Yuzhong District Commerce Commission", "best"]:
        assert words in english, words


def test_calc_header_and_reasons_in_chinese_name_the_issuer_and_rounding_in_chinese():
    result = fdi(*CALC, "--lang", "zh", "--caveats")
    out = re.sub(r"\s+", "", result.output)
    assert "条款引自：重庆市渝中区外商投资政策汇编(中英文)，重庆市渝中区商务委" in out, result.output
    assert "自2023-01-01起适用，无截止日期" in out and "至无截止日期" not in out, result.output
    assert "适用档次│制造业档" in out, result.output  # (the tier's Chinese label, its id stays in JSON)
    data = json.loads(fdi(*CALC, "--json", "--lang", "zh").output)
    reasons = " ".join(data["years"][0]["reasons"])
    assert "half-up" not in reasons and "四舍五入" in reasons, reasons


def test_json_texts_for_people_follow_the_language_with_the_same_keys():
    """calc's policies[].sources[] and plan's search.tie_rule are texts for people: Chinese under --lang zh."""
    en, zh = (json.loads(fdi(*CALC, "--json", "--lang", lang).output) for lang in ("en", "zh"))
    assert en["policies"][0].keys() == zh["policies"][0].keys()
    assert en["policies"][0]["sources"][0].startswith("text: ") and "(official). Seen: " in en["policies"][0]["sources"][0]
    framing = " ".join(zh["policies"][0]["sources"])
    for english in ["text:", "restatement:", "Seen:", "(official)", "General Office"]:
        assert english not in framing, english
    assert "原文：" in framing and "所见：" in framing and "可靠性：官方" in framing and "重庆市人民政府办公厅" in framing
    plans = [json.loads(fdi("plan", "--total-usd", "80000000", "--years", "2024-2026", "--sector", "manufacturing",
                            "--fx-rate", "7.1", "--step", "1000000", "--json", "--lang", lang).output) for lang in ("en", "zh")]
    assert plans[0]["search"].keys() == plans[1]["search"].keys() and "earliest" in plans[0]["search"]["tie_rule"]
    assert plans[1]["search"]["tie_rule"] in plans[1]["notes"] and re.search(r"[\u4e00-\u9fff]", plans[1]["search"]["tie_rule"])


@pytest.mark.parametrize("args, chinese, english", [
    (["calc", "--year", "2024", "--paid-in-usd", "42000000", "--fx-rate", "7.1"], "缺少", ["None"]),
    (["plan", "--total-usd", "80000000", "--years", "2024-2026", "--sector", "manufacturing", "--fx-rate", "7.1",
      "--step", "0"], "step", ["Decimal"]),
    (["plan", "--total-usd", "80000000", "--years", "2024-2025", "--sector", "manufacturing", "--fx-rate", "7.1",
      "--fixed", "2024=10000000", "--fixed", "2025=10000000"], "20,000,000", ["all years"]),
])
def test_errors_say_in_words_what_is_missing_or_wrong(args, chinese, english):
    result = fdi(*args, "--lang", "zh")
    assert result.exit_code == ExitCode.USAGE and chinese in result.output, result.output
    for word in english:
        assert word not in result.output, result.output


def test_batch_refusals_in_chinese_hold_no_english_words(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("name,amount\n1,2\n", encoding="utf-8")
    result = fdi("batch", src, "-o", tmp_path / "out.csv", "--lang", "zh")
    assert result.exit_code == ExitCode.USAGE and "或 paid_in + currency" in result.output, result.output
    assert " or " not in result.output, result.output
    src.write_text("project_id,year,kind,sector,paid_in_usd,备注\nA€,2024,new,manufacturing,40000000,\n", encoding="utf-8")
    for header in (False, True):
        if header:
            src.write_text("project_id,year,kind,sector,paid_in_usd,备注€\nA,2024,new,manufacturing,40000000,\n", encoding="utf-8")
        result = fdi("batch", src, "-o", tmp_path / "out.csv", "--fx-rate", "7.1", "--output-encoding", "gbk", "--lang", "zh")
        assert result.exit_code == ExitCode.USAGE, result.output
        assert ("表头" if header else "第 1 行，列 'project_id'") in result.output and "row " not in result.output, result.output
        assert "the header" not in result.output, result.output
    result = fdi("batch", src, "-o", tmp_path / "out.csv", "--output-encoding", "big5", "--lang", "zh")
    assert result.exit_code == ExitCode.USAGE and "utf-8 或 utf-8-sig 或 gbk" in result.output, result.output


def test_chinese_translations_say_what_the_english_says():
    zh = {m.id: m.string for m in messages()}
    assert zh["{rate} CNY per {currency} ({source}) ÷ {usd_rate} CNY per USD"] == "{rate} CNY/{currency}（{source}）÷ {usd_rate} CNY/USD"
    assert "敏感" in zh["fragility"] and "项目" not in zh["step"] and zh["schedule"] != zh["plan"]
    result = fdi(*CALC, "--rate", "0.123456789", "--lang", "zh")
    assert result.exit_code == ExitCode.USAGE and "汇率" not in result.output, result.output  # (it is the reward rate)


def test_tiers_are_named_by_their_chinese_labels_and_chinese_lines_use_chinese_punctuation(tmp_path):
    """A tier's id stays in JSON and CSV; a person reading Chinese sees its label (制造业档)."""
    calc = re.sub(r"\s+", "", fdi("calc", "--year", "2024", "--sector", "manufacturing", "--paid-in-usd", "25000000",
                                  "--fx-rate", "7.1", "--lang", "zh").output)
    assert "即进入制造业档。" in calc and "manufacturing" not in calc.replace("“manufacturing”", ""), calc
    plan = fdi("plan", "--total-usd", "80000000", "--years", "2024-2026", "--sector", "manufacturing", "--fx-rate", "7.1",
               "--step", "1000000", "--lang", "zh").output
    assert "制造业档" in plan and "manufacturing" not in plan and "2025、2026：" in plan, plan
    batch = fdi("batch", ROOT / "examples" / "projects.csv", "-o", tmp_path / "o.csv", "--no-progress", "--lang", "zh").output
    assert "符合条件：制造业档" in batch, batch
    none = fdi("calc", "--year", "2017", "--sector", "manufacturing", "--paid-in-usd", "25000000", "--lang", "zh").output
    assert "cn-cq-2018适用于2018-2022；cn-cq-2023适用于2023年起" in none, none
    code = fdi("calc", "--year", "2024", "--sector", "汽车", "--industry-code", "A01", "--paid-in-usd", "25000000", "--lang", "zh").output
    assert "（其他）" in code and "other" not in code, code


@pytest.mark.parametrize("how", ["given", "table", "ecb", "ledger"])
def test_the_batch_summary_states_its_rate_sources_in_chinese(tmp_path, how):
    """The summary's 汇率 line says where the rates came from in Chinese (the output's fx_source
    cells stay English, the same bytes in both languages)."""
    src = tmp_path / "in.csv"
    src.write_text("project_id,year,kind,sector,paid_in_usd\nA,2024,new,manufacturing,40000000\nB,2023,new,other,20000000\n",
                   encoding="utf-8")
    args = {"given": [src, "--fx-rate", "7.1"], "table": [src, "--fx-table", ROOT / "examples" / "pboc-central-parity.csv"],
            "ecb": [src], "ledger": [ROOT / "examples" / "ledger.csv", "--projects", ROOT / "examples" / "ledger-projects.csv"]}[how]
    outputs = {}
    for lang in ("zh", "en"):
        result = fdi("batch", *args, "-o", tmp_path / f"{lang}.csv", "--no-progress", "--lang", lang)
        assert result.exit_code in (0, 1), result.output
        outputs[lang] = (tmp_path / f"{lang}.csv").read_bytes()
        if lang == "zh":
            line = re.sub(r"\s*\n\s*", "", result.output.split("汇率：", 1)[1].split("已写入")[0])
            for english in ["given rate", "CNY per", "average of", "daily rates", "ECB reference", "weighted mean", "FX table",
                            "arrival dates", "crossed through"]:
                assert english not in line, (english, line)
    assert outputs["zh"] == outputs["en"]


def test_a_batch_that_scores_no_row_says_no_policy_was_used(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("project_id,year,sector,paid_in_usd\nA,abc,manufacturing,1\n", encoding="utf-8")
    for lang, words in (("zh", "政策：无（没有测算任何行）"), ("en", "policies: none (no row was scored)")):
        result = fdi("batch", src, "-o", tmp_path / f"{lang}.csv", "--no-progress", "--lang", lang)
        assert result.exit_code == ExitCode.ROW_ERRORS and words in result.output, result.output


def test_columns_that_name_one_thing_and_differ_say_which_is_empty_in_words(tmp_path):
    """Two columns for project_id (项目编号 filled, project_id empty): the refusal names the empty one
    in words, never Python's None, and reads as a Chinese sentence. (In JSON Lines a key a line
    does not give is no disagreement: issue 22, item 19.)"""
    src = tmp_path / "t2.csv"
    src.write_text("项目编号,year,sector,paid_in_usd,project_id\nJ-1,2024,manufacturing,20000000,\n"
                   "J-2,2024,manufacturing,20000000,J-2\n", encoding="utf-8")
    for lang, words in (("zh", "（项目编号 = 'J-1'、project_id 为空）"), ("en", "(项目编号 = 'J-1', project_id empty)")):
        result = fdi("batch", src, "-o", tmp_path / "o.csv", "--lang", lang)
        assert result.exit_code == ExitCode.USAGE and words in result.output, result.output
        assert "None" not in result.output, result.output
    zh = re.sub(r"\s*\n\s*", "", fdi("batch", src, "-o", tmp_path / "o.csv", "--lang", "zh").output)
    assert "都表示 project_id，但在读取的第 1 行不一致" in zh and "应为" not in zh, zh


def test_a_header_unit_in_the_wrong_currency_is_one_chinese_sentence(tmp_path):
    src = tmp_path / "u.csv"
    src.write_text("project_id,year,paid_in（万元）,sector\nA,2024,2000,manufacturing\n", encoding="utf-8")
    zh = re.sub(r"\s*\n\s*", "", fdi("batch", src, "-o", tmp_path / "o.csv", "--lang", "zh").output)
    assert "表头 'paid_in（万元）' 的单位 万元 是 CNY，而 paid_in 应以 USD 计" in zh, zh
    assert zh.count("应") == 1, zh
    en = fdi("batch", src, "-o", tmp_path / "o.csv", "--lang", "en").output
    assert "INPUT: 'paid_in（万元）' is not valid; expected a unit in USD for paid_in (万元 is CNY)" in en, en
    src.write_text("project_id,year,paid_in（万元）,currency,sector\nA,2024,2000,USD,manufacturing\n", encoding="utf-8")
    zh = re.sub(r"\s*\n\s*", "", fdi("batch", src, "-o", tmp_path / "o.csv", "--lang", "zh").output)
    assert "表头 'paid_in（万元）' 的单位 万元 是 CNY，而第 1 行的 currency 为 'USD'；" in zh and "应为" not in zh, zh


def _notes(output: str) -> str:
    """The output without its spaces (a panel wraps lines where it likes): compare with `_flat` words."""
    return re.sub(r"\s+", "", output)


def _flat(words: str) -> str:
    return re.sub(r"\s+", "", words)


def test_the_batch_summary_notes_use_chinese_punctuation(tmp_path):
    """The notes below a Chinese summary (columns used, units, unknown sector names) separate their
    items with ；、： as Chinese does, while the English keeps its own."""
    src = tmp_path / "in.csv"
    src.write_text("项目编号,年份,行业,实际到位外资（万美元）,利润再投资,汇率\nA,2024,宇宙飞船制造,3500,,7.1\n"
                   "B,2024,银河贸易,1200,,7.1\nC,2024,汽车,1200,100,7.1\n", encoding="utf-8")
    zh = _notes(fdi("batch", src, "-o", tmp_path / "o.csv", "--no-progress", "--lang", "zh").output)
    assert _flat("使用的列：项目编号 → project_id、年份 → year、") in zh, zh
    assert _flat("单位：实际到位外资（万美元）：USD × 10,000（万美元，取自表头）；利润再投资：CNY（或其币种列所示币种）") in zh, zh
    assert _flat("无法识别的行业名称（所在行记为错误；请给出已知名称或行业代码）：'宇宙飞船制造'；'银河贸易'") in zh, zh
    en = _notes(fdi("batch", src, "-o", tmp_path / "o.csv", "--no-progress", "--lang", "en").output)
    assert _flat("units: 实际到位外资（万美元）: USD × 10,000 (万美元, from the header); 利润再投资: CNY (or its currency column's)") in en, en
    assert _flat("columns used: 项目编号 → project_id, 年份 → year, ") in en, en
    src.write_text("project_id,year,sector,paid_in_usd,reinvested_profit\nA,2024,manufacturing,3500,100\n", encoding="utf-8")
    zh = _notes(fdi("batch", src, "-o", tmp_path / "o.csv", "--unit", "10k", "--fx-rate", "7.1", "--no-progress",
                    "--lang", "zh").output)
    assert _flat("单位：paid_in_usd：USD × 10,000（--unit）；reinvested_profit：CNY × 10,000（--unit）（或其币种列所示币种）") in zh, zh
    en = _notes(fdi("batch", src, "-o", tmp_path / "o.csv", "--unit", "10k", "--fx-rate", "7.1", "--no-progress").output)
    assert _flat("units: paid_in_usd: USD × 10,000 (--unit); reinvested_profit: CNY × 10,000 (--unit) (or its currency column's)") in en, en
    ledger = _notes(fdi("batch", ROOT / "examples" / "ledger.csv", "--projects", ROOT / "examples" / "ledger-projects.csv",
                        "-o", tmp_path / "o.csv", "--no-progress", "--lang", "zh").output)
    assert _flat("单位：金额：其币种列所示币种") in ledger, ledger


def test_the_rate_sources_are_listed_in_the_same_order_in_both_languages(tmp_path):
    """Sorted by the English text of the output's fx_source cells, then shown in the interface's language."""
    args = ["batch", ROOT / "examples" / "ledger.csv", "--projects", ROOT / "examples" / "ledger-projects.csv",
            "-o", tmp_path / "o.csv", "--no-progress"]
    en = _notes(fdi(*args, "--lang", "en").output).split("FX:", 1)[1]
    zh = _notes(fdi(*args, "--lang", "zh").output).split("汇率：", 1)[1]
    assert en.index("ECBcross") < en.index("weightedmean"), en
    assert zh.index("欧洲央行（ECB）交叉汇率") < zh.index("加权平均"), zh


def test_the_total_rows_are_checked_in_the_units_of_the_sheet_in_chinese(tmp_path):
    """The bureau's 合计 row says 6200.5 (万美元): the check shows the sheet's numbers, not dollars."""
    src = tmp_path / "2024奖励测算.csv"
    src.write_bytes(BUREAU_SHEET.encode("gbk"))
    zh = _notes(fdi("batch", src, "-o", tmp_path / "o.csv", "--no-progress", "--lang", "zh").output)
    assert _flat("第 6 行（合计），实际到位外资（万美元）：6,200.5 = 上方 3 行之和 ✓") in zh, zh
    assert _flat("第 6 行（合计），外方股东贷款（万美元）：500 = 上方 1 行之和 ✓") in zh, zh


def flat(text: str) -> str:
    """The output with the wrapping, the spaces and the table's rules taken out."""
    return re.sub(r"[\s│┃]+", "", text)


PROJECT = ["calc", "--project", ROOT / "examples" / "project.toml", "--fx-table", ROOT / "examples" / "pboc-central-parity.csv"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_caveat_a_footnote_points_to_is_in_the_caveats_panel_under_its_id(lang):
    """A footnote's `see caveat 'reinvested-profit'` finds `[reinvested-profit]` in the panel below."""
    for args in (PROJECT, ["calc", "--year", "2020", "--sector", "services", "--paid-in-usd", "6000000", "--fx-rate", "7"]):
        out = flat(fdi(*args, "--lang", lang, "--caveats").output)  # (the footnotes in full: --caveats)
        ids = {c.id for p in bundled_policies() for c in p.policy.caveats}
        pointed = {i for i in ids if f"'{i}'" in out or f"“{i}”" in out}
        assert pointed, out
        for caveat in pointed:
            assert f"•[{caveat}]" in out, (caveat, out)


@pytest.mark.parametrize("lang, words", [("en", "a fraction between 0 and 1"), ("zh", "0 到 1 之间的比例")])
def test_a_rate_above_one_is_told_the_range(lang, words):
    result = fdi(*CALC, "--rate", "1.5", "--lang", lang)
    assert result.exit_code == ExitCode.USAGE and words in result.output, result.output
    assert "小数" not in result.output


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("args, option", [
    (["--rate", "0.01"], "--rate"), (["--sector", "rocket"], "--sector"), (["--kind", "foo"], "--kind"),
    (["--industry-code", "ZZZ"], "--industry-code"), (["--policy", "nope"], "--policy"),
])
def test_calc_names_the_option_it_read_the_bad_value_from(lang, args, option):
    result = fdi(*CALC, *args, "--lang", lang)
    assert result.exit_code == ExitCode.USAGE
    assert re.search(rf"(error: |错误：){option}(: |：)'", result.output), result.output


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("args, option", [
    (["--step", "0"], "--step"), (["--sector", "rocket"], "--sector"), (["--kind", "foo"], "--kind"),
    (["--industry-code", "ZZZ"], "--industry-code"), (["--policy", "nope"], "--policy"), (["--rate", "0.01"], "--rate"),
])
def test_plan_names_the_option_it_read_the_bad_value_from(lang, args, option):
    base = {"--total-usd": "80000000", "--years": "2024-2026", "--sector": "manufacturing", "--fx-rate": "7.1", "--step": "1000000"}
    base.update(dict(zip(args[::2], args[1::2])))
    result = fdi("plan", *[x for kv in base.items() for x in kv], "--lang", lang)
    assert result.exit_code == ExitCode.USAGE
    assert re.search(rf"(error: |错误：){option}(: |：)'", result.output), result.output


def test_the_api_keeps_its_argument_names():
    from fdi_incentive.errors import InputError
    from fdi_incentive.plan import plan

    with pytest.raises(InputError, match=r"^step: "):
        plan("80000000", "2024-2026", sector="manufacturing", fx="7.1", step="0")
    with pytest.raises(InputError, match=r"^sector: "):
        plan("80000000", "2024-2026", sector="rocket", fx="7.1")


@pytest.mark.parametrize("lang, words", [
    ("en", "a total from 0.00 to 30,000,000.00 (3 free years × 0.00 to 10,000,000.00 each)"),
    ("zh", "0.00 至 30,000,000.00 之间的总额（3 个未固定年度 × 每年 0.00 至 10,000,000.00）"),
])
def test_an_infeasible_plan_gives_the_totals_it_could_plan(lang, words):
    result = fdi("plan", "--total-usd", "80000000", "--years", "2024-2026", "--sector", "manufacturing", "--fx-rate", "7.1",
                 "--max-per-year", "10000000", "--lang", lang)
    assert result.exit_code == ExitCode.USAGE and words in result.output, result.output
    low = fdi("plan", "--total-usd", "80000000", "--years", "2024-2026", "--sector", "manufacturing", "--fx-rate", "7.1",
              "--min-per-year", "30000000", "--fixed", "2024=30000000", "--lang", lang).output
    assert ("a total of at least 90,000,000.00 (2 free years × at least 30,000,000.00 each, plus 30,000,000.00 fixed)"
            if lang == "en" else "不低于 90,000,000.00 的总额（2 个未固定年度 × 每年不低于 30,000,000.00，另加已固定的 30,000,000.00）") in low, low


def test_calc_fx_lines_name_currencies_one_way_and_the_mean_as_batch_does():
    out = flat(fdi(*PROJECT, "--lang", "zh").output)
    assert "7.9150CNY/EUR（汇率表pboc-central-parity.csv，2025-04-10）÷7.2066CNY/USD" in out, out
    assert "1CNY/CNY（人民币本身）÷7.1586CNY/USD" in out, out
    lines = out.split("2025-04-10EUR：", 1)[1].split("2025年：符合", 1)[0]
    assert "人民币/" not in lines and "/美元" not in lines, lines
    assert "2个到位日汇率的加权平均（见资金到位明细）" in out, out
    english = flat(fdi(*PROJECT, "--lang", "en").output)
    assert "7.9150CNYperEUR(FXtablepboc-central-parity.csv,2025-04-10)÷7.2066CNYperUSD" in english


def test_one_word_for_tier_in_chinese():
    strings = " ".join(m.string for m in messages()) + " ".join(
        (ROOT / "src" / "fdi_incentive" / "policies" / name).read_text(encoding="utf-8") for name in ("cn-cq-2018.toml", "cn-cq-2023.toml"))
    assert "档位" not in strings and "档次" in strings


def test_policy_show_names_the_conversion_row_apart_from_its_value():
    out = fdi("policy", "show", "cn-cq-2023", "--lang", "zh").output
    assert re.search(r"│\s*口径\s*│\s*折算\s*│", out) and not re.search(r"│\s*折算\s*│\s*折算\s*│", out), out


def test_chinese_lines_of_calc_use_full_width_commas():
    out = fdi(*PROJECT, "--lang", "zh").output
    assert "项目：cq-electronics-001，增资项目" in out, out
    none = fdi("calc", "--year", "2017", "--sector", "manufacturing", "--paid-in-usd", "25000000", "--policy", "nope",
               "--lang", "zh").output
    shipped = re.search(r"（(cn-[a-z0-9-]+(?:、cn-[a-z0-9-]+)+)）", none)  # (every shipped policy, 、 between them)
    assert shipped and {"cn-cq-2018", "cn-cq-2023"} <= set(shipped.group(1).split("、")), none
    shown = fdi("policy", "show", "cn-cq-2023", "--lang", "zh").output
    codes = flat(shown).split("代码：", 1)[1][:40]
    assert ", " not in codes and "," not in codes.split("│")[0], codes


@pytest.mark.parametrize("lang, words", [("en", "not a kind this policy rewards"), ("zh", "不是该政策奖励的项目类型")])
@pytest.mark.parametrize("paid_in", ["42000000", "500000"])
def test_calc_says_why_a_kind_the_policy_does_not_reward_gets_nothing(tmp_path, lang, words, paid_in):
    text = (PACKAGE / "policies" / "cn-cq-2023.toml").read_text(encoding="utf-8")
    path = tmp_path / "new-only.toml"
    path.write_text(text.replace('kinds = ["new", "capital_increase"]', 'kinds = ["new"]'), encoding="utf-8")
    result = fdi("calc", "--year", "2024", "--sector", "manufacturing", "--paid-in-usd", paid_in, "--fx-rate", "7.1",
                 "--kind", "增资", "--policy", path, "--lang", lang)
    assert result.exit_code == 0, result.output
    assert words.replace(" ", "") in flat(result.output), result.output
    ok = fdi(*CALC, "--kind", "new", "--lang", lang).output
    assert words.replace(" ", "") not in flat(ok)


@pytest.mark.parametrize("lang, words", [
    ("en", ["expected a policy file", "fdi policy show cn-cq-2018"]),
    ("zh", ["应为政策文件", "fdi policy show cn-cq-2018"]),
])
def test_policy_validate_given_an_id_says_it_wants_a_file(lang, words):
    result = fdi("policy", "validate", "cn-cq-2018", "--lang", lang)
    assert result.exit_code == ExitCode.USAGE
    assert all(w in result.output for w in words) and "No such file" not in result.output, result.output


def test_calc_policy_panel_speaks_in_words():
    out = flat(fdi(*CALC, "--lang", "en", "--caveats").output)
    assert "reliability:officialrestatement" in out and "official_restatement" not in out, out
    assert "appliedfrom2023-01-01,noenddate" in out and "tonoenddate" not in out, out


def test_the_batch_summary_lists_row_errors_in_chinese(tmp_path):
    """The errors the summary lists are said in Chinese under --lang zh (the output's error cells,
    and the summary JSON's first_errors, stay English: the same bytes in both languages)."""
    src = tmp_path / "in.csv"
    src.write_text("project_id,year,kind,sector,paid_in_usd,fx_rate\nA,二〇二四,new,manufacturing,40000000,7.1\n"
                   "B,2017,new,manufacturing,40000000,7.1\nC,2024,new,宇宙飞船制造,1,7.1\nD,2024,合资,manufacturing,abc,\n"
                   "E,,new,,,x\nF,2024,new,manufacturing,,7.1\n", encoding="utf-8")
    outputs = {}
    for lang in ("zh", "en"):
        result = fdi("batch", src, "-o", tmp_path / f"{lang}.csv", "--no-progress", "--lang", lang,
                     "--summary-json", tmp_path / f"{lang}.json")
        assert result.exit_code == ExitCode.ROW_ERRORS, result.output
        outputs[lang] = (tmp_path / f"{lang}.csv").read_bytes()
        if lang == "zh":
            panel = re.sub(r"\s+", "", result.output.split("错误", 2)[2])
            for words in ["year：'二〇二四'无效", "2017年没有有效的政策", "kind：'合资'无效", "paid_in_usd：缺失", "year：缺失",
                          "sector：缺少行业", "fx_rate：'x'无效", "（A）"]:
                assert words in panel, (words, result.output)
            for english in ["is not valid", "missing;", "expected", "no policy"]:
                assert english not in result.output, (english, result.output)
    assert outputs["zh"] == outputs["en"]
    first = [json.loads((tmp_path / f"{lang}.json").read_text(encoding="utf-8"))["first_errors"] for lang in ("zh", "en")]
    assert [e["error"] for e in first[0]] == [e["error"] for e in first[1]]


def test_a_projects_file_that_lists_a_project_twice_or_not_at_all_is_said_in_chinese(tmp_path):
    """The output's error cells stay English (the same bytes); the summary says them in Chinese."""
    ledger, projects = tmp_path / "l.csv", tmp_path / "p.csv"
    ledger.write_text("project_id,date,amount,currency,type\nA,2024-03-01,40000000,USD,equity\n"
                      "B,2024-03-01,40000000,USD,equity\n", encoding="utf-8")
    projects.write_text("project_id,kind,sector\nA,new,manufacturing\nA,new,services\n", encoding="utf-8")
    outputs = {}
    for lang in ("en", "zh"):
        result = fdi("batch", ledger, "--projects", projects, "--fx-rate", "7.1", "-o", tmp_path / f"{lang}.csv",
                     "--no-progress", "--lang", lang)
        assert result.exit_code == ExitCode.ROW_ERRORS, result.output
        outputs[lang] = (tmp_path / f"{lang}.csv").read_bytes()
    shown = re.sub(r"[\s│]+", "", result.output)  # (the Chinese summary, its panel's borders aside)
    assert _flat("project_id：'A' 在 --projects 的第 2, 3 行重复出现，sector 不同；请只保留一行") in shown, shown
    assert _flat("project_id：--projects 中没有 'B'，因此缺少其行业") in shown, shown
    assert outputs["zh"] == outputs["en"]


def test_a_ledgers_arrival_errors_are_listed_in_chinese(tmp_path):
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("project_id,date,amount,currency,type,sector\nA,2024-13-45,1000,USD,equity,manufacturing\n"
                      "B,2024-03-01,abc,USD,equity,manufacturing\nC,2024-03-01,1000,US,equity,manufacturing\n"
                      "D,2024-03-01,1000,USD,借款,manufacturing\nE,,1000,USD,equity,manufacturing\n"
                      ",2024-03-01,1000,USD,equity,manufacturing\n", encoding="utf-8")
    outputs = {}
    for lang in ("zh", "en"):
        result = fdi("batch", ledger, "--fx-rate", "7.1", "-o", tmp_path / f"{lang}.csv", "--no-progress", "--lang", lang)
        assert result.exit_code == ExitCode.ROW_ERRORS, result.output
        outputs[lang] = (tmp_path / f"{lang}.csv").read_bytes()
        if lang == "zh":
            panel = re.sub(r"\s+", "", result.output.split("错误", 2)[2])
            for words in ["到位记录第1行：date：'2024-13-45'无效", "amount：'abc'无效", "currency：'US'无效", "type：'借款'无效",
                          "date：缺失"]:
                assert words in panel, (words, result.output)
            for english in ["arrival row", "is not valid", "expected", "missing"]:
                assert english not in result.output, (english, result.output)
    assert outputs["zh"] == outputs["en"]


def test_a_csvs_reading_errors_are_listed_in_chinese(tmp_path):
    src = tmp_path / "in.csv"
    src.write_text("project_id,year,sector,paid_in_usd,fx_rate\nA,2024,manufacturing,40000000,7.1,extra\nB,2024,manufacturing\n",
                   encoding="utf-8")
    result = fdi("batch", src, "-o", tmp_path / "zh.csv", "--no-progress", "--lang", "zh")
    assert result.exit_code == ExitCode.ROW_ERRORS and "该行有 6 个字段，表头有 5 个" in result.output, result.output
    assert "the row has" not in result.output and "the row has 6 fields" in (tmp_path / "zh.csv").read_text(encoding="utf-8")
