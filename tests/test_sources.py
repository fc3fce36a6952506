"""What a user reads about the law matches the stored copies of its sources: quotes exact, each
citation words of its source, each title and URL the source's own, and whatever we conclude
labelled as ours."""

import json
import re
from pathlib import Path

import pytest

from fdi_incentive import get_policy
from fdi_incentive.policy import Said

from .test_cli import fdi
from .test_law import one, wide

ROOT = Path(__file__).parents[1]
DOCS = (ROOT / "docs/policy.md").read_text(encoding="utf-8")

# The Yongchuan Q&A as stored (nchfyy.com mirror): two paragraphs; the mirror put spam where 人民政府 was.
Q_AND_A_2018 = ("根据《重庆市[人民政府]关于做好稳外贸稳外资稳外经有关工作的通知》(渝商务〔2018〕50号)文件要求,"
                "对2018—2022年我市设立的实际到位外资金额(不包含外放股东借款)超过500万美元的新项目或增资项目"
                "(房地产业、金融业、及金融类项目除外)进行奖励。")
Q_AND_A_2018_2 = "奖励金额以当年实际到位外资金额(美元)为基数,按不低于2%的额度予以奖励(人民币)。"
MIRROR = "https://www.nchfyy.com/zcwd/qsww_360213/202209/t20220915_11113820"
YUZHONG = "https://www.cqyz.gov.cn/zwgk_229/lwlb/gzxx/202402/t20240205_12905712.html"


def flat(text: str) -> str:
    return re.sub(r"[\s│]+", "", text)


def source(policy: str, role: str):
    return next(s for s in get_policy(policy).policy.sources if s.role == role)


def caveat(policy: str, cid: str):
    return next(c for c in get_policy(policy).policy.caveats if c.id == cid)


def section(number: str) -> str:
    """The text of docs/policy.md's section `## number.` up to the next section."""
    return re.search(rf"^## {re.escape(number)}\. .*?(?=^## )", DOCS, re.S | re.M).group(0)


def fragments(cited: str) -> list[str]:
    """The words a citation quotes: its pieces between "…" (and "→" in the docs' tables), with
    [restorations] taken out, since the source does not have them."""
    cited = re.sub(r"\[[^\]]*\]", "", cited)
    return [f.strip(" 《》“”") for f in re.split(r"…|→", cited) if f.strip(" 《》“”")]


# --- the 2018 clause, exactly as the Q&A gives it -----------------------------------------------------

def test_the_2018_quote_is_the_q_and_a_word_for_word_and_says_what_it_restored():
    q = source("cn-cq-2018", "restatement")
    assert q.quote == Q_AND_A_2018 + "\n" + Q_AND_A_2018_2
    assert "2%(人民币)" not in q.quote and "…" not in q.quote
    assert "mirror replaces text" in q.seen and "人民政府" in q.seen and "gambling spam" in q.seen
    assert Q_AND_A_2018 in DOCS and f"> {Q_AND_A_2018_2}" in DOCS
    shown = wide("policy", "show", "cn-cq-2018").output
    assert flat(Q_AND_A_2018 + Q_AND_A_2018_2) in flat(shown) and "[]markswordswerestored" in flat(shown)


@pytest.mark.parametrize("policy", ["cn-cq-2018", "cn-cq-2023"])
def test_every_citation_in_a_policy_file_is_words_of_its_source(policy):
    p = get_policy(policy).policy
    words = p.clause_source.quote.replace("[人民政府]", "") + "".join(s.title for s in p.sources)
    parts = [p.effective, p.source_period, p.base, *p.tiers, p.exclusions, p.stacking, p.cap, p.conversion, p.rounding]
    cited = [part.citation for part in parts if isinstance(part, Said) and part.citation]
    assert cited
    missing = [f for c in cited for f in fragments(c) if f not in words]
    assert missing == []


@pytest.mark.parametrize("number, policy", [("1", "cn-cq-2023"), ("2", "cn-cq-2018")])
def test_every_chinese_cell_of_the_docs_tables_is_words_of_the_source(number, policy):
    quote = get_policy(policy).policy.clause_source.quote
    table = re.search(r"^\| element \| the text \|.*?\n\n", section(number), re.S | re.M).group(0)
    rows = [line.split("|")[2] for line in table.splitlines()[2:] if line]
    cells = [c.strip() for c in rows if re.search(r"[\u4e00-\u9fff]", c) and not c.strip().startswith("(")]
    assert len(cells) >= 5
    missing = [f for c in cells for f in fragments(c) if f not in quote]
    assert missing == []  # a join of two fragments with ", ", or a corrected typo, is not the source's


def test_the_docs_mark_the_typo_they_correct():
    assert "| loans | 不包含外放[外方]股东借款 |" in DOCS


def test_the_2018_conversion_caveat_quotes_the_2018_wording():
    text = caveat("cn-cq-2018", "conversion-reading").text
    assert "按不低于2%的额度予以奖励(人民币)" in text and "paid in RMB" in text
    assert "same words" not in text
    assert get_policy("cn-cq-2018").policy.conversion.citation == "以当年实际到位外资金额(美元)为基数,按不低于2%的额度予以奖励(人民币)"


def test_mapping_projects_set_up_in_2018_2022_to_years_paid_in_is_our_reading():
    p = get_policy("cn-cq-2018").policy
    assert "设立" in p.effective.reading and "set up in 2021" in p.effective.reading and "2023" in p.effective.reading
    shown = flat(wide("policy", "show", "cn-cq-2018").output)
    assert "ourreading:TherestatementnamesprojectsSETUP" in shown
    assert "set up in 2021 which pays in capital during 2023" in section("2")


# --- the period a source covers --------------------------------------------------------------------

def test_results_say_the_period_its_source_covers_and_whose_reading_the_end_is():
    reason = one(2024, "15000000", "services").reasons[0]
    assert "source states" not in reason
    assert "in force in 2024: within 2023-2024, the period its source covers (our reading: a clause from 2023 in a plan titled 2022—2024" in reason
    out = fdi("calc", "--year", "2024", "--sector", "services", "--paid-in-usd", "15000000", "--fx-rate", "7", "--caveats").output
    assert "source states" not in out and "within the period its source covers" in re.sub(r"[\s│]+", " ", out)
    shown = wide("policy", "show", "cn-cq-2023").output
    assert "source states" not in shown and "2023-2024, the period its source covers (our reading: a clause from 2023" in shown
    assert "source states" not in section("3")
    # the machine value is unchanged
    assert json.loads(fdi("calc", "--year", "2024", "--sector", "services", "--paid-in-usd", "15000000", "--fx-rate", "7",
                          "--json").output)["years"][0]["policy_status"] == "in_force"


# --- 2023: the labels of what is ours ----------------------------------------------------------------

def test_no_duplicate_support_is_our_reading_both_ways_with_the_districts_english():
    c = caveat("cn-cq-2023", "no-duplicate-support")
    assert c.basis == "reading"
    assert "no repetitive rewarding" in c.text and "以上单个项目" in c.text and "other funds" in c.text
    stacking = get_policy("cn-cq-2023").policy.stacking.reading
    assert "is about support from other funds" not in stacking and "may" in stacking
    assert "is about support from *other funds*" not in DOCS and "no repetitive rewarding" in section("1")
    assert one(2024, "50000000", "manufacturing").tier == "manufacturing"  # one tier, as before


def test_the_reinvested_profit_caveat_claims_no_more_than_ichongqing_says():
    text = caveat("cn-cq-2023", "reinvested-profit").text
    assert "on equal terms (iChongqing" not in text
    assert "equal subsidy policies" in text and "no text says" in text and "assumption" in text


@pytest.mark.parametrize("policy", ["cn-cq-2018", "cn-cq-2023"])
def test_the_conversion_and_fx_caveats_claim_nothing_without_a_source(policy):
    conversion, fx = caveat(policy, "conversion-reading").text, caveat(policy, "fx-rate").text
    for unsourced in ("built from", "Wenzhou", "Suzhou", "pays its own subsidy"):
        assert unsourced not in conversion
    assert "which we read as a district subsidy of its own" in conversion
    assert "as Ningbo does" not in fx and "not the PBOC central parity" in fx
    if policy == "cn-cq-2023":
        assert "Yuzhong District's English" in conversion
    for unsourced in ("built from", "Wenzhou", "Suzhou"):
        assert unsourced not in section("3")


# --- sources: their own titles and URLs ----------------------------------------------------------------

def test_sources_carry_their_own_titles_and_urls():
    yz, yc = source("cn-cq-2023", "restatement"), source("cn-cq-2018", "restatement")
    assert yz.title == "重庆市渝中区外商投资政策汇编(中英文)" and yz.issued.isoformat() == "2023-03-09"
    assert "A Collection of Foreign Investment Incentives in Chongqing’s Yuzhong District" in yz.title_en
    assert "t20240205" in yz.seen
    assert yc.title == "申请实际到位外资奖励的条件及申报流程是什么?" and yc.url == MIRROR
    assert "spam" in yc.seen
    ic = source("cn-cq-2023", "summary")
    assert ic.url.startswith("https://www.ichongqing.info/2023/11/21/chongqing-plays-key-role") and "Kenny Dong" in ic.issuer
    notice = ("重庆市人民政府办公厅关于印发重庆市推动外贸高质量发展三年行动计划(2022—2024年)"
              "和重庆市建设高质量外资集聚地三年行动计划(2022—2024年)的通知")
    assert notice in source("cn-cq-2023", "text").seen and notice in DOCS
    for pid in ("cn-cq-2018", "cn-cq-2023"):
        assert "described, not its exact title" not in (ROOT / f"src/fdi_incentive/policies/{pid}.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize("year, url, reliability", [(2020, MIRROR, "secondary"), (2024, YUZHONG, "official_restatement")])
def test_reliability_stands_beside_the_url_of_the_source_it_rates(year, url, reliability):
    args = ("calc", "--year", year, "--sector", "services", "--paid-in-usd", "15000000", "--fx-rate", "7")
    used = json.loads(fdi(*args, "--json").output)["policies"][0]
    assert (used["clause_source_url"], used["reliability"]) == (url, reliability)
    assert used["url"] != url  # `url` is the text's own
    out = flat(wide(*args, "--caveats").output)  # (the addresses: in full, with --caveats)
    assert flat(f"reliability: {reliability.replace('_', ' ')}{url}") in out
    assert "clause_source_url" in fdi("schema", "output").output


# --- smaller points ----------------------------------------------------------------------------------

def test_no_cap_in_the_2018_breakdown_is_footnoted_as_an_assumption():
    out = wide("calc", "--year", "2020", "--sector", "services", "--paid-in-usd", "6000000", "--fx-rate", "6.6").output
    note = re.search(r"annual cap\s*│\s*none\s*│\s*\[(\d)\]", out)
    assert note, out
    assert re.search(rf"\[{note.group(1)}\] assumption: No cap", out)


def test_the_caveats_point_to_the_what_if_panel_only_where_it_is_printed():
    excluded = wide("calc", "--year", "2020", "--sector", "quasi-finance", "--paid-in-usd", "20000000", "--fx-rate", "6.9").output
    assert "─ what would change the answer" not in excluded
    for pid in ("cn-cq-2018", "cn-cq-2023"):
        assert "shown under 'what would change the answer' on years that earn a reward" in caveat(pid, "conversion-reading").text
    eligible = wide("calc", "--year", "2020", "--sector", "services", "--paid-in-usd", "6000000", "--fx-rate", "6.6").output
    assert "what would change the answer" in eligible and "under the nominal reading the payout would be" in eligible


def test_the_docs_say_mapping_ichongqings_industries_to_manufacturing_is_ours():
    assert "names six manufacturing industries" not in DOCS
    assert "consumer goods included, is our reading" in re.sub(r"\s+", " ", section("5"))


def test_punctuation_is_said_to_be_as_in_the_stored_copies():
    assert "ASCII" in DOCS and "stored copies" in DOCS
    for pid in ("cn-cq-2018", "cn-cq-2023"):
        assert "Punctuation is as in the stored copy" in get_policy(pid).policy.clause_source.seen
