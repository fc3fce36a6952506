"""Errors the library raises. Each names the field, the value and what was expected.

Messages are built in the language of the interface (`i18n`) when the error is raised.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .i18n import _
from .text import printable, quoted

# What the caller calls the library's arguments: empty for a program (an error names the argument,
# `rate`), the options while the CLI calls (`--rate`): the process's, threads included, as the language is.
_names: dict[str, str] = {}


def arg(name: str, words: str | None = None) -> str:
    """An argument as the caller gave it: the option on the command line (inside `called_as`), else
    ``words`` (how the library says it), else its name."""
    return _(_names[name]) if name in _names else words or name  # (an option's words in the language of the moment)


def naming() -> tuple[tuple[str, str], ...]:
    """How arguments are named at the moment (see `called_as`): a key for what caches messages."""
    return tuple(sorted(_names.items()))


@contextmanager
def called_as(names: dict[str, str]) -> Iterator[None]:
    """Inside the block, errors name each argument of ``names`` as the caller gave it (``--rate``)."""
    before = dict(_names)
    _names.update(names)
    try:
        yield
    finally:
        _names.clear()
        _names.update(before)


class FdiError(Exception):
    """Base class: a problem with what the user gave us, stated in one line."""


class InputError(FdiError, ValueError):
    """A project, amount, sector, code or option that cannot be used as given."""

    def __init__(self, field: str, value: object, expected: str, message: str | None = None) -> None:
        if field in _names and message is None:  # (an argument the caller gave as an option: named so)
            field = _(_names[field])
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
