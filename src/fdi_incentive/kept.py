"""A value made from files of the package, kept between runs as Python keeps compiled modules.

The shipped policies are validated once, then read back from ``__pycache__`` beside their files,
so that `fdi calc` neither parses TOML nor builds the schema of a policy to answer (~0.02 s of its
start-up). What is kept is used only while every file it was made from (the data and the
modules whose code decides the value) and the versions of Python and pydantic are byte for byte
those it was made with; else it is made again and kept anew. Where the package cannot be written
(a read-only install), or with ``PYTHONDONTWRITEBYTECODE``, nothing is kept and the value is made
each run, as before.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

FORMAT = 1  # (raised when what is kept changes shape)


def kept(path: Path, inputs: Iterable[Path], make: Callable[[], T]) -> T:
    """``make()``, or what a run before kept at ``path`` from the same ``inputs``."""
    from pydantic import VERSION

    key = (FORMAT, sys.version, VERSION, [(p.name, p.read_bytes()) for p in inputs])
    try:
        with path.open("rb") as f:
            stored, payload = pickle.load(f)
        if stored == key:
            return pickle.loads(payload)
    except Exception:  # (none kept yet, or unreadable, or from other files or versions: made again)
        pass
    value = make()
    if not sys.dont_write_bytecode:
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            path.parent.mkdir(exist_ok=True)
            temporary.write_bytes(pickle.dumps((key, pickle.dumps(value, pickle.HIGHEST_PROTOCOL)), pickle.HIGHEST_PROTOCOL))
            os.replace(temporary, path)  # (whole or not at all, whichever run writes last)
        except OSError:  # a package that cannot be written: nothing is kept
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
    return value
