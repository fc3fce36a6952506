"""A few places, for the SQL's tests of the new shapes where `fdi_incentive.places` (the resolver
over a package of administrative divisions) is not installed: the same interface (`Place`,
`resolve`, `name_of`, `names`, `PLACE_WORDS`, `CODE_WORDS`), over the places the tests name.

`names()` gives every name `resolve` reads in the form the SQL looks it up in: without blanks,
full-width letters and digits as ASCII, an English name in lower case, letters only."""

from __future__ import annotations

import re
import sys
import types
from dataclasses import dataclass

from fdi_incentive.errors import InputError

PLACE_WORDS = "a place in China: a GB/T 2260 code of six digits (370100), or its Chinese name (济南, 山东省济南市)"
CODE_WORDS = "the GB/T 2260 code of a current division: six digits, such as 370100"


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    province: str
    city: str | None
    district: str | None

    def within(self, code: str) -> bool:
        return code in (self.code, self.province, self.city)


# code: (full name, its own names as written, English name)
_TREE = {
    "500000": ("重庆市", ["重庆市", "重庆"], "chongqing"),
    "500151": ("重庆市铜梁区", ["铜梁区", "铜梁", "重庆铜梁", "重庆市铜梁区"], None),
    "500101": ("重庆市万州区", ["万州区", "万州"], None),
    "440000": ("广东省", ["广东省", "广东"], "guangdong"),
    "440100": ("广东省广州市", ["广州市", "广州"], "guangzhou"),
    "440103": ("广东省广州市荔湾区", ["荔湾区", "荔湾"], None),
    "440600": ("广东省佛山市", ["佛山市", "佛山"], "foshan"),
    "440604": ("广东省佛山市禅城区", ["禅城区", "禅城"], None),
    "441400": ("广东省梅州市", ["梅州市", "梅州"], "meizhou"),
    "441402": ("广东省梅州市梅江区", ["梅江区"], None),
    "370000": ("山东省", ["山东省", "山东"], "shandong"),
    "370100": ("山东省济南市", ["济南市", "济南", "山东济南", "山东省济南市"], "jinan"),
    "370102": ("山东省济南市历下区", ["历下区", "历下"], None),
    "370200": ("山东省青岛市", ["青岛市", "青岛"], "qingdao"),
    "370202": ("山东省青岛市市南区", ["市南区"], None),
    "110000": ("北京市", ["北京市", "北京"], "beijing"),
    "110105": ("北京市朝阳区", ["北京朝阳"], None),
    "220104": ("吉林省长春市朝阳区", ["长春朝阳"], None),
}
_AMBIGUOUS = {"朝阳区": ["110105", "220104"], "朝阳": ["110105", "220104"]}


def _place(code: str) -> Place:
    name = _TREE[code][0]
    province = code[:2] + "0000"
    municipality = province in ("110000", "500000")
    if code == province:
        return Place(code, name, code, code if municipality else None, None)
    if code.endswith("00"):
        return Place(code, name, province, code, None)
    return Place(code, name, province, province if municipality else code[:4] + "00", code)


def _ambiguous_words(codes: list[str]) -> str:
    shown = ", ".join(f"{_TREE[c][0]} ({c})" for c in codes)
    return f"one place; it names {len(codes)}: {shown}; add its province or city, or give its code"


def names():
    for code, (_, own, english) in _TREE.items():
        for n in own:
            yield n, code, None
        if english:
            yield english, code, None
    for n, codes in _AMBIGUOUS.items():
        yield n, None, _ambiguous_words(codes)


_WIDE = {c: chr(ord(c) - 0xFEE0) for c in map(chr, [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)])}


def _key(text: str) -> str:
    written = "".join(_WIDE.get(c, c) for c in re.sub(r"\s+", "", text))
    if re.fullmatch(r"[A-Za-z][A-Za-z.'’-]*", written):
        return re.sub(r"[^a-z]", "", written.lower())
    return written


def resolve(text: str, field: str = "location") -> Place:
    key = _key(str(text))
    if key in _TREE:
        return _place(key)
    found = {n: (c, e) for n, c, e in names()}.get(key)
    if found is None:
        raise InputError(field, text, CODE_WORDS if re.fullmatch(r"[0-9]+", key) else PLACE_WORDS)
    code, error = found
    if error:
        raise InputError(field, text, error)
    return _place(code)


def name_of(code: str) -> str:
    if code not in _TREE:
        raise InputError("code", code, CODE_WORDS)
    return _TREE[code][0]


def install() -> bool:
    """Put this module in the place of `fdi_incentive.places` where that is missing (or has no `names`):
    whether it did."""
    try:
        from fdi_incentive import places

        if hasattr(places, "names"):
            return False
    except ImportError:
        pass
    module = types.ModuleType("fdi_incentive.places")
    for name in ("Place", "resolve", "name_of", "names", "PLACE_WORDS", "CODE_WORDS"):
        setattr(module, name, globals()[name])
    sys.modules["fdi_incentive.places"] = module
    import fdi_incentive

    fdi_incentive.places = module  # type: ignore[attr-defined]
    return True
