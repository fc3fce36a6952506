"""GB/T 4754-2017 codes and sector names -> the categories a reward policy speaks of.

Knows the classification, not any policy: manufacturing is section C, finance
section J, real estate section K (docs/policy.md §5). Quasi-finance (类金融) has no
code of its own; the codes where it usually sits are listed below.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from .errors import InputError

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
    # Chinese names as they appear in bureau spreadsheets.
    "制造业": "manufacturing",
    "服务业": "other",
    "其他": "other",
    "房地产业": "real_estate",
    "房地产": "real_estate",
    "金融业": "finance",
    "金融": "finance",
    "类金融": "quasi_finance",
    "类金融业": "quasi_finance",
}

PUBLIC_SECTOR_NAMES = (
    "manufacturing", "services", "real-estate", "finance", "quasi-finance", "other",
    "electronics", "equipment", "automobile", "materials", "consumer-goods", "pharmaceutical",
)

# Classes where the "7+4" local financial organisations sit (docs/policy.md §5; our mapping, no source lists codes).
QUASI_FINANCE_CLASSES = {"6631", "6633", "6635", "6639", "6999", "7212", "7296"}
# A class that holds quasi-finance business among other things: the code cannot decide.
AMBIGUOUS_CLASSES = {
    "7299": "7299 (other business services) includes commercial factoring, which is quasi-finance; "
    "the code alone cannot decide, so give the sector explicitly if this project is factoring",
}
SECTION_CATEGORY = {"C": "manufacturing", "J": "finance", "K": "real_estate"}

_CODE = re.compile(r"^([A-T])?(\d{2,4})?$")


@cache
def divisions() -> dict[str, tuple[str, str, str]]:
    """Division (two digits) -> (section letter, Chinese name, English name)."""
    text = resources.files(__package__).joinpath("data/gbt4754-divisions.csv").read_text(encoding="utf-8")
    return {r["division"]: (r["section"], r["name_zh"], r["name_en"]) for r in csv.DictReader(text.splitlines())}


@cache
def sections() -> frozenset[str]:
    return frozenset(s for s, _, _ in divisions().values())


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
        raise InputError("industry_code", value, "a GB/T 4754-2017 code such as C, 36, C3670, K7010 or 7212")
    letter, digits = m.group(1), m.group(2) or ""
    if letter and letter not in sections():
        raise InputError("industry_code", value, f"a section letter from {min(sections())} to {max(sections())}")
    if digits:
        div = divisions().get(digits[:2])
        if div is None:
            raise InputError("industry_code", value, "a code whose first two digits are a GB/T 4754-2017 division (01-97)")
        if letter and letter != div[0]:
            raise InputError(
                "industry_code", value, f"division {digits[:2]} ({div[2]}) to sit in section {div[0]}, not {letter}"
            )
        letter = div[0]
    return letter + digits, letter


def category_of_code(code: str) -> tuple[str, tuple[str, ...]]:
    """The category a normalised code falls in, with any note about how sure that is."""
    letter, digits = code[0], code[1:]
    if digits[:4] in QUASI_FINANCE_CLASSES and len(digits) == 4:
        return "quasi_finance", (f"{code}: class {digits} is where quasi-finance (类金融) organisations sit",)
    if digits[:4] in AMBIGUOUS_CLASSES and len(digits) == 4:
        return SECTION_CATEGORY.get(letter, "other"), (AMBIGUOUS_CLASSES[digits[:4]],)
    return SECTION_CATEGORY.get(letter, "other"), ()


def classify(sector: str | None = None, industry_code: str | None = None) -> Classification:
    """Decide the category from a sector name, a GB/T code, or both (which must agree)."""
    sector = sector.strip() if isinstance(sector, str) and sector.strip() else None
    industry_code = str(industry_code).strip() if industry_code is not None and str(industry_code).strip() else None
    if sector is None and industry_code is None:
        raise InputError("sector", None, "a sector name or a GB/T 4754-2017 industry code")
    by_name = None
    if sector is not None:
        by_name = SECTOR_NAMES.get(normalise_name(sector))
        if by_name is None:
            raise InputError("sector", sector, "one of " + ", ".join(PUBLIC_SECTOR_NAMES))
    if industry_code is None:
        return Classification(category=by_name, sector=normalise_name(sector), basis=f"sector '{sector}'")
    code, letter = normalise_code(industry_code)
    by_code, notes = category_of_code(code)
    div = divisions().get(code[1:3])
    label = f"GB/T 4754-2017 {code}" + (f" ({div[2]})" if div else "")
    if by_name is None:
        return Classification(category=by_code, code=code, basis=label, notes=notes)
    ambiguous = code[1:5] in AMBIGUOUS_CLASSES
    category = combine(by_name, by_code, ambiguous)
    if category is None:
        raise InputError(
            "sector", sector, f"a sector that agrees with industry code {code} ({by_code.replace('_', ' ')})"
        )
    if ambiguous:
        notes = (f"the sector given ('{sector}') decides: {AMBIGUOUS_CLASSES[code[1:5]]}",)
    return Classification(
        category=category, code=code, sector=normalise_name(sector), basis=f"sector '{sector}' and {label}", notes=notes
    )


def combine(by_name: str, by_code: str, ambiguous: bool) -> str | None:
    """The category when both a sector and a code are given, or None when they contradict each other.

    The sector wins where the code cannot decide (7299); finance and quasi-finance
    sit in the same section and are accepted together.
    """
    if by_name == by_code or ambiguous or {by_name, by_code} <= {"finance", "quasi_finance"}:
        return by_name
    return None
