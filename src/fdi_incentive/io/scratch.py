"""A run's temporary files: named by the process that made them, in one folder per run that is
removed on every way out Python sees (an error, Ctrl-C, SIGTERM, SIGHUP: see `cli.main`).

A run that is killed outright (SIGKILL, a power cut) cannot clean up: what it left is removed by
the next run, and only what is certainly its: a name of ours (the pattern with the process id),
owned by this user, whose process is no longer running.
"""

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

RUN_PREFIX = "fdi-run-"  # a run's folder: fdi-run-<pid>-<random>
FILE_PREFIX = "fdi-"  # a temporary file made outside a run's folder: fdi-<pid>-<random><suffix>
_STALE_RUN = re.compile(r"fdi-run-(\d+)-[A-Za-z0-9_]+")
_STALE_FILE = re.compile(r"fdi-(\d+)-[A-Za-z0-9_]+\.[a-z]+")

_folder: ContextVar[Path | None] = ContextVar("fdi_run_folder", default=None)


def pid_is_running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # (another user's process: running)
        return True
    return True


def is_stale(path: Path, pattern: re.Pattern) -> bool:
    """Whether ``path`` is a leftover of ours: its name matches ``pattern`` (group 1 the process id),
    it is this user's and its process has ended."""
    found = pattern.fullmatch(path.name)
    if found is None:
        return False
    try:
        if path.lstat().st_uid != os.getuid():
            return False
    except OSError:
        return False
    return not pid_is_running(int(found.group(1)))


def remove_stale(folder: Path, pattern: re.Pattern) -> None:
    """Remove the leftovers of ended runs in ``folder`` whose names match ``pattern`` (see `is_stale`)."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        path = Path(entry.path)
        if not is_stale(path, pattern):
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


@contextmanager
def run_folder() -> Iterator[Path]:
    """One folder for the run's temporary files (`scratch_file` puts them there), removed when the
    block ends however it ends; the folders and files ended runs left go first."""
    base = Path(tempfile.gettempdir())
    remove_stale(base, _STALE_RUN)
    remove_stale(base, _STALE_FILE)
    folder = Path(tempfile.mkdtemp(prefix=f"{RUN_PREFIX}{os.getpid()}-"))
    token = _folder.set(folder)
    try:
        yield folder
    finally:
        _folder.reset(token)
        shutil.rmtree(folder, ignore_errors=True)


def scratch_file(suffix: str) -> Path:
    """A new empty temporary file: in the run's folder, or named by this process in the system's."""
    fd, name = tempfile.mkstemp(prefix=f"{FILE_PREFIX}{os.getpid()}-", suffix=suffix, dir=_folder.get())
    os.close(fd)
    return Path(name)
