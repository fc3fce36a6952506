"""Errors the library raises. Each names the field, the value and what was expected.

Messages are built in the language of the interface (`i18n`) when the error is raised.
"""

from __future__ import annotations

from .i18n import _
from .text import printable, quoted


class FdiError(Exception):
    """Base class: a problem with what the user gave us, stated in one line."""


class InputError(FdiError, ValueError):
    """A project, amount, sector, code or option that cannot be used as given."""

    def __init__(self, field: str, value: object, expected: str, message: str | None = None) -> None:
        self.field, self.value, self.expected = field, value, expected
        # (a value is quoted at a bounded length, its controls escaped: a 50 MB cell makes a short message)
        super().__init__(printable(message or _("{field}: {value} is not valid; expected {expected}").format(
            field=field, value=quoted(value), expected=expected)))

    def named(self, field: str) -> "InputError":
        """The same error, its field named as the caller knows it (the CLI: ``--rate`` for ``rate``)."""
        text = str(self)
        renamed = type(self).__new__(type(self))
        renamed.__dict__.update(self.__dict__, field=field)
        renamed.args = (field + text[len(self.field):] if text.startswith(self.field) else text,)
        return renamed


class PolicyError(FdiError):
    """A policy file that is missing, unreadable or fails validation, or no policy in force."""


class UnknownPolicy(InputError, PolicyError):
    """A policy named that is neither a shipped policy's id nor a policy file."""


class FxError(FdiError):
    """No exchange rate can be had for a currency and date, or a rate table is malformed."""
