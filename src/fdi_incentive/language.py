"""Choosing the language of the interface: the language a user, a locale or a program names,
checked (``zh`` or ``en``, else an InputError), then spoken through `i18n`.

Above `errors` (which says its messages through `i18n`): the check raises an InputError, so it
cannot live in `i18n`, the package's bottom layer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from .errors import InputError
from .i18n import LANGUAGES, _, speak, speaking


def parse_language(value: str, field: str = "--lang") -> str:
    """``zh``/``en`` from what a user or a locale writes: zh, zh-CN, zh_TW.UTF-8, en_US …"""
    code = value.strip().lower().replace("-", "_").split(".")[0].split("_")[0]
    if code not in LANGUAGES:
        raise InputError(field, value, _("zh or en"))
    return code


def set_language(lang: str) -> None:
    """Speak ``lang`` (``zh`` or ``en``) from now on, in every thread (but inside `using`)."""
    speak(parse_language(lang, "language"))


@contextmanager
def using(lang: str) -> Iterator[None]:
    """Speak ``lang`` inside the block, in this thread only, and what was spoken before after it."""
    with speaking(parse_language(lang, "language")):
        yield


def said_both(shown: dict[str, str], lang: str, said: str | Callable[..., str], *args, **values) -> str:
    """A text in English (an output's cell), kept in ``shown`` as ``lang`` says it (for a person): a
    message with its values as keywords (a callable value is called), or a function making the text."""
    def make() -> str:
        if callable(said):
            return said(*args)
        return _(said).format(**{k: v() if callable(v) else v for k, v in values.items()})

    with using("en"):
        english = make()
    if lang != "en" and english not in shown:
        with using(lang):
            shown[english] = make()
    return english
