"""The language of the interface: gettext message catalogues (made with Babel) and the setting that picks one.

Messages are written in English and wrapped in ``_()``; ``locale/<lang>/LC_MESSAGES/fdi_incentive.mo``
holds their translations (README: "Translations" says how a new string gets its own). English needs no
catalogue, so an English run never opens one; the Chinese one is read the first time a message is
translated. The library speaks English unless told otherwise (`set_language` or `using`): it never
reads the environment; the CLI does (`language_from_env`).
"""

from __future__ import annotations

import functools
import gettext
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

DOMAIN = "fdi_incentive"
LANGUAGES = ("en", "zh")
LOCALE_DIR = Path(__file__).with_name("locale")

_current = ["en"]  # the process's language (`set_language`), threads included
_local = threading.local()  # a thread's own, inside `using`


def _lang() -> str:
    return getattr(_local, "lang", None) or _current[0]


@cache
def _catalogue(lang: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)


def _(message: str) -> str:
    """``message`` in the current language (itself where no translation exists)."""
    lang = _lang()
    return message if lang == "en" or not message else _catalogue(lang).gettext(message)  # ("" is the catalogue's header)


def N_(message: str) -> str:
    """Marks ``message`` for the catalogue without translating it: for tables built at import time,
    translated with ``_()`` where they are shown."""
    return message


def parse_language(value: str, field: str = "--lang") -> str:
    """``zh``/``en`` from what a user or a locale writes: zh, zh-CN, zh_TW.UTF-8, en_US …"""
    code = value.strip().lower().replace("-", "_").split(".")[0].split("_")[0]
    if code not in LANGUAGES:
        from .errors import InputError

        raise InputError(field, value, _("zh or en"))
    return code


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


def set_language(lang: str) -> None:
    """Speak ``lang`` (``zh`` or ``en``) from now on, in every thread (but inside `using`)."""
    _current[0] = parse_language(lang, "language")


@contextmanager
def using(lang: str) -> Iterator[None]:
    """Speak ``lang`` inside the block, in this thread only, and what was spoken before after it."""
    before, _local.lang = getattr(_local, "lang", None), parse_language(lang, "language")
    try:
        yield
    finally:
        _local.lang = before


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


def pick(english: str, chinese: str | None) -> str:
    """A policy file's text in the current language: its ``*_zh`` twin where it has one."""
    return chinese if chinese and _lang() == "zh" else english


def in_english(function: Callable[P, R]) -> Callable[P, R]:
    """Runs ``function`` in English, whatever the interface speaks: for what is written into an
    output file (a batch's cells), which must not change with the reader's language."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with using("en"):
            return function(*args, **kwargs)

    return wrapper
