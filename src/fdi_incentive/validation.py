"""pydantic's validation errors said in our own words, in the language of the interface.

A project file and a policy file are validated by pydantic models (`models`, `policy`). Each of
pydantic's errors is said here by its type (``missing``, ``string_type``, ``less_than_equal`` ...)
with its context, naming where in the file it is (``arrivals[0].amount``, as the user wrote the
keys) and quoting the bad value briefly, never the whole file. pydantic's English is never shown:
a type not said here is named by its type id, with pydantic's words in English only.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError

from .i18n import N_, _, get_language

MAX_ERRORS = 20  # problems named in one error (the rest are counted)


class Expected(ValueError):
    """Raised by a field's validator: the value is not one the field takes; ``expected`` says what
    is (already in the language of the interface). Said as "{where}: {value} is not valid; expected ..."."""

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


def either(values: list[str]) -> str:
    """'a', 'b' or 'c' in the language of the interface."""
    if len(values) < 2:
        return "".join(values)
    return _("{some} or {last}").format(some=_(", ").join(values[:-1]), last=values[-1])


# what a value of each type of pydantic's errors should have been (`_()` them to show them)
_EXPECTED = {
    "string_type": N_("text in quotes"),
    "string_unicode": N_("text in quotes"),
    "int_type": N_("a whole number"), "int_parsing": N_("a whole number"), "int_from_float": N_("a whole number"),
    "float_type": N_("a number"), "float_parsing": N_("a number"),
    "decimal_type": N_("a number"), "decimal_parsing": N_("a number"),
    "finite_number": N_("a finite number"),
    "bool_type": N_("true or false"), "bool_parsing": N_("true or false"),
    "list_type": N_("a list"), "tuple_type": N_("a list"), "set_type": N_("a list"),
    "dict_type": N_("a table of keys and values"), "model_type": N_("a table of keys and values"),
    "model_attributes_type": N_("a table of keys and values"),
}
_DATE = N_("a date written YYYY-MM-DD, such as 2024-03-15")
_BOUNDS = {"greater_than": ("gt", N_("a number above {bound}")), "greater_than_equal": ("ge", N_("a number of at least {bound}")),
           "less_than": ("lt", N_("a number below {bound}")), "less_than_equal": ("le", N_("a number of at most {bound}")),
           "multiple_of": ("multiple_of", N_("a multiple of {bound}"))}


def shown(value: Any) -> str:
    """A value as a message quotes it: text in quotes, a date or number as written, a list or
    table as JSON; at most `text.QUOTED_AT_MOST` characters of it."""
    from .text import QUOTED_AT_MOST, quoted

    if isinstance(value, str):
        return quoted(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float, Decimal)):
        text = str(value)
    elif isinstance(value, (dt.date, dt.time)):
        text = value.isoformat()
    elif isinstance(value, (list, tuple, dict)):
        import json

        text = json.dumps(value, ensure_ascii=False, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v))
    else:
        return quoted(value)
    return text if len(text) <= QUOTED_AT_MOST else _("{text}… ({count} more characters)").format(
        text=text[:QUOTED_AT_MOST], count=f"{len(text) - QUOTED_AT_MOST:,}")


def where(loc: tuple[Any, ...]) -> str:
    """``arrivals[0].amount``: a place in a file, by its keys as written."""
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in loc).replace(".[", "[")


def _bound(value: Any) -> str:
    """A bound as it is written: 1, 0.5, 100000000000000 (pydantic may give a Decimal's repr)."""
    text = format(value, "f") if isinstance(value, Decimal) else str(value)
    return re.sub(r"Decimal\('([^']*)'\)", r"\1", text)


def _literals(expected: str) -> list[str]:
    """pydantic's ``'a', 'b' or 'c'`` (a literal's or an enum's values) as a list."""
    return re.split(r", | or ", expected)


def _expected(err: dict[str, Any]) -> str | None:
    """What the value should have been, for an error of a type that names one; None for others."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind in _EXPECTED:
        return _(_EXPECTED[kind])
    if kind.startswith("date_") or kind.startswith("datetime_"):
        return _(_DATE)
    if kind in _BOUNDS:
        key, words = _BOUNDS[kind]
        return _(words).format(bound=_bound(ctx.get(key)))
    if kind in ("literal_error", "enum"):
        return either(_literals(str(ctx.get("expected", ""))))
    if kind == "string_too_short":
        least = ctx.get("min_length", 1)
        return _("text that is not empty") if least == 1 else _("text of at least {least} characters").format(least=f"{least:,}")
    if kind == "string_pattern_mismatch":
        return _("text matching the pattern {pattern}").format(pattern=ctx.get("pattern"))
    if kind == "decimal_max_places":
        return _("a number with at most {places} decimals").format(places=ctx.get("decimal_places"))
    return None


def _invalid(place: str, value: Any, expected: str) -> str:
    if place:
        return _("{field}: {value} is not valid; expected {expected}").format(field=place, value=shown(value), expected=expected)
    return _("{value} is not valid; expected {expected}").format(value=shown(value), expected=expected)


def allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    """The keys a model accepts at ``loc`` (the parent of an unknown key), for error messages."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = next((f for n, f in current.model_fields.items() if (f.alias or n) == part), None)
        if field is None:
            return None
        current = field.annotation
        for _unwrap in range(3):  # list[X] and X | None
            args = getattr(current, "__args__", None)
            if not args:
                break
            current = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), args[0])
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return None


def problem(err: dict[str, Any], model: type[BaseModel] | None = None) -> tuple[str, str | None]:
    """One of pydantic's errors as one line: where, what is wrong, what to write instead; and
    what was expected (None where the line says something else)."""
    loc, kind, ctx = tuple(err["loc"]), err["type"], err.get("ctx") or {}
    place, value = where(loc), err.get("input")
    cause = ctx.get("error")
    if isinstance(cause, Expected):
        return _invalid(place, value, cause.expected), cause.expected
    from .errors import InputError

    if isinstance(cause, InputError):  # (one of our parsers: its value and what it expects, at this place)
        return _invalid(place or cause.field, cause.value, cause.expected), cause.expected
    if kind in ("value_error", "assertion_error"):  # (a model's own check: its message says what is wrong)
        said = str(cause)
        if not place:
            return said, None
        if isinstance(value, (dict, list, tuple)):  # (a table's check: the table is not quoted back)
            return _("{where}: {problem}").format(where=place, problem=said), None
        return _("{where}: {problem} (got {value})").format(where=place, problem=said, value=shown(value)), None
    if kind == "missing":
        return _("{where}: required key is missing").format(where=place), None
    if kind == "extra_forbidden":
        allowed = allowed_keys(model, loc[:-1]) if model is not None else None
        hint = _("; allowed keys here: {keys}").format(keys=_(", ").join(allowed)) if allowed else ""
        return _("{where}: unknown key{hint}").format(where=place, hint=hint), None
    if kind == "too_long":
        what = loc[-1] if loc and isinstance(loc[-1], str) else _("items")
        return _("{where}: at most {most} {what} (got {got})").format(
            where=place, most=f"{ctx['max_length']:,}", what=what, got=f"{ctx['actual_length']:,}"), None
    if kind == "too_short":
        return _("{where}: {got} given; at least {least} needed").format(
            where=place, got=f"{ctx['actual_length']:,}", least=f"{ctx['min_length']:,}"), None
    if kind == "string_too_long":
        return _("{where}: at most {most} characters (got {got})").format(
            where=place, most=f"{ctx['max_length']:,}", got=f"{len(value):,}"), None
    expected = _expected(err)
    if expected is not None:
        return _invalid(place, value, expected), expected
    # (a type not said above: named by its id; pydantic's words only in English)
    detail = err["msg"] if get_language() == "en" else kind
    return _("{field}: {value} is not valid ({detail})").format(
        field=place or _("(top level)"), value=shown(value), detail=detail), None


def describe_validation_error(exc: ValidationError, origin: str, model: type[BaseModel] | None = None) -> str:
    """One line per problem, each starting with ``origin`` (the file): where in the file, what is
    wrong, what to write instead (at most `MAX_ERRORS` lines, each quoting at most a short prefix of
    the value). ``model`` names the keys allowed where an unknown key is."""
    errors = exc.errors()
    lines = [_("{origin}: {problem}").format(origin=origin, problem=problem(err, model)[0]) for err in errors[:MAX_ERRORS]]
    if len(errors) > MAX_ERRORS:
        lines.append(_("{origin}: … and {more} more problems").format(origin=origin, more=f"{len(errors) - MAX_ERRORS:,}"))
    return "\n".join(lines)
