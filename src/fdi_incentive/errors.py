"""Errors the library raises. Each names the field, the value and what was expected."""

from __future__ import annotations


class FdiError(Exception):
    """Base class: a problem with what the user gave us, stated in one line."""


class InputError(FdiError, ValueError):
    """A project, amount, sector, code or option that cannot be used as given."""

    def __init__(self, field: str, value: object, expected: str, message: str | None = None) -> None:
        self.field, self.value, self.expected = field, value, expected
        from .text import printable, quoted

        # (a value is quoted at a bounded length, its controls escaped: a 50 MB cell makes a short message)
        super().__init__(printable(message or f"{field}: {quoted(value)} is not valid; expected {expected}"))


class PolicyError(FdiError):
    """A policy file that is missing, unreadable or fails validation, or no policy in force."""


class FxError(FdiError):
    """No exchange rate can be had for a currency and date, or a rate table is malformed."""
