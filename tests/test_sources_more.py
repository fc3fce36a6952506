"""The policies of Foshan, Shaanxi, Fujian and Tongliang say what their sources say: every citation
is words of a source's quote, every number stands beside the words that set it, every source says
where it is, how far it can be trusted and what of it was seen, and what no text says is labelled
as ours (a reading or an assumption) and told to the user as a caveat."""

import re
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from fdi_incentive import get_policy
from fdi_incentive.cli import app

from .test_sources import fragments

ROOT = Path(__file__).parents[1]
POLICIES = ROOT / "src/fdi_incentive/policies"
OURS = ["cn-gd-foshan-2023", "cn-sn-2023", "cn-fj-2023", "cn-cq-tongliang-2025"]
runner = CliRunner()


def raw(pid: str) -> dict:
    """The policy file as written (every key, whatever the model keeps of it)."""
    with open(POLICIES / f"{pid}.toml", "rb") as f:
        return tomllib.load(f)


def said_parts(node, path=""):
    """(path, table) for every table of the file that carries a citation, reading or assumption."""
    if isinstance(node, dict):
        if any(k in node for k in ("citation", "reading", "assumption")):
            yield path, node
        for key, value in node.items():
            yield from said_parts(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from said_parts(value, f"{path}[{i}]")


def words_of(pid: str) -> str:
    """The words a citation may quote: every quoting source's quote, and the sources' titles."""
    d = raw(pid)
    return "\n".join(s["quote"] for s in d["sources"] if s.get("quote")) + "".join(s["title"] for s in d["sources"])


def tier(pid: str, tid: str) -> dict:
    return next(t for t in raw(pid)["tiers"] if t["id"] == tid)


def caveat(pid: str, cid: str) -> dict:
    return next(c for c in raw(pid)["caveats"] if c["id"] == cid)


def wan(amount: str) -> str:
    """USD 5000000 as the texts write it: 500 (万)."""
    return f"{(Decimal(amount) / 10000).normalize():f}"


def percent(rate: str) -> str:
    return f"{(Decimal(rate) * 100).normalize():f}%"


# --- every file: citations, labels, sources -------------------------------------------------------

@pytest.mark.parametrize("pid", OURS)
def test_every_citation_in_a_policy_file_is_words_of_its_sources(pid):
    words = words_of(pid)
    cited = [(path, part["citation"]) for path, part in said_parts(raw(pid)) if part.get("citation")]
    assert len(cited) >= 5
    missing = [(path, f) for path, c in cited for f in fragments(c) if f not in words]
    assert missing == []


@pytest.mark.parametrize("pid", OURS)
def test_every_source_says_where_it_is_how_reliable_and_what_was_seen(pid):
    sources = raw(pid)["sources"]
    assert any(s.get("quote") for s in sources)
    for s in sources:
        assert s["url"].startswith(("http://", "https://"))
        assert s["reliability"] in {"official", "official_restatement", "mirror", "secondary"}
        assert s["seen"] and s["seen_zh"] and str(s["checked"]) == "2026-12-08"
        assert s["role"] in {"text", "restatement", "summary"}
    assert any("NOT SEEN" in s["seen"] for s in sources)


@pytest.mark.parametrize("pid", OURS)
def test_every_reading_and_assumption_has_its_chinese_twin_and_every_caveat_too(pid):
    d = raw(pid)
    for path, part in said_parts(d):
        for label in ("reading", "assumption"):
            if part.get(label):
                assert re.search(r"[\u4e00-\u9fff]", part.get(f"{label}_zh") or ""), (path, label)
    for c in d["caveats"]:
        assert c["basis"] in {"source", "reading", "assumption", "unknown"} and re.search(r"[\u4e00-\u9fff]", c["text_zh"])
    for t in d["tiers"]:
        assert t["label_zh"] and t["rate_type"] == "exact"


@pytest.mark.parametrize("pid", OURS)
def test_the_fixed_readings_are_labelled_as_ours(pid):
    d = raw(pid)
    assert d["family"] == pid.rsplit("-", 1)[0]
    assert "reading" in d["rounding"] and "half-up to the fen, once on each payout shown" in d["rounding"]["reading"]
    conversion = d["conversion"]
    assert "reading" in conversion
    if pid == "cn-cq-tongliang-2025":
        assert (conversion["default"], conversion["fixed"]) == ("nominal", True)
    else:
        assert (conversion["default"], conversion["fixed"]) == ("converted", False)
        assert "fx-rate" in {c["id"] for c in d["caveats"]}


# --- place codes: GB/T 2260, as an administrative-divisions package has them -----------------------

PLACES = {"440600": "佛山市", "610000": "陕西省", "350000": "福建省", "350200": "厦门市", "350400": "三明市",
          "350700": "南平市", "350800": "龙岩市", "350900": "宁德市", "500151": "铜梁区"}


def test_the_place_codes_are_the_places_the_texts_name():
    assert raw("cn-gd-foshan-2023")["place"]["within"] == ["440600"]
    assert raw("cn-sn-2023")["place"]["within"] == ["610000"]
    assert raw("cn-cq-tongliang-2025")["place"]["within"] == ["500151"]
    fj = raw("cn-fj-2023")["place"]
    assert (fj["within"], fj["excludes"], fj["others"]) == (["350000"], ["350200"], "general")
    four = next(g for g in fj["groups"] if g["id"] == "four-cities")
    assert four["places"] == ["350400", "350700", "350800", "350900"] and four["citation"] == "三明、南平、龙岩、宁德四市300万美元"
    for pid in OURS:
        assert "GB2260 0.4.1" in (POLICIES / f"{pid}.toml").read_text(encoding="utf-8")


def test_the_place_codes_are_gb_t_2260_codes_of_those_names():
    gb2260 = pytest.importorskip("gb2260")
    for code, name in PLACES.items():
        assert gb2260.get(code).name == name


# --- each number beside the words that set it ----------------------------------------------------

FOSHAN_BANDS = [("band-5m", "5000000", "10000000", "0.02"), ("band-10m", "10000000", "30000000", "0.03"),
                ("band-30m", "30000000", "50000000", "0.04"), ("band-50m", "50000000", None, "0.05"),
                ("priority-3m", "3000000", "10000000", "0.02")]


@pytest.mark.parametrize("tid, lower, upper, rate", FOSHAN_BANDS)
def test_foshan_bands_are_lower_inclusive_upper_exclusive_at_their_words(tid, lower, upper, rate):
    t = tier("cn-gd-foshan-2023", tid)
    assert (t["threshold"]["amount"], t["threshold"]["comparator"], t.get("below"), t["rate"]) == (lower, "ge", upper, rate)
    assert f"{wan(lower)}萬美元或以上" in t["citation"]
    assert upper is None and "少於" not in t["citation"] or f"少於{wan(upper)}萬美元" in t["citation"]
    assert f"按實際外資{percent(rate)}的比例給予扶持" in t["citation"]
    assert t["categories"] == ["manufacturing"] and "2020" in t["assumption"]
    assert t.get("requires", []) == (["priority"] if tid == "priority-3m" else [])


def test_foshan_cap_and_the_schedule_of_the_priority_projects():
    d = raw("cn-gd-foshan-2023")
    assert (d["cap"]["amount"], d["cap"]["citation"]) == ("20000000", "最高獎勵2000萬元人民幣")
    assert "assumption" in d["cap"]
    quote = d["sources"][0]["quote"]
    assert "奖励" not in quote and quote.count("最高獎勵2000萬元人民幣") == 2  # traditional, as the copy has it
    assert "世界500強" in tier("cn-gd-foshan-2023", "priority-3m")["citation"]
    assert "“2+2+4”" in tier("cn-gd-foshan-2023", "priority-3m")["citation"]
    # 2023 arrivals in force is an assumption, and no end date is invented
    assert "to" not in d["effective"] and "assumption" in d["effective"] and "assumption" in d["source_period"]
    assert {"year-2023", "after-2023", "manufacturing", "priority-flag", "domestic-source"} <= {c["id"] for c in d["caveats"]}


SHAANXI_BANDS = [("band-1m", "1000000", "10000000", "0.01"), ("band-10m", "10000000", "30000000", "0.02"),
                 ("band-30m", "30000000", None, "0.03")]


@pytest.mark.parametrize("tid, lower, upper, rate", SHAANXI_BANDS)
def test_shaanxi_bands_are_inclusive_where_the_text_says_han(tid, lower, upper, rate):
    t = tier("cn-sn-2023", tid)
    assert (t["threshold"]["amount"], t["threshold"]["comparator"], t.get("below"), t["rate"]) == (lower, "ge", upper, rate)
    assert f"{wan(lower)}萬美元(含)以上" in t["citation"]
    assert upper is None and "以下" not in t["citation"] or f"{wan(upper)}萬美元以下" in t["citation"]
    assert f"按其當年實際使用外資金額{percent(rate)}予以獎勵" in t["citation"]
    if upper:  # 以下 includes the number in law: that the band stops short of it is said to be ours
        assert "民法典" in t["reading"] and f"{wan(upper)}萬美元(含)" in t["reading_zh"]


def test_shaanxi_caps_its_top_band_only_and_ends_in_2025():
    d = raw("cn-sn-2023")
    top = tier("cn-sn-2023", "band-30m")
    assert top["cap"]["amount"] == "100000000" and top["cap"]["citation"].endswith("最高獎勵1億元")
    assert all("cap" not in tier("cn-sn-2023", t) for t in ("band-1m", "band-10m"))
    assert "amount" not in d["cap"] and "top band" in d["cap"]["reading"]
    assert str(d["effective"]["to"]) == "2025-12-31" and d["effective"]["citation"] == "自發布之日起施行,有效期至2025年12月31日"
    assert "assumption" in d["effective"] and "start-2023" in {c["id"] for c in d["caveats"]}
    assert "secondary" in {s["reliability"] for s in d["sources"] if s.get("quote")}


FUJIAN_TIERS = [("general", ["general"], [], [], "5000000", "0.01"),
                ("four-cities", ["four-cities"], [], [], "3000000", "0.01"),
                ("hnte", ["general"], ["hnte"], [], "5000000", "0.015"),
                ("hnte-four-cities", ["four-cities"], ["hnte"], [], "3000000", "0.015"),
                ("manufacturing", [], [], ["manufacturing"], "10000000", "0.015")]


@pytest.mark.parametrize("tid, groups, requires, categories, amount, rate", FUJIAN_TIERS)
def test_fujian_tiers_stand_beside_their_words(tid, groups, requires, categories, amount, rate):
    t = tier("cn-fj-2023", tid)
    assert (t.get("groups", []), t.get("requires", []), t["categories"]) == (groups, requires, categories)
    assert (t["threshold"]["amount"], t["threshold"]["comparator"], t["rate"]) == (amount, "ge", rate)
    assert f"{wan(amount)}万美元" in t["citation"] and "及以上" in t["citation"]
    assert ("按1%比例" if rate == "0.01" else "由1%提高至1.5%") in t["citation"]
    if requires:
        assert "国家高新技术企业" in t["citation"] and "技术先进型服务企业" in t["citation"]


def test_fujian_rewards_2023_only_excludes_xiamen_and_caps_at_10_million():
    d = raw("cn-fj-2023")
    assert (str(d["effective"]["from"]), str(d["effective"]["to"])) == ("2023-01-01", "2023-12-31")
    assert "2023年全年到资奖励" in d["effective"]["citation"]
    assert "不含厦门" in d["place"]["citation"] and "reading" in d["place"]
    assert (d["cap"]["amount"], d["exclusions"]["categories"]) == ("10000000", ["real_estate", "finance"])
    assert d["cap"]["citation"].endswith("最高奖励1000万元")
    assert d["sources"][0]["document_number"] == "闽商务〔2023〕196号" and d["sources"][0]["reliability"] == "mirror"


def test_fujian_says_the_23_counties_are_named_in_no_text_we_hold():
    text = (POLICIES / "cn-fj-2023.toml").read_text(encoding="utf-8")
    assert "23个脱贫县" in text and "NOT encoded" in text
    c = caveat("cn-fj-2023", "poverty-counties")
    assert c["basis"] == "unknown" and "no text we hold lists them" in c["text"] and "未予编码" in c["text_zh"]
    assert "2500000" not in text  # no threshold for places we cannot name
    assert "23个脱贫县" in raw("cn-fj-2023")["sources"][0]["seen"]


def test_tongliang_pays_two_fen_a_dollar_on_top_of_chongqing_with_no_threshold_or_cap():
    d = raw("cn-cq-tongliang-2025")
    (t,) = d["tiers"]
    assert (t["threshold"]["amount"], t["threshold"]["comparator"], t["rate"], t["categories"]) == ("0", "gt", "0.02", [])
    assert "0.02元人民币/美元" in t["citation"] and "0.02元人民币/美元" in d["conversion"]["citation"]
    assert d["combines"] == [{**d["combines"][0], "with": "cn-cq", "mode": "adds_to"}]
    assert "reading" in d["combines"][0] and "1000万元上限之后" in d["combines"][0]["reading_zh"]
    assert "amount" not in d["cap"] and "No cap of its own" in d["cap"]["reading"]
    assert d["sources"][0]["reliability"] == "official" and str(d["sources"][0]["issued"]) == "2025-07-25"
    assert "to" not in d["effective"] and "assumption" in d["effective"]


# --- the files as the tool loads them ------------------------------------------------------------

@pytest.mark.parametrize("pid", OURS)
def test_each_file_validates_and_its_sources_are_the_files(pid):
    p = get_policy(pid).policy
    assert p.id == pid
    quoted = [s for s in p.sources if s.quote]
    assert quoted and p.clause_source is quoted[0]
    assert runner.invoke(app, ["policy", "validate", str(POLICIES / f"{pid}.toml")]).exit_code == 0


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("pid", OURS)
def test_policy_show_fits_80_columns(pid, lang):
    result = runner.invoke(app, ["policy", "show", pid, "--lang", lang], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert max(cell_len(line) for line in result.output.splitlines()) <= 80  # (a Chinese character is two columns)
    flat = re.sub(r"[\s│]+", "", result.output)
    assert re.sub(r"\s+", "", raw(pid)["tiers"][0]["citation"].split(" … ")[0]) in flat


@pytest.mark.parametrize("pid, year, status", [
    ("cn-sn-2023", 2025, "in_force"), ("cn-sn-2023", 2026, "expired"),
    ("cn-fj-2023", 2023, "in_force"), ("cn-fj-2023", 2024, "expired"), ("cn-fj-2023", 2022, "not_yet"),
    ("cn-gd-foshan-2023", 2023, "in_force"), ("cn-gd-foshan-2023", 2024, "assumed_continuation"),
    ("cn-cq-tongliang-2025", 2025, "in_force"), ("cn-cq-tongliang-2025", 2026, "assumed_continuation"),
])
def test_each_year_has_the_status_its_dates_give(pid, year, status):
    assert get_policy(pid).policy.status_in(year) == status


@pytest.mark.parametrize("pid, confidence", [("cn-gd-foshan-2023", "mirror"), ("cn-sn-2023", "secondary"),
                                             ("cn-fj-2023", "mirror"), ("cn-cq-tongliang-2025", "official")])
def test_confidence_is_the_best_reliability_among_the_sources_quoting_the_clause(pid, confidence):
    assert get_policy(pid).policy.confidence == confidence
    assert f"## Confidence\n\n**{confidence}**" in (ROOT / f"docs/policies/{pid}.md").read_text(encoding="utf-8")


# --- the docs ------------------------------------------------------------------------------------

@pytest.mark.parametrize("pid", OURS)
def test_the_docs_page_quotes_the_clause_and_tables_every_parameter(pid):
    doc = (ROOT / f"docs/policies/{pid}.md").read_text(encoding="utf-8")
    d = raw(pid)
    clause = next(s for s in d["sources"] if s.get("quote"))
    for line in clause["quote"].splitlines():
        assert line == "[…]" or line in doc
    for s in d["sources"]:
        assert s["url"] in doc
    assert "NOT SEEN" in doc and "## Confidence" in doc
    table = re.search(r"^\| parameter \| value \| the words \| basis \|.*?\n\n", doc, re.S | re.M).group(0)
    rows = [line.split("|") for line in table.splitlines()[2:] if line]
    assert len(rows) >= 6
    assert {r[4].strip() for r in rows} <= {"text", "our reading", "assumption", "text + our reading",
                                            "text + assumption", "none (silent)"}
    words = words_of(pid)
    cells = [c.strip() for c in (r[3] for r in rows) if re.search(r"[\u4e00-\u9fff]", c) and not c.strip().startswith("(")]
    missing = [f for c in cells for f in fragments(c) if f not in words]
    assert missing == []


# --- what the files make the tool pay (boundaries under each comparator, bands, flags, dates) -------

def pays(pid, year, paid_in, sector="manufacturing", fx="7", location=None, **flags):
    from fdi_incentive import Project, assess

    y = assess(Project.for_year(year, paid_in=paid_in, sector=sector, location=location, **flags), policy=pid, fx=fx).years[0]
    return y.policy_status, y.tier, f"{y.incentive_cny:.2f}"


@pytest.mark.parametrize("year, paid_in, sector, flags, expected", [
    (2023, "4999999.99", "manufacturing", {}, ("in_force", None, "0.00")),
    (2023, "5000000", "manufacturing", {}, ("in_force", "band-5m", "700000.00")),  # 或以上: inclusive
    (2023, "9999999.99", "manufacturing", {}, ("in_force", "band-5m", "1400000.00")),  # 少於: below 10M (69,999,999.93 yuan × 2%)
    (2023, "10000000", "manufacturing", {}, ("in_force", "band-10m", "2100000.00")),
    (2023, "50000000", "manufacturing", {}, ("in_force", "band-50m", "17500000.00")),
    (2023, "60000000", "manufacturing", {}, ("in_force", "band-50m", "20000000.00")),  # 2000萬 cap
    (2023, "4000000", "manufacturing", {}, ("in_force", None, "0.00")),  # no flag: the general schedule
    (2023, "3000000", "manufacturing", {"priority": True}, ("in_force", "priority-3m", "420000.00")),
    (2023, "60000000", "services", {}, ("in_force", None, "0.00")),  # manufacturing only (assumed)
    (2024, "6000000", "manufacturing", {}, ("assumed_continuation", "band-5m", "840000.00")),
])
def test_foshan_pays_its_bands(year, paid_in, sector, flags, expected):
    assert pays("cn-gd-foshan-2023", year, paid_in, sector, **flags) == expected


@pytest.mark.parametrize("year, paid_in, sector, expected", [
    (2025, "999999.99", "manufacturing", ("in_force", None, "0.00")),
    (2025, "1000000", "manufacturing", ("in_force", "band-1m", "70000.00")),  # (含)以上: inclusive
    (2025, "29999999.99", "manufacturing", ("in_force", "band-10m", "4200000.00")),  # 2%, not 3%
    (2025, "30000000", "manufacturing", ("in_force", "band-30m", "6300000.00")),  # 30M is the top band's
    (2025, "600000000", "manufacturing", ("in_force", "band-30m", "100000000.00")),  # the top band's 1亿 cap
    (2025, "60000000", "services", ("in_force", None, "0.00")),
    (2023, "30000000", "manufacturing", ("in_force", "band-30m", "6300000.00")),
    (2026, "30000000", "manufacturing", ("expired", None, "0.00")),  # 有效期至2025年12月31日
])
def test_shaanxi_pays_its_bands_until_2025(year, paid_in, sector, expected):
    assert pays("cn-sn-2023", year, paid_in, sector) == expected


@pytest.mark.parametrize("year, paid_in, fx, expected", [
    (2025, "1000000", "7", ("in_force", "subsidy", "20000.00")),
    (2025, "1000000", "9", ("in_force", "subsidy", "20000.00")),  # no exchange rate enters
    (2025, "0.01", "7", ("in_force", "subsidy", "0.00")),  # no threshold; 0.0002 yuan rounds to 0
    (2024, "1000000", "7", ("not_yet", None, "0.00")),
    (2026, "1000000", "7", ("assumed_continuation", "subsidy", "20000.00")),
])
def test_tongliang_pays_two_fen_a_dollar_whatever_the_rate(year, paid_in, fx, expected):
    assert pays("cn-cq-tongliang-2025", year, paid_in, "services", fx=fx) == expected


@pytest.mark.parametrize("location, paid_in, sector, flags, expected", [
    ("福州市", "4999999.99", "services", {}, ("in_force", None, "0.00")),
    ("福州市", "5000000", "services", {}, ("in_force", "general", "350000.00")),  # 及以上: inclusive
    ("三明市", "3000000", "services", {}, ("in_force", "four-cities", "210000.00")),
    ("宁德市", "3000000", "services", {"hnte": True}, ("in_force", "hnte-four-cities", "315000.00")),
    ("福州市", "4000000", "services", {"hnte": True}, ("in_force", None, "0.00")),  # 其中: the threshold first
    ("福州市", "9999999.99", "manufacturing", {}, ("in_force", "general", "700000.00")),  # 1%, not 1.5%
    ("福州市", "10000000", "manufacturing", {}, ("in_force", "manufacturing", "1050000.00")),
    ("福州市", "100000000", "manufacturing", {}, ("in_force", "manufacturing", "10000000.00")),  # 1000万 cap
    ("厦门市", "10000000", "manufacturing", {}, ("in_force", None, "0.00")),  # 不含厦门
    ("福州市", "10000000", "real-estate", {}, ("in_force", None, "0.00")),
])
def test_fujian_pays_by_place_and_flag_in_2023(location, paid_in, sector, flags, expected):
    pytest.importorskip("fdi_incentive.places")
    assert pays("cn-fj-2023", 2023, paid_in, sector, location=location, **flags) == expected


def test_fujian_rewards_no_year_but_2023():
    pytest.importorskip("fdi_incentive.places")
    assert pays("cn-fj-2023", 2024, "10000000", location="福州市")[0] == "expired"
    assert pays("cn-fj-2023", 2022, "10000000", location="福州市")[0] == "not_yet"
