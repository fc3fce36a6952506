"""Where a run's outputs go: checked before any work, written whole, put in place together at the
end or not at all.

What an output path names decides how it is written:
- nothing, or a regular file (a symlink to one: the file it names, the link kept): the output is
  written to a hidden part beside it (`scratch.new_part`) and renamed over it in one step;
- a character device (``/dev/null``) or a FIFO: never replaced (a rename would put a regular file
  in its place, as root in ``/dev`` too): the output is written to the run's folder and then into
  the node, once it is whole, so a FIFO's reader gets all of it or, when the run fails, nothing
  (the FIFO is opened and closed: its reader sees the end instead of waiting);
- anything else (a block device, a socket) is refused before any work.

`Outputs` stages a run's outputs and `commit` puts them in place: the nodes written into first,
then the files renamed, SIGINT, SIGTERM and SIGHUP held meanwhile (`held_signals`), every file
back as it was if a rename fails. An exception leaving `Outputs` carries ``outputs``: what each
output became (`KEPT`, `WRITTEN`, `PARTIAL`), for the command to tell the truth.
"""

import errno
import os
import re
import shutil
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..i18n import _
from .scratch import held_signals, new_part, remove_left_parts, scratch_file

DISK_FULL = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}  # a write that failed for want of room
KEPT, WRITTEN, PARTIAL = "kept", "written", "partial"  # what an output became


def is_node(path: Path) -> bool:
    """Whether ``path`` names (through symlinks) a character device or a FIFO: written into, never replaced."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def _refused_kind(path: Path) -> str | None:
    """What ``path`` names when it is nothing an output can be (a block device, a socket)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    if stat.S_ISBLK(mode):
        return _("a block device")
    if stat.S_ISSOCK(mode):
        return _("a socket")
    return None


def place(path: Path) -> Path:
    """Where a file output is renamed to: ``path``, or the file a symlink at ``path`` names."""
    return Path(os.path.realpath(path)) if os.path.islink(path) else path


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file: the same inode where both exist (a hard link, a symlink,
    any spelling of the path), else the same path once symlinks and ``..`` are resolved."""
    try:
        sa, sb = os.stat(a), os.stat(b)
        return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()


def _new_part(path: Path, folder: Path, option: str) -> Path:
    """A new empty hidden file beside ``path``, named by this process (see `scratch.new_part`)."""
    try:
        return new_part(path, folder)
    except OSError as exc:
        raise InputError(option, str(path), _("a file in a folder that can be written ({reason})").format(reason=exc.strerror or exc)) from None


def check_target(path: Path, option: str = "-o", *others: Path | None) -> Path:
    """An output, refused before any work if it could not be written where it is (a file is made
    in its folder and removed; a node must be writable), if it names a block device or a socket,
    or if it is one of ``others`` (a file the run reads, another output of the run) by any name
    (a character device excepted: /dev/null may take both outputs); its folder."""
    path = Path(path)
    kind = _refused_kind(path)
    if kind is not None:
        raise InputError(option, str(path), _("a file, a character device such as /dev/null, or a FIFO ({path} is {kind})").format(
            path=path, kind=kind))
    device = is_node(path) and stat.S_ISCHR(os.stat(path).st_mode)
    for other in others:
        if other is not None and not device and same_file(path, Path(other)):
            raise InputError(option, str(path), _("a file other than the input and the other files the run reads or "
                                                  "writes ({other} is one)").format(other=other))
    if is_node(path):
        if not os.access(path, os.W_OK):
            raise InputError(option, str(path), _("a file that can be written ({reason})").format(reason=os.strerror(errno.EACCES)))
        return path.parent
    target = place(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        # (the nearest part of the path that exists: a file there is not a folder, whatever follows it)
        there = next((p for p in (folder, *folder.parents) if p.exists()), None)
        if there is not None and not there.is_dir():
            raise InputError(option, str(path), _("a file in an existing folder ({folder} is a file, not a folder)").format(folder=there))
        raise InputError(option, str(path), _("a file in an existing folder ({folder} does not exist)").format(folder=folder))
    if target.is_dir():  # (found before the work, not when the result is renamed into place)
        raise InputError(option, str(path), _("a file, not a folder"))
    with held_signals():  # (a stop does not leave the trial file)
        _new_part(target, folder, option).unlink()
    return folder


def check_outputs(outputs: dict[str, Path | None], reads: Iterable[Path | None]) -> None:
    """Every output of a run, checked before any work: each can be written, and none is a file
    the run reads (the input, --projects, --fx-table, --policy) or another output."""
    reads = [r for r in reads if r is not None]
    given = [(option, path) for option, path in outputs.items() if path is not None]
    for i, (option, path) in enumerate(given):
        check_target(path, option, *reads, *(p for _, p in given[:i]))


def error_number(exc: Exception) -> int | None:
    """The OS error number of an error, also where polars gives it only in its text ("... (os error 28)")."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return exc.errno
    found = re.search(r"\(os error (\d+)\)", str(exc))
    return int(found.group(1)) if found else None


def _unwritable(option: str, path: Path, exc: OSError) -> InputError:
    return InputError(option, str(path), _("a file that can be written ({reason})").format(reason=exc.strerror or exc))


@dataclass
class Staged:
    option: str
    path: Path  # as the user named it
    tmp: Path
    node: bool
    state: str = KEPT


class Outputs:
    """The outputs of one run: each staged (`stage`), then all put in place (`commit`)."""

    def __init__(self, targets: dict[str, Path | None] | None = None):
        self.targets = {o: Path(p) for o, p in (targets or {}).items() if p is not None}
        self.staged: list[Staged] = []

    def __enter__(self) -> "Outputs":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        with held_signals():  # (a stop does not cut the clean-up short)
            for entry in self.staged:
                entry.tmp.unlink(missing_ok=True)
        if value is not None:
            value.outputs = [(e.option, str(e.path), e.state) for e in self.staged]
            for option, path in self.targets.items():  # a FIFO's reader waits for a writer: one that closes at once
                if all(e.state == KEPT for e in self.staged if e.option == option):
                    _release_fifo(path)

    @contextmanager
    def stage(self, path: Path, option: str = "-o", suffix: str = ".out") -> Iterator[Path]:
        """A temporary path to write ``path``'s output to (a node's in the run's folder, a file's
        beside it, after the parts ended runs left in that folder are removed); kept for `commit`
        when the block succeeds. A write that fails for want of room names ``path``."""
        path = Path(path)
        node = is_node(path)
        if node:
            tmp = scratch_file(suffix)
        else:
            target = place(path)
            folder = check_target(path, option)
            remove_left_parts(folder)
            with held_signals():
                tmp = _new_part(target, folder, option)
                tmp.unlink()  # the writer creates it
        try:
            yield tmp
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            if error_number(exc) in DISK_FULL or exc.filename in (str(tmp), tmp):
                raise _unwritable(option, path, exc) from None
            raise
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        self.staged.append(Staged(option, path, tmp, node))

    def commit(self) -> None:
        """Every staged output in place: the nodes written into (a FIFO waits for its reader), then
        the files renamed over their old ones, signals held, all back as they were if one fails."""
        for entry in self.staged:
            if entry.node:
                self._write_into(entry)
        with held_signals():
            self._replace([e for e in self.staged if not e.node])

    def _write_into(self, entry: Staged) -> None:
        try:
            fd = os.open(entry.path, os.O_WRONLY | os.O_NOCTTY)  # (never O_CREAT: a node gone is an error, not a new file)
        except OSError as exc:
            raise _unwritable(entry.option, entry.path, exc) from None
        try:
            with open(fd, "wb", closefd=True) as out, entry.tmp.open("rb") as data:
                entry.state = PARTIAL
                if out.isatty():  # (a terminal, `-o /dev/tty`: shown as standard output shows it, without controls)
                    from ..text import printable

                    with open(entry.tmp, encoding="utf-8", errors="replace", newline="") as text:
                        while chunk := text.read(1 << 20):
                            out.write(printable(chunk).encode("utf-8"))
                else:
                    shutil.copyfileobj(data, out, 1 << 20)
        except BrokenPipeError:
            pass  # the reader stopped reading: it has what it wanted
        except OSError as exc:
            raise _unwritable(entry.option, entry.path, exc) from None
        entry.state = WRITTEN

    def _replace(self, files: list[Staged]) -> None:
        done: list[tuple[Staged, Path, Path | None]] = []  # (each renamed output, where, its old file kept as a link)
        try:
            for entry in files:
                target = place(entry.path)
                old = _keep_old(target)
                done.append((entry, target, old))
                try:
                    os.replace(entry.tmp, target)
                except OSError as exc:
                    raise _unwritable(entry.option, entry.path, exc) from None
                entry.state = WRITTEN
        except BaseException:
            for entry, target, old in reversed(done):
                if entry.state != WRITTEN:
                    continue
                try:
                    if old is not None:
                        os.replace(old, target)
                    else:
                        target.unlink()
                    entry.state = KEPT
                except OSError:
                    pass  # (left as written, and said so)
            raise
        finally:
            for _entry, _target, old in done:
                if old is not None:
                    old.unlink(missing_ok=True)


def _keep_old(target: Path) -> Path | None:
    """A second name for the file at ``target`` (a hard link, a part beside it) to put back if a
    later output cannot be put in place; None where there is no file (nothing to put back: the new
    one is removed) or no link can be made."""
    try:
        if not stat.S_ISREG(os.lstat(target).st_mode):
            return None
    except OSError:
        return None
    try:
        old = new_part(target, target.parent if str(target.parent) else Path("."))
        old.unlink()
        os.link(target, old)
        return old
    except OSError:
        return None


def _release_fifo(path: Path) -> None:
    """Open a FIFO for writing without waiting and close it: a reader waiting at its other end sees the end."""
    try:
        if stat.S_ISFIFO(os.stat(path).st_mode):
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass  # (no reader: nobody waits)


@contextmanager
def atomic_output(path: Path, option: str = "-o", suffix: str = ".out") -> Iterator[Path]:
    """One output on its own: a temporary path, put in place when the block succeeds (see `Outputs`)."""
    with Outputs({option: path}) as outputs:
        with outputs.stage(path, option, suffix) as tmp:
            yield tmp
        outputs.commit()
