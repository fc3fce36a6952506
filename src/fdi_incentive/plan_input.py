"""Reading plan()'s arguments: each through the one parser of its kind (money.py), as the CLI reads
its options, so the library and `fdi plan` accept and refuse alike; bad input is an InputError
naming the argument."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from .errors import InputError
from .i18n import N_, _
from .money import NO_FLOATS, parse_amount, parse_rate, parse_year

MAX_YEARS = 30
YEARS_WORDS = N_("a range such as 2024-2026 or a list such as 2024,2025,2027 of years from 1900 to 2200")


def parse_years(text: str, field: str = "--years") -> list[int]:
    """'2024-2026' or '2024,2025,2027' (each year as `money.parse_year` reads one: 2024年 too)."""
    try:
        if "-" in text and "," not in text:
            a, b = (parse_year(x, field) for x in text.split("-"))
            return check_years(list(range(a, b + 1)), field, text)
        years = [parse_year(x, field) for x in text.split(",") if x.strip()]
    except (ValueError, InputError):
        raise InputError(field, text, _(YEARS_WORDS)) from None
    return check_years(years, field, text)


def check_years(years: list[int], field: str, given: object) -> list[int]:
    """The years in calendar order: 1 to MAX_YEARS of them, each once (a year listed twice is a mistake)."""
    twice = sorted({y for y in years if years.count(y) > 1})
    if twice:
        raise InputError(field, given, _("each year once: {years} given twice").format(years=", ".join(map(str, twice))))
    if not years or len(years) > MAX_YEARS:
        raise InputError(field, given, _("between 1 and {most} calendar years, first to last").format(most=MAX_YEARS))
    return sorted(years)


def read_years(years: object) -> list[int]:
    """plan()'s ``years``: a list of years (ints, or text as `parse_year` reads it), or one text as --years takes."""
    if isinstance(years, str):
        return parse_years(years, "years")
    if not isinstance(years, (list, tuple, range, set, frozenset)):
        raise InputError("years", years, _("a list of calendar years such as [2024, 2025], or {words}").format(words=_(YEARS_WORDS)))
    return check_years([parse_year(y, "years") for y in years], "years", years)


def read_fixed(fixed: object) -> dict[int, Decimal]:
    """plan()'s ``fixed``: {year: amount}, each read by the one parser of its kind, each year once."""
    if fixed is None:
        return {}
    if not isinstance(fixed, Mapping):
        raise InputError("fixed", fixed, _("a dict of year to amount such as {example}").format(example="{2024: Decimal('15000000')}"))
    out: dict[int, Decimal] = {}
    for year, amount in fixed.items():
        y = parse_year(year, "fixed")
        if y in out:
            raise InputError("fixed", fixed, _("each year once: {years} given twice").format(years=y))
        out[y] = parse_amount(amount, "fixed")
    return out


def read_text(value: object, field: str, expected: str, *, optional: bool = True) -> str | None:
    """A name given as text (sector, code, kind); a float is refused with the one message."""
    if value is None and optional:
        return None
    if isinstance(value, float):
        raise InputError(field, value, f"{_(expected)}; {_(NO_FLOATS)}")
    if not isinstance(value, str):
        raise InputError(field, value, _(expected))
    return value


def read_plan_args(total_usd: object, years: object, *, fx_assume: object, min_per_year: object,
                   max_per_year: object, fixed: object, step: object) -> dict:
    """The numbers of a plan, read as the CLI reads its options."""
    step_ = parse_amount(step, "step")
    if step_ <= 0:
        raise InputError("step", step, _("a positive amount such as 0.01 or 1000000"))
    return dict(
        total_usd=parse_amount(total_usd, "total_usd"), years=read_years(years), step=step_,
        fx_assume=parse_rate(fx_assume, "fx_assume") if fx_assume is not None else None,
        min_per_year=parse_amount(min_per_year, "min_per_year"),
        max_per_year=parse_amount(max_per_year, "max_per_year") if max_per_year is not None else None,
        fixed=read_fixed(fixed),
    )
