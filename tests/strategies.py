"""Shared Hypothesis strategies: amounts to the cent that crowd the thresholds and the cap points."""

from decimal import Decimal
from decimal import Decimal as D

from hypothesis import strategies as st

CENT = Decimal("0.01")
EDGES = [Decimal(x) for x in ("5000000", "10000000", "30000000", "34722222.22", "69444444.44", "250000000", "500000000")]

SECTORS = {
    "manufacturing": "manufacturing", "electronics": "manufacturing", "pharmaceutical": "manufacturing",
    "services": "other", "other": "other", "real-estate": "real_estate", "finance": "finance",
    "quasi-finance": "quasi_finance",
    # as bureau sheets name them: Chongqing's six industries, GB/T 4754-2017 sections and divisions
    "电子信息": "manufacturing", "汽车": "manufacturing", "汽车制造业": "manufacturing", "批发和零售业": "other",
    "交通运输、仓储和邮政业": "other", "餐饮业": "other", "房地产业": "real_estate", "货币金融服务": "finance",
}


def cents(min_value: int = 0, max_value: int = 10**11) -> st.SearchStrategy[Decimal]:
    return st.integers(min_value=min_value, max_value=max_value).map(lambda c: Decimal(c) * CENT)


near_edges = st.builds(lambda e, d: max(e + Decimal(d) * CENT, Decimal(0)), st.sampled_from(EDGES), st.integers(-3, 3))

amounts_usd = st.one_of(near_edges, cents(0, 2 * 10**10), cents(0, 10**14))
fx_rates = st.integers(min_value=50_000, max_value=80_000).map(lambda n: Decimal(n) / 10_000)  # 5.0000 .. 8.0000
years = st.integers(min_value=2018, max_value=2026)
sectors = st.sampled_from(sorted(SECTORS))
readings = st.sampled_from(["converted", "nominal"])


# --- value texts as people and programs write them (one parser reads them all: money.py) ---------

BLANKS = [" ", "\xa0", "\u3000", "\ufeff", "\u200b", "\t"]
# spaced numbers, extreme magnitudes, exponents, other scripts, the bounds and just past them
ODD_NUMBERS = [
    "7 1", "7.1", " 7.1 ", "7,1", "7_1", "7.1\xa0", "\xa07.1", "７．１", "+7.1", "-0", "0", ".5", "5.", "1E+2", "1.5e7",
    "1e-30", "1e30", "1e999999", "1e-999999", "NaN", "Infinity", "-Infinity", "sNaN", "1e14", "1e13",
    "99999999999999", "99999999999999.99", "100000000000000", "0.00000001", "0.000000009", "9999.99999999",
    "10000", "7.123456789", "7.1000000000", "15 000 000", "15\xa0000\xa0000", "15,000,000.00", "15000000,50",
    "1,5", "1_000_000", "١٢", "१२", "12\u200b3", "0x10", "1/2", "",
]
digits = st.text(alphabet="0123456789", min_size=1, max_size=18)
number_texts = st.one_of(
    st.sampled_from(ODD_NUMBERS),
    st.builds(lambda whole, frac, exp: whole + (f".{frac}" if frac is not None else "") + (f"e{exp}" if exp is not None else ""),
              digits, st.none() | st.text(alphabet="0123456789", max_size=11), st.none() | st.integers(-40, 40)),
    st.builds(lambda a, blank, b: a + blank + b, digits, st.sampled_from(BLANKS + [",", "_", "."]), digits),
    st.text(alphabet="0123456789.,_ eE+-\xa0", max_size=16),
)
rate_texts = st.one_of(number_texts, fx_rates.map(str), st.integers(1, 10**12).map(lambda n: str(D(n).scaleb(-8))))
amount_texts = st.one_of(number_texts, amounts_usd.map(str), st.integers(0, 10**17).map(lambda n: str(D(n).scaleb(-2))))
year_texts = st.one_of(
    st.sampled_from(["2024", "2024.0", "2024.00", "2024年", " 2024 ", "2024 年", "２０２４", "2024.5", "1899", "2201",
                     "2.024e3", "+2024", "-2024", "20 24", "2,024", "0", "", "１９９９年"]),
    st.integers(1890, 2210).map(str), years.map(lambda y: f"{y}年"), years.map(lambda y: f"{y}.0"),
    st.text(alphabet="0123456789.年 ", max_size=8),
)
# text a spreadsheet runs as a formula: a start, after blanks or not; and the controls a terminal obeys
FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r"]
formula_texts = st.builds(lambda blanks, start, rest: "".join(blanks) + start + rest,
                          st.lists(st.sampled_from(BLANKS), max_size=3), st.sampled_from(FORMULA_STARTS),
                          st.sampled_from(["1+1", "SUM(A1)", "HYPERLINK(\"http://x\")", "", "x"]))
control_texts = st.builds(lambda a, c, b: a + c + b, st.sampled_from(["", "x", "7.1", "2024"]),
                          st.sampled_from(["\x1b[2J", "\x1b]0;t\x07", "\x9b31m", "\x07", "\x00", "\u202e", "\x7f"]),
                          st.sampled_from(["", "y", "[/x]", "[bold]"]))


def _policy_from(tiers, cap, excluded, counts=("equity", "reinvested_profit"), kinds=("new", "capital_increase")):
    """A policy like the shipped 2023 one with other tiers, cap, exclusions, counted contributions and
    rewarded kinds (validated as a file would be)."""
    from fdi_incentive.policy import Policy, get_policy

    raw = get_policy("cn-cq-2023").policy.model_dump(mode="json", by_alias=True)
    raw["id"] = "xx-generated"
    raw["tiers"] = [
        {"id": f"t{i}", "label": f"tier {i}", "categories": cats, "rate": str(rate), "rate_type": "floor",
         "threshold": {"amount": str(amount), "currency": "USD", "comparator": comparator}, "citation": "generated"}
        for i, (amount, comparator, rate, cats) in enumerate(tiers)
    ]
    raw["cap"] = {"amount": str(cap), "currency": "CNY", "scope": "project_year", "citation": "generated"}
    raw["exclusions"] = {"categories": excluded, "codes": [], "citation": "generated"}
    raw["base"]["counts"], raw["base"]["kinds"] = list(counts), list(kinds)
    return Policy.model_validate(raw)


_CATEGORIES = ["manufacturing", "real_estate", "finance", "quasi_finance", "other"]
_tier = st.tuples(
    st.one_of(cents(1, 10**10), st.integers(1, 10**6).map(lambda n: Decimal(n) * 100)),  # thresholds, some off the grid
    st.sampled_from(["gt", "ge"]),
    st.integers(1, 1000).map(lambda n: Decimal(n) / 10_000),  # 0.01% .. 10%
    st.sampled_from([[], [], ["manufacturing"], ["other"], ["manufacturing", "other"]]),
)
# policies with one to four tiers of any thresholds, comparators, rates and categories, any cap
generated_policies = st.builds(
    _policy_from,
    st.lists(_tier, min_size=1, max_size=4),
    st.one_of(st.integers(1, 10**9).map(Decimal), cents(1, 10**11)),
    st.sampled_from([[], ["real_estate"], ["real_estate", "finance", "quasi_finance"]]),
)
# the same, and any contributions counted (equity or not) and any kinds rewarded
generated_bases = st.builds(
    _policy_from,
    st.lists(_tier, min_size=1, max_size=4),
    st.one_of(st.integers(1, 10**9).map(Decimal), cents(1, 10**11)),
    st.sampled_from([[], ["real_estate"], ["real_estate", "finance", "quasi_finance"]]),
    st.sampled_from([["equity"], ["reinvested_profit"], ["equity", "reinvested_profit"], ["reinvested_profit", "equity"]]),
    st.sampled_from([["new"], ["capital_increase"], ["new", "capital_increase"]]),
)


# --- input files as users' programs save them, and break them -----------------------------------

import encodings.aliases as _aliases  # noqa: E402

# pieces of raw CSV text: quotes anywhere (opening a cell, inside one, doubled, never closed), lone
# CRs, line ends and delimiters inside cells, blanks, and the values a row needs to be scored
RAW_PIECES = ['"', '""', ",", "\r", "\n", "\r\n", " ", "a", "中", ";", "\t", "=1"]
raw_cells = st.one_of(
    st.sampled_from(["", "P1", "2024", "new", "services", "制造业", "15000000", "7.1", 'x"y', 'ab"', '"q"z', '"q""u"',
                     "a\rb", '"a\nb"', '"a\r\nb"', '"', 'no"te']),
    st.lists(st.sampled_from(RAW_PIECES), max_size=5).map("".join),
)
# extra header cells written as they stand (a quote, a lone CR, a delimiter inside a name)
raw_header_extras = st.lists(st.sampled_from(['no"te', 'x"', '"q"x', 'a\rb', '中"文', '"quoted"', 'plain', '"a,b"', 'c""d']),
                             max_size=3)
# bytes that are not UTF-8, to paste into a UTF-8 file
stray_bytes = st.sampled_from([b"\xff", b"\xe9", b"\x80", b"\xc3", b"\xe4\xb8", b"\xfe\xfe"])
# a file's encoding (as given to --encoding; None: found by fdi), what it writes, and bytes it cannot read
foreign_encodings = st.sampled_from([(None, "gb18030"), ("gbk", "gbk"), ("gb18030", "gb18030"), ("ascii", "ascii"),
                                     ("cp1252", "cp1252")])
foreign_strays = {"gbk": [b"\xff", b"\x80\xff"], "gb18030": [b"\xff", b"\x80"], "ascii": [b"\x80", b"\xff", b"\xc3\xa9"],
                  "cp1252": [b"\x81", b"\x8d", b"\x9d"]}
# every codec Python knows by name, text encodings or not (rot13, base64, zlib, idna, punycode, EBCDIC, UTF-16 ...)
codec_names = st.sampled_from(sorted({*_aliases.aliases.values(), "rot13", "base64", "hex", "zlib", "bz2", "uu",
                                      "quopri", "idna", "punycode", "utf-16", "utf-32", "utf-7", "utf-8-sig",
                                      "no-such-codec"}))
# a ledger's project ids: blank ones, ids with spaces around them, and (None) a cell merged with the one above
ledger_ids = st.sampled_from(["a", "b", "c", "", "  ", " a ", None])
ledger_days = st.sampled_from(["2024-03-15", "2024-09-02", "2025-04-10", "0000-01-01", "0001-01-01", "9999-12-31",
                               "2024/3/15", "2024年3月15日", "", "2024-02-30", "2024-03-15T10:30:00",
                               "2024-03-15T25:00:00", "2024-03-15 23:61"])
# (spelt as sheets spell them: one kind or sector in several spellings is one value)
kinds_or_blank = st.sampled_from(["new", "New ", "capital_increase", "Capital-Increase", "增资", ""])
sectors_or_blank = st.sampled_from(["manufacturing", "Manufacturing", "services", " SERVICES ", "制造业", ""])
# a --projects file's rows: a project listed once, twice alike, twice differently, or not at all
projects_rows = st.lists(st.tuples(st.sampled_from(["a", "b", "c"]), kinds_or_blank, sectors_or_blank), max_size=6)
# a JSON Lines line: an object, one nested deeper than a reader's stack, not an object, not JSON
json_depths = st.one_of(st.integers(0, 5), st.sampled_from([999, 1000, 5000, 100_000]))


# --- random policies (tiers, cap, rounding) within the schema, and rows to score under them ---
# Most are valid; one value in three policies is one the engines cannot apply (validation must refuse it).

valid_money = st.one_of(
    st.sampled_from(["10000000", "30000000", "1", "0.01", "1E+7", "5000000.5", "99999999999999.99", "34722222.22"]),
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal(10**14) - CENT, places=2).map(str),
)
bad_money = st.sampled_from(["1e40", "1" + "0" * 100, "0", "-1", "0.001", "1e-100", "100000000000000", "1e-30"])
valid_rates = st.one_of(st.sampled_from(["0.00000001", "1", "0.02", "0.04", "2E-2"]),
                        st.integers(1, 10**8).map(lambda n: str(Decimal(n).scaleb(-8))))
bad_rates = st.sampled_from(["1e-30", "1.5", "0.020000001", "0", "-0.02"])
valid_quanta = st.sampled_from(["0.01", "0.1", "1", "10", "100", "1000", "10000", "1E+2", "0.010"])
bad_quanta = st.sampled_from(["0.03", "0.001", "1e-100", "100000", "5", "0.25", "1e40"])


@st.composite
def policy_edits(draw):
    bad = draw(st.sampled_from([None] * 8 + ["threshold", "rate", "cap", "quantum"]))
    tiers = draw(st.lists(st.tuples(st.sampled_from([[], ["manufacturing"], ["other"]]), valid_money,
                                    st.sampled_from(["gt", "ge"]), valid_rates), min_size=1, max_size=4))
    if bad in ("threshold", "rate"):
        i = draw(st.integers(0, len(tiers) - 1))
        cats, amount, cmp, rate = tiers[i]
        tiers[i] = (cats, draw(bad_money), cmp, rate) if bad == "threshold" else (cats, amount, cmp, draw(bad_rates))
    return {"tiers": tiers, "cap": draw(bad_money) if bad == "cap" else draw(st.one_of(st.none(), valid_money)),
            "quantum": draw(bad_quanta if bad == "quantum" else valid_quanta),
            "mode": draw(st.sampled_from(["half_up", "half_even", "down", "up"]))}


# (USD amount, CNY per USD) of a row scored under such a policy
policy_rows = st.lists(st.tuples(st.one_of(near_edges, cents(0, 10**16 - 1)).map(str), fx_rates.map(str)), min_size=1, max_size=5)


# --- junk for one argument of a library call (the API must refuse it with an FdiError, or use it) ---

junk_values = st.one_of(
    st.sampled_from([None, True, 0, -1, 2024, 7.1, 30000000.0, float("nan"), float("inf"), Decimal("NaN"),
                     Decimal("sNaN"), Decimal("-1"), Decimal("1e30"), Decimal("0.001"), Decimal(0), "", "x",
                     "2024", "30000000", "7.1", "1e999999", [], [2024], ["2024"], [2024, 2024], {}, {2024: 1},
                     {"x": "y"}, object(), b"7.1", ("2024",)]),
    number_texts, year_texts, st.floats(allow_nan=True), st.integers(-10**20, 10**20),
    st.decimals(allow_nan=True, allow_infinity=True),
)


# --- a project file with one thing wrong somewhere (a value of any type, a key too many or missing) ---

# (no English words among them: a message quoting one back must still read as Chinese under --lang zh)
json_junk = st.one_of(
    st.sampled_from([None, True, False, 0, -5, 1800, 1.5, "", "x", "2024-13-45", "2024-01-01T10:00:00", "2024-02-30",
                     "合资", "礼物", "-5", "1e40", "0.001", [], [1, 2], {}, {"a": 1}, [{"year": 2024}]]),
    st.text(alphabet="0123456789-.,:T 中文年月日", max_size=20), st.integers(-10**20, 10**20),
    st.dates(), st.decimals(allow_nan=False, allow_infinity=False, places=3),
)
_PROJECT_KEYS = ["id", "name", "kind", "sector", "industry_code", "arrivals"]
_ARRIVAL_KEYS = ["date", "year", "amount", "currency", "type"]


@st.composite
def broken_projects(draw):
    """(a project as a parsed JSON or TOML file holds it, the place of what was changed in it)."""
    arrival = {"date": "2024-03-15", "amount": "1000", "currency": "USD", "type": "equity"}
    doc = {"id": "P1", "kind": "new", "sector": "services", "arrivals": [arrival, dict(arrival, date="2025-01-02")]}
    inside = draw(st.booleans())
    table, keys, place = (doc["arrivals"][1], _ARRIVAL_KEYS, "arrivals[1].") if inside else (doc, _PROJECT_KEYS, "")
    key, how = draw(st.sampled_from(keys + ["extra"])), draw(st.sampled_from(["junk", "junk", "drop"]))
    if how == "drop" and key in table:
        del table[key]
    else:
        table[key] = draw(json_junk)
    return doc, place + key
