"""A run's temporary files: all in one folder per run, removed on every way out Python sees (an
error, Ctrl-C, SIGTERM, SIGHUP: see `cli.main`), and the hidden parts written beside an output.

A run that is killed outright (SIGKILL, a power cut) cannot clean up: what it left is removed by
the next run, and only what is certainly its own, never a file by its name alone:
- a run's folder ``fdi-run-<pid>-<token>`` when it holds the marker the run wrote in it at once
  (the tool's name, the pid and the token of the folder's name), nothing but files a run writes,
  is this user's, and its process is no longer running;
- a part ``.<NAME>.<pid>.<random><check>.part`` in the folder of any output a run writes, when
  its check (a digest of NAME, pid and random) holds, it is a file of this user's and its process
  has ended.
A user's file or folder shaped like these (a report named fdi-2024-report.csv, a folder of notes)
is never touched.
"""

import hashlib
import os
import re
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

TOOL = "fdi-incentive"
RUN_PREFIX = "fdi-run-"  # a run's folder: fdi-run-<pid>-<token>
MARKER = ".fdi-run"  # written in a run's folder as it is made (see `_marker_text`)
_RUN = re.compile(r"fdi-run-(\d+)-([0-9a-f]{16})")
# every name a run writes in its folder (a new one must be added here, or a killed run's folder stays)
_RUN_FILES = [re.compile(p) for p in (
    re.escape(MARKER),
    r"scratch-[a-z0-9_]+\.[a-z]+",                       # `scratch_file`: converted inputs
    r"part-\d{6}\.arrow", r"sheet-rows\.xml", r"empty\.xlsx",  # writers' pieces of a Parquet or Excel output
    r"arrivals-\d+-\d+\.parquet", r"years-\d+-\d+\.parquet",  # a large ledger's parts
    r"stdout\.csv", r"\.stdout\.csv\.\d+\.[0-9a-f]{16}\.part",  # the result printed to stdout
    r"spark\.log", r"spark\.properties",  # --engine spark: Spark's own log and its settings
)]

_folder: ContextVar[Path | None] = ContextVar("fdi_run_folder", default=None)


def pid_is_running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # (another user's process: running; a number no pid can be: not ours)
        return True
    return True


def _mine(st: os.stat_result, kind) -> bool:
    return kind(st.st_mode) and st.st_uid == os.getuid()


def _marker_text(pid: int, token: str) -> str:
    return f"{TOOL} run folder\npid {pid}\ntoken {token}\n"


def _is_left_run(path: Path) -> bool:
    """Whether ``path`` is certainly the folder of a run that has ended (see the module's text)."""
    found = _RUN.fullmatch(path.name)
    if found is None:
        return False
    pid, token = int(found.group(1)), found.group(2)
    try:
        if not _mine(path.lstat(), stat.S_ISDIR):
            return False
        marker = path / MARKER
        if not _mine(marker.lstat(), stat.S_ISREG) or marker.lstat().st_size > 200:
            return False
        if marker.read_text(encoding="utf-8") != _marker_text(pid, token):
            return False
        for entry in os.scandir(path):
            if not entry.is_file(follow_symlinks=False) or not any(p.fullmatch(entry.name) for p in _RUN_FILES):
                return False
    except (OSError, UnicodeDecodeError):
        return False
    return not pid_is_running(pid)


def remove_left_runs(base: Path) -> None:
    """Remove the folders of ended runs in ``base`` (see `_is_left_run`)."""
    try:
        entries = list(os.scandir(base))
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(RUN_PREFIX) and _is_left_run(Path(entry.path)):
            shutil.rmtree(entry.path, ignore_errors=True)


def _check(name: str, pid: int, random: str) -> str:
    return hashlib.sha256(f"{TOOL}\0{name}\0{pid}\0{random}".encode()).hexdigest()[:8]


def new_part(path: Path, folder: Path) -> Path:
    """A new empty hidden file beside ``path`` in ``folder``: ``.NAME.PID.<random><check>.part``."""
    pid = os.getpid()
    for _ in range(100):
        random = secrets.token_hex(4)
        part = folder / f".{path.name}.{pid}.{random}{_check(path.name, pid, random)}.part"
        with held_signals():  # (made and closed, or not made: never left open by a stop)
            try:
                fd = os.open(part, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                continue
            os.close(fd)
        return part
    raise FileExistsError(f"no free name for a temporary file beside {path}")


_PART = re.compile(r"\.(.+)\.(\d+)\.([0-9a-f]{8})([0-9a-f]{8})\.part")


def remove_left_parts(folder: Path) -> None:
    """Remove the parts that ended runs left in ``folder`` (see `new_part`), beside any output: only
    with a check that holds for the NAME and pid they carry, a file of this user's whose process has
    ended. (A run writing any output in a folder clears what a killed run left there.)"""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        found = _PART.fullmatch(entry.name)
        if found is None:
            continue
        name, pid, random, check = found.group(1), int(found.group(2)), found.group(3), found.group(4)
        if check != _check(name, pid, random):
            continue
        try:
            if not _mine(entry.stat(follow_symlinks=False), stat.S_ISREG):
                continue
        except OSError:
            continue
        if not pid_is_running(pid):
            Path(entry.path).unlink(missing_ok=True)


@contextmanager
def held_signals(signals: Iterable[str] = ("SIGINT", "SIGTERM", "SIGHUP")) -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP wait until the block has run; then the handlers in place act on
    them. (Python acts on signals in the main thread: elsewhere nothing needs holding.)"""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    held = {}
    for name in signals:
        number = getattr(signal, name, None)
        if number is not None and signal.getsignal(number) is not None:  # (None: a handler Python did not set)
            held[number] = signal.signal(number, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        for number, handler in held.items():
            signal.signal(number, handler)
        for number in dict.fromkeys(pending):
            signal.raise_signal(number)


@contextmanager
def run_folder() -> Iterator[Path]:
    """One folder for the run's temporary files (`scratch_file` puts them there), removed when the
    block ends however it ends; the folders ended runs left go first."""
    with held_signals():  # (Python's first look makes and removes a file there to try it)
        base = Path(tempfile.gettempdir())
    remove_left_runs(base)
    pid = os.getpid()
    while True:
        token = secrets.token_hex(8)
        folder = base / f"{RUN_PREFIX}{pid}-{token}"
        try:
            folder.mkdir(mode=0o700)
            break
        except FileExistsError:
            continue
    try:
        (folder / MARKER).write_text(_marker_text(pid, token), encoding="utf-8")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    context = _folder.set(folder)
    try:
        yield folder
    finally:
        _folder.reset(context)
        with held_signals():  # (a stop does not cut the removal short)
            shutil.rmtree(folder, ignore_errors=True)


def scratch_file(suffix: str) -> Path:
    """A new empty temporary file in the run's folder (outside a run, a plain temporary file, which
    its caller removes and no later run ever does)."""
    folder = _folder.get()
    fd, name = tempfile.mkstemp(prefix="scratch-" if folder is not None else "fdi-", suffix=suffix, dir=folder)
    os.close(fd)
    return Path(name)
