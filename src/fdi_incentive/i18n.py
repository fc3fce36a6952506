"""The language of the interface: gettext message catalogues (made with Babel) and the setting that picks one.

Messages are written in English and wrapped in ``_()``; ``locale/<lang>/LC_MESSAGES/fdi_incentive.mo``
holds their translations (README: "Translations" says how a new string gets its own). English needs no
catalogue, so an English run never opens one; the Chinese one is read the first time a message is
translated. The library speaks English unless told otherwise (`language.set_language` or
`language.using`, which check the language they are given): it never reads the environment; the CLI
does (`language_from_env`).

This module is the package's bottom layer: it imports none of the package's modules (errors and
`text` are built on it), so what a caller gives as a language is checked in `language`, above errors.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

if TYPE_CHECKING:
    import gettext

P = ParamSpec("P")
R = TypeVar("R")

DOMAIN = "fdi_incentive"
LANGUAGES = ("en", "zh")
LOCALE_DIR = Path(__file__).with_name("locale")

_current = ["en"]  # the process's language (`speak`), threads included
_local = threading.local()  # a thread's own, inside `speaking`


def _lang() -> str:
    return getattr(_local, "lang", None) or _current[0]


@cache
def _catalogue(lang: str) -> gettext.NullTranslations:
    import gettext  # (an English run never needs it)

    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


def _(message: str) -> str:
    """``message`` in the current language (itself where no translation exists)."""
    lang = _lang()
    return message if lang == "en" or not message else _catalogue(lang).gettext(message)  # ("" is the catalogue's header)


def N_(message: str) -> str:
    """Marks ``message`` for the catalogue without translating it: for tables built at import time,
    translated with ``_()`` where they are shown."""
    return message


def language_from_env(environ: Mapping[str, str] = os.environ) -> str:
    """The language the locale asks for: the first of LC_ALL, LC_MESSAGES, LANG that is set
    (POSIX order); ``zh_*`` gives Chinese, anything else English."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def get_language() -> str:
    return _lang()


def speak(lang: str) -> None:
    """Speak ``lang``, a language already checked (`language.set_language` checks it), from now on."""
    _current[0] = lang


@contextmanager
def speaking(lang: str) -> Iterator[None]:
    """Speak ``lang``, a language already checked, inside the block, in this thread only (what
    `language.using` does once it has checked the language it was given)."""
    before, _local.lang = getattr(_local, "lang", None), lang
    try:
        yield
    finally:
        _local.lang = before


def pick(english: str, chinese: str | None) -> str:
    """A policy file's text in the current language: its ``*_zh`` twin where it has one."""
    return chinese if chinese and _lang() == "zh" else english


def in_english(function: Callable[P, R]) -> Callable[P, R]:
    """Runs ``function`` in English, whatever the interface speaks: for what is written into an
    output file (a batch's cells), which must not change with the reader's language."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with speaking("en"):
            return function(*args, **kwargs)

    return wrapper
