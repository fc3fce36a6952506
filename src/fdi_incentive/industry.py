"""GB/T 4754-2017 codes and sector names -> the categories a reward policy speaks of.

Knows the classification, not any policy: manufacturing is section C, finance
section J, real estate section K (docs/policy.md §5). Quasi-finance (类金融) has no
code of its own; the codes where it usually sits are listed below.
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from .errors import InputError
from .i18n import N_, _, pick

CATEGORIES = ("manufacturing", "real_estate", "finance", "quasi_finance", "other")

# Sector names a user may give, normalised (lower case, '_' for '-' and spaces).
SECTOR_NAMES: dict[str, str] = {
    "manufacturing": "manufacturing",
    "services": "other",
    "other": "other",
    "real_estate": "real_estate",
    "finance": "finance",
    "quasi_finance": "quasi_finance",
    # The six manufacturing industries of the 2023 matchmaking event (iChongqing, 2023-11-21).
    "electronics": "manufacturing",
    "equipment": "manufacturing",
    "automobile": "manufacturing",
    "materials": "manufacturing",
    "consumer_goods": "manufacturing",
    "pharmaceutical": "manufacturing",
    # Chinese names as they appear in bureau spreadsheets (besides GB/T 4754's own: 制造业, 房地产业, 金融业).
    "服务业": "other",
    "其他": "other",
    "房地产": "real_estate",
    "金融": "finance",
    "类金融": "quasi_finance",
    "类金融业": "quasi_finance",
    # Chongqing's six manufacturing industries as the iChongqing article names them (docs/policy.md §5).
    "电子信息": "manufacturing",
    "汽车": "manufacturing",
    "装备": "manufacturing",
    "装备制造": "manufacturing",
    "材料": "manufacturing",
    "消费品": "manufacturing",
    "医药": "manufacturing",
}
# Every section and division name of GB/T 4754-2017 in Chinese is a sector too (`gbt_names`).

PUBLIC_SECTOR_NAMES = (
    "manufacturing", "services", "real-estate", "finance", "quasi-finance", "other",
    "electronics", "equipment", "automobile", "materials", "consumer-goods", "pharmaceutical",
)

# Classes where the "7+4" local financial organisations sit (docs/policy.md §5; our mapping, no source lists codes).
QUASI_FINANCE_CLASSES = {"6631", "6633", "6635", "6639", "6999", "7212", "7296"}
# A class that holds quasi-finance business among other things: the code cannot decide.
AMBIGUOUS_CLASSES = {
    "7299": N_("7299 (other business services) includes commercial factoring, which is quasi-finance; "
               "the code alone cannot decide, so give the sector explicitly if this project is factoring"),
}
SECTION_CATEGORY = {"C": "manufacturing", "J": "finance", "K": "real_estate"}

_CODE = re.compile(r"^([A-T])?(\d{2,4})?$")


@cache
def divisions() -> dict[str, tuple[str, str, str]]:
    """Division (two digits) -> (section letter, Chinese name, English name)."""
    text = resources.files(__package__).joinpath("data/gbt4754-divisions.csv").read_text(encoding="utf-8")
    return {r["division"]: (r["section"], r["name_zh"], r["name_en"]) for r in csv.DictReader(text.splitlines())}


@cache
def section_names() -> dict[str, tuple[str, str]]:
    """Section letter -> (Chinese name, English name)."""
    text = resources.files(__package__).joinpath("data/gbt4754-sections.csv").read_text(encoding="utf-8")
    return {r["section"]: (r["name_zh"], r["name_en"]) for r in csv.DictReader(text.splitlines())}


@cache
def sections() -> frozenset[str]:
    return frozenset(s for s, _, _ in divisions().values())


def _zh_key(value: str) -> str:
    """A Chinese name as compared: no spaces, no enumeration commas (农林牧渔业 = 农、林、牧、渔业)."""
    return re.sub(r"[\s、,，]+", "", value)


@cache
def gbt_names() -> dict[str, str]:
    """Every section and division name of GB/T 4754-2017 in Chinese (as `_zh_key` compares them) ->
    its code ("F", "C36"). Where a section and its one division share a name (房地产业, 教育), the division."""
    names = {_zh_key(zh): letter for letter, (zh, _) in section_names().items()}
    names |= {_zh_key(zh): letter + div for div, (letter, zh, _) in divisions().items()}
    return names


def describe_code(code: str) -> str:
    """A normalised code named by what it is: its level and the name of the nearest level whose
    name we know (sections and divisions): 'section C (制造业)', 'division 36 (汽车制造业)',
    'class C3670, in division 36 (汽车制造业)' (never a class called by its division's name)."""
    letter, digits = code[0], code[1:]
    if not digits:
        return _("section {letter} ({name})").format(letter=letter, name=section_names()[letter][0])
    division = _("division {division} ({name})").format(division=digits[:2], name=divisions()[digits[:2]][1])
    if len(digits) == 2:
        return division
    return (_("group {code}, in {division}") if len(digits) == 3 else _("class {code}, in {division}")).format(
        code=code, division=division)


def _category_name(category: str) -> str:
    from .policy import category_name  # (policy's names of the categories, in the current language)

    return category_name(category)


def category_label(category: str) -> str:
    """A category as every message spells it, the way `--sector` takes it: quasi-finance, real-estate."""
    return category.replace("_", "-")


def normalise_name(value: str) -> str:
    return re.sub(r"[\s\-_]+", "_", value.strip().lower())


@dataclass(frozen=True)
class Classification:
    """What a project's sector or code means for a policy, and how we decided."""

    category: str
    code: str | None = None          # normalised GB/T code with its section letter, e.g. "C3670"
    sector: str | None = None        # the sector name as the user meant it, e.g. "electronics"
    basis: str = ""
    notes: tuple[str, ...] = field(default=())


def normalise_code(value: str) -> tuple[str, str]:
    """'c3670', '3670', 'C 36' -> ('C3670', 'C'); raise InputError for anything not GB/T 4754-2017."""
    raw = re.sub(r"[\s.\-]", "", str(value)).upper()
    m = _CODE.match(raw)
    if not raw or not m or (len(raw) == 1 and not m.group(1)):
        raise InputError("industry_code", value, _("a GB/T 4754-2017 code such as C, 36, C3670, K7010 or 7212"))
    letter, digits = m.group(1), m.group(2) or ""
    if letter and letter not in sections():
        raise InputError("industry_code", value, _("a section letter from {first} to {last}").format(
            first=min(sections()), last=max(sections())))
    if digits:
        div = divisions().get(digits[:2])
        if div is None:
            raise InputError("industry_code", value, _("a code whose first two digits are a GB/T 4754-2017 division (01-97)"))
        if letter and letter != div[0]:
            raise InputError(
                "industry_code", value, _("division {division} ({name}) to sit in section {section}, not {letter}").format(
                    division=digits[:2], name=pick(div[2], div[1]), section=div[0], letter=letter)
            )
        letter = div[0]
    return letter + digits, letter


def category_of_code(code: str) -> tuple[str, tuple[str, ...]]:
    """The category a normalised code falls in, with any note about how sure that is."""
    letter, digits = code[0], code[1:]
    if digits[:4] in QUASI_FINANCE_CLASSES and len(digits) == 4:
        return "quasi_finance", (_("{code}: class {digits} is where quasi-finance (类金融) organisations sit").format(code=code, digits=digits),)
    if digits[:4] in AMBIGUOUS_CLASSES and len(digits) == 4:
        return SECTION_CATEGORY.get(letter, "other"), (_(AMBIGUOUS_CLASSES[digits[:4]]),)
    return SECTION_CATEGORY.get(letter, "other"), ()


def sector_meaning(sector: str) -> tuple[str, str | None] | None:
    """What a sector name means: (category, the GB/T code it names, if it is a section or division
    name), or None for a name we do not know."""
    category = SECTOR_NAMES.get(normalise_name(sector))
    if category is not None:
        return category, None
    code = gbt_names().get(_zh_key(sector))
    if code is not None:
        return category_of_code(code)[0], code
    return None


def known_names() -> list[str]:
    """Every sector name a user may give, as they would write it."""
    return list(PUBLIC_SECTOR_NAMES) + [n for n in SECTOR_NAMES if not n.isascii()] + \
        [zh for zh, _ in section_names().values()] + [zh for _, zh, _ in divisions().values()]


NAME_AT_MOST = 200  # characters: a longer text is near no known name


def nearest_names(sector: str, n: int = 3) -> list[str]:
    """The known sector names closest to an unknown one, best first: those difflib finds alike,
    and the Chinese names the unknown one contains or is part of (汽车零部件 -> 汽车)."""
    if len(sector) > NAME_AT_MOST:  # (no known name is near it; and difflib's time grows with its length)
        return []
    names = list(dict.fromkeys(known_names()))
    key = normalise_name(sector)

    def likeness(name: str) -> float:
        return difflib.SequenceMatcher(None, key, normalise_name(name)).ratio()

    near = [name for name in names if likeness(name) >= 0.5
            or (not name.isascii() and len(name) >= 2 and (name in sector or sector in name))]
    return sorted(near, key=likeness, reverse=True)[:n]


class UnknownSector(InputError):
    """A sector name we do not know, given without an industry code."""


def unknown_sector(sector: str, suggest: bool = True) -> UnknownSector:
    """The error of an unknown name: naming the nearest known names (``suggest``), or in the words
    the compiled SQL writes of every unknown name (a batch's cells; its summary names the nearest)."""
    near = nearest_names(sector) if suggest else []
    if near:
        return UnknownSector("sector", sector, _("a sector name we know; nearest: {near} "
                                                 "(or give the 行业代码, the GB/T 4754-2017 industry code)").format(near=", ".join(near)))
    return UnknownSector("sector", sector, _(UNKNOWN_SECTOR).format(names=", ".join(PUBLIC_SECTOR_NAMES[:5])))


# what an unknown sector name with no near known name is told; the compiled SQL says it (in English,
# its cells are machine-facing) of every unknown name, see `unknown_sector_text`
UNKNOWN_SECTOR = N_("a sector such as {names}, one of Chongqing's six industries (电子信息, 汽车, 装备, 材料, "
                    "消费品, 医药), a GB/T 4754-2017 section or division name (制造业, 批发和零售业, "
                    "汽车制造业 …), or the 行业代码 (industry code)")


def unknown_sector_text() -> str:
    """`UNKNOWN_SECTOR` in English, its names filled in (the text the compiled SQL writes)."""
    return UNKNOWN_SECTOR.format(names=", ".join(PUBLIC_SECTOR_NAMES[:5]))


def classify(sector: str | None = None, industry_code: str | None = None, *, suggest: bool = True) -> Classification:
    """Decide the category from a sector name, a GB/T code, or both (which must agree).

    A sector name we do not know, given with a valid code: the code decides, and a note says so;
    given alone, it is an `UnknownSector` error, naming the nearest known names when ``suggest``."""
    sector = sector.strip() if isinstance(sector, str) and sector.strip() else None
    industry_code = str(industry_code).strip() if industry_code is not None and str(industry_code).strip() else None
    if sector is None and industry_code is None:
        expected = _("a sector name or a GB/T 4754-2017 industry code")
        raise InputError("sector", None, expected, _("sector: missing; expected {expected}").format(expected=expected))
    meaning = sector_meaning(sector) if sector is not None else None
    if sector is not None and meaning is None and industry_code is None:
        raise unknown_sector(sector, suggest)
    if industry_code is None:
        by_name, named = meaning  # type: ignore[misc]
        basis = (_("sector '{sector}', GB/T 4754-2017 {code}").format(sector=sector, code=describe_code(named)) if named
                 else _("sector '{sector}'").format(sector=sector))
        return Classification(category=by_name, code=named, sector=sector, basis=basis)
    code, letter = normalise_code(industry_code)
    by_code, notes = category_of_code(code)
    label = f"GB/T 4754-2017 {describe_code(code)}"
    if meaning is None:
        if sector is not None:
            notes = (_("sector '{sector}' is not a sector name we know: the industry code {code} decides").format(sector=sector, code=code),
                     *notes)
        return Classification(category=by_code, code=code, basis=label, notes=notes)
    by_name = meaning[0]
    ambiguous = code[1:5] in AMBIGUOUS_CLASSES
    category = combine(by_name, by_code, ambiguous)
    if category is None:
        raise InputError(
            "sector", sector, _("a sector that agrees with industry code {code} ({category})").format(code=code, category=_category_name(by_code))
        )
    if ambiguous:
        notes = (_("the sector given ('{sector}') decides: {note}").format(sector=sector, note=_(AMBIGUOUS_CLASSES[code[1:5]])),)
    return Classification(category=category, code=code, sector=sector, basis=_("sector '{sector}' and {code}").format(sector=sector, code=label),
                          notes=notes)


def combine(by_name: str, by_code: str, ambiguous: bool) -> str | None:
    """The category when both a sector and a code are given, or None when they contradict each other.

    The sector wins where the code cannot decide (7299); finance and quasi-finance
    sit in the same section and are accepted together.
    """
    if by_name == by_code or ambiguous or {by_name, by_code} <= {"finance", "quasi_finance"}:
        return by_name
    return None
