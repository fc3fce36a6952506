"""Where a run's outputs go: a device or a FIFO is written into, never replaced; -o and
--summary-json are put in place together or not at all, and a stop says which; a killed run's
parts go at the next run in that folder; the same input gives the same bytes; Ctrl-C at start-up
is quiet."""

import errno
import json
import os
import re
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fdi_incentive.batch import score_file
from fdi_incentive.cli import app
from fdi_incentive.io.scratch import _check

ROOT = Path(__file__).parents[1]
runner = CliRunner()
FORMATS = ["csv", "xlsx", "parquet", "jsonl"]
KINDS = ["absent", "regular", "symlink", "fifo", "chardev"]


def fdi(*args):
    return runner.invoke(app, [str(a) for a in args])


def env() -> dict:
    import fdi_incentive

    return {**os.environ, "PYTHONPATH": str(Path(fdi_incentive.__file__).parents[1])}


def small_csv(path: Path, rows: int = 3) -> Path:
    lines = ["project_id,year,sector,paid_in_usd,fx_rate"] + [f"P{i},2024,manufacturing,{40000000 + i * 123457},7.1"
                                                             for i in range(rows)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def make_node(path: Path, kind: str) -> None:
    """A node of ``kind`` at ``path``: private ones (a twin of /dev/null, a FIFO), never the machine's own."""
    if kind == "regular":
        path.write_bytes(b"old")
    elif kind == "symlink":
        (path.parent / f"real-{path.name}").write_bytes(b"old")
        path.symlink_to(path.parent / f"real-{path.name}")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "chardev":
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))


class FifoReader:
    """Reads a FIFO in a thread, as a program at its other end would."""

    def __init__(self, path: Path):
        self.path, self.data = path, None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        with open(self.path, "rb") as f:
            self.data = f.read()

    def result(self) -> bytes | None:
        self.thread.join(timeout=30)
        if self.thread.is_alive():  # (no writer ever came: let the reader go)
            os.close(os.open(self.path, os.O_WRONLY | os.O_NONBLOCK))
            self.thread.join(timeout=5)
            return None
        return self.data


def _summary(data: bytes) -> dict:
    found = json.loads(data)
    found.pop("output")
    return found


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("option", ["-o", "--summary-json"])
def test_every_output_is_written_into_a_device_or_fifo_and_replaces_only_a_file(tmp_path, option, fmt, kind):
    """Each output option, each format, each kind of node the path may name: a file (or the file a
    symlink names) is replaced by the new one; a character device (a twin of /dev/null) or a FIFO
    is written into and stays what it was, the FIFO's reader getting the very bytes a file gets."""
    src = small_csv(tmp_path / "in.csv")
    ref = tmp_path / "ref"
    ref.mkdir()
    done = fdi("batch", src, "-o", ref / f"out.{fmt}", "--summary-json", ref / "s.json", "--no-progress")
    assert done.exit_code == 0, done.output
    expected = (ref / f"out.{fmt}").read_bytes() if option == "-o" else (ref / "s.json").read_bytes()
    there = tmp_path / "there"
    there.mkdir()
    target = there / (f"out.{fmt}" if option == "-o" else "s.json")
    make_node(target, kind)
    other = there / (f"other.{fmt}" if option == "--summary-json" else "other.json")
    reader = FifoReader(target) if kind == "fifo" else None
    args = ["-o", target, "--summary-json", other] if option == "-o" else ["-o", other, "--summary-json", target]
    done = fdi("batch", src, *args, "--no-progress")
    got = reader.result() if reader else None
    assert done.exit_code == 0, done.output
    mode = os.lstat(target).st_mode
    if kind == "fifo":
        assert stat.S_ISFIFO(mode) and got is not None
    elif kind == "chardev":
        assert stat.S_ISCHR(mode) and os.stat(target).st_rdev == os.makedev(1, 3)
    elif kind == "symlink":
        assert stat.S_ISLNK(mode)  # (the link stays; the file it names is replaced)
        got = (there / f"real-{target.name}").read_bytes()
    else:
        assert stat.S_ISREG(mode)
        got = target.read_bytes()
    if kind != "chardev":
        assert (_summary(got) == _summary(expected)) if option == "--summary-json" else got == expected
    assert not [p.name for p in there.iterdir() if p.name.endswith(".part")]


def test_dev_null_twin_without_an_extension_takes_the_csv(tmp_path):
    """`-o /dev/null` (here a private twin of it) discards the rows: a node without an extension is
    written as CSV, as standard output is; both outputs may go to it."""
    src, null = small_csv(tmp_path / "in.csv"), tmp_path / "null"
    make_node(null, "chardev")
    done = fdi("batch", src, "-o", null, "--summary-json", null, "--no-progress")
    assert done.exit_code == 0, done.output
    assert stat.S_ISCHR(os.stat(null).st_mode) and sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "null"]


def test_a_block_device_or_socket_is_refused(tmp_path):
    import socket

    src, sock = small_csv(tmp_path / "in.csv"), tmp_path / "out.csv"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock))
    try:
        done = fdi("batch", src, "-o", sock, "--no-progress")
        assert done.exit_code == 2 and done.output.startswith("fdi: error: -o"), done.output
        assert stat.S_ISSOCK(os.stat(sock).st_mode)
    finally:
        server.close()


def test_a_fifo_whose_run_fails_is_not_left_waiting(tmp_path):
    """A run that stops before its outputs are in place opens a FIFO it was to write and closes it,
    so the program reading it sees an end instead of waiting for ever."""
    src, fifo = tmp_path / "in.csv", tmp_path / "s.json"
    src.write_text("nothing,of,use\n1,2,3\n", encoding="utf-8")
    os.mkfifo(fifo)
    reader = FifoReader(fifo)
    time.sleep(0.1)
    done = fdi("batch", src, "-o", tmp_path / "out.csv", "--summary-json", fifo, "--no-progress")
    assert done.exit_code == 2, done.output
    reader.thread.join(timeout=10)
    assert not reader.thread.is_alive() and reader.data == b""
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


# --- -o and --summary-json together or not at all; the message tells which ------------------------

STOP_AT = ("import os, signal, sys\n"
           "from pathlib import Path\n"
           "where, sig = sys.argv[1], getattr(signal, sys.argv[2])\n"
           "real_replace, real_write = os.replace, Path.write_text\n"
           "def replace(a, b, *args, **kwargs):\n"
           "    if where == 'before-rename': os.kill(os.getpid(), sig)\n"
           "    real_replace(a, b, *args, **kwargs)\n"
           "    if where == 'after-first-rename': os.kill(os.getpid(), sig)\n"
           "def write_text(self, *args, **kwargs):\n"
           "    if where == 'summary' and 's.json' in self.name: os.kill(os.getpid(), sig)\n"
           "    return real_write(self, *args, **kwargs)\n"
           "os.replace, Path.write_text = replace, write_text\n"
           "from fdi_incentive.cli import main; sys.exit(main(sys.argv[3:]))\n")


@pytest.mark.parametrize("where", ["summary", "before-rename", "after-first-rename"])
@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT", "SIGHUP"])
def test_a_stop_at_the_end_replaces_both_outputs_or_neither_and_says_which(tmp_path, where, sig):
    src, out, summary = small_csv(tmp_path / "in.csv"), tmp_path / "out.csv", tmp_path / "s.json"
    out.write_text("old\n", encoding="utf-8")
    summary.write_text("old\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", STOP_AT, where, sig, "batch", str(src), "-o", str(out),
                           "--summary-json", str(summary), "--no-progress"], env=env(), capture_output=True, text=True)
    number = getattr(signal, sig)
    assert done.returncode == 128 + number and "Traceback" not in done.stderr, done.stderr
    new = [out.read_text(encoding="utf-8") != "old\n", summary.read_text(encoding="utf-8") != "old\n"]
    assert new in ([True, True], [False, False]), (new, done.stderr)
    said = " ".join(done.stderr.split())
    if new[0]:
        assert "written in full" in said and "left as it was" not in said, said
        assert json.loads(summary.read_text(encoding="utf-8"))["rows"] == 3
    else:
        assert "left as it was" in said and "written" not in said, said
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv", "s.json"]


STOP_AT_CALL = ("import os, signal, sys\n"
                "from pathlib import Path\n"
                "at, sig, calls = int(sys.argv[1]), getattr(signal, sys.argv[2]), [0]\n"
                "def counted(module, name):\n"
                "    real = getattr(module, name)\n"
                "    def call(*args, **kwargs):\n"
                "        calls[0] += 1\n"
                "        if calls[0] == at: os.kill(os.getpid(), sig)\n"
                "        return real(*args, **kwargs)\n"
                "    setattr(module, name, call)\n"
                "for module, name in ((os, 'replace'), (os, 'link'), (os, 'unlink'), (os, 'open'), (Path, 'write_text')):\n"
                "    counted(module, name)\n"
                "from fdi_incentive.cli import main; sys.exit(main(sys.argv[3:]))\n")


@pytest.mark.parametrize("at", range(1, 28, 2))  # (a run of this input makes 25 such calls)
@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_a_stop_at_any_file_operation_replaces_both_outputs_or_neither(tmp_path, at, sig):
    """The family: a stop at the at-th rename, link, unlink, open or text write of the run (the
    outputs' checks, the parts, the run's folder, the renames): both outputs new or both old, the
    message saying which, nothing left behind."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    src, out, summary = small_csv(tmp_path / "in.csv"), tmp_path / "out.csv", tmp_path / "s.json"
    out.write_text("old\n", encoding="utf-8")
    summary.write_text("old\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", STOP_AT_CALL, str(at), sig, "batch", str(src), "-o", str(out),
                           "--summary-json", str(summary), "--no-progress"], env={**env(), "TMPDIR": str(scratch)},
                          capture_output=True, text=True)
    assert "Traceback" not in done.stderr, done.stderr
    new = [out.read_text(encoding="utf-8") != "old\n", summary.read_text(encoding="utf-8") != "old\n"]
    assert new in ([True, True], [False, False]), (new, done.stderr)
    said = " ".join(done.stderr.split())
    if done.returncode == 0:  # (the signal came before any handler was set, or after the last call)
        assert new == [True, True]
    else:
        assert done.returncode == 128 + getattr(signal, sig), done.stderr
        assert ("written in full" in said) == new[0] and ("left as it was" in said) == (not new[0]), said
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv", "s.json", "tmp"]
    assert list(scratch.iterdir()) == []


def test_a_disk_that_fills_while_the_summary_is_written_keeps_both_old_files(tmp_path, monkeypatch):
    real = Path.write_text

    def full(self, *args, **kwargs):
        if "s.json" in self.name:
            raise OSError(errno.ENOSPC, "No space left on device", str(self))
        return real(self, *args, **kwargs)

    src, out, summary = small_csv(tmp_path / "in.csv"), tmp_path / "out.csv", tmp_path / "s.json"
    out.write_text("old\n", encoding="utf-8")
    summary.write_text("old\n", encoding="utf-8")
    monkeypatch.setattr(Path, "write_text", full)
    done = fdi("batch", src, "-o", out, "--summary-json", summary, "--no-progress")
    assert done.exit_code == 2 and done.output.startswith("fdi: error: --summary-json") and "No space" in done.output
    assert out.read_bytes() == summary.read_bytes() == b"old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv", "s.json"]


# --- a killed run's parts go at the next run that writes in that folder ---------------------------

def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _part(folder: Path, name: str, pid: int, random: str = "0123abcd") -> Path:
    path = folder / f".{name}.{pid}.{random}{_check(name, pid, random)}.part"
    path.write_bytes(b"x" * 1000)
    return path


@pytest.mark.parametrize("option", ["-o", "--summary-json"])
def test_a_dead_runs_parts_beside_any_output_go_at_the_next_run_in_that_folder(tmp_path, option):
    """A run killed outright left `.report.xlsx.<pid>.<...>.part`; a run writing another file in that
    folder removes it (its process has ended, its check holds); a live run's part, a part whose
    check does not hold, and files that only look like parts stay."""
    folder = tmp_path / "out"
    folder.mkdir()
    dead, alive = _dead_pid(), os.getpid()
    gone = [_part(folder, "report.xlsx", dead), _part(folder, "a.b.c.json", dead, "ffff0000")]
    stay = [_part(folder, "report.xlsx", alive), folder / f".report.xlsx.{dead}.0123abcd00000000.part",
            folder / ".notes.part", folder / f"report.xlsx.{dead}.0123abcd{_check('report.xlsx', dead, '0123abcd')}.part"]
    for path in stay:
        if not path.exists():
            path.write_text("mine", encoding="utf-8")
    src = small_csv(tmp_path / "in.csv")
    args = ["-o", folder / "new.csv"] if option == "-o" else ["-o", tmp_path / "new.csv", "--summary-json", folder / "s.json"]
    done = fdi("batch", src, *args, "--no-progress")
    assert done.exit_code == 0, done.output
    assert not any(p.exists() for p in gone)
    assert all(p.exists() for p in stay)


# --- the same input gives the same bytes ------------------------------------------------------------

def test_every_output_format_is_byte_identical_run_to_run(tmp_path):
    """Two runs of one input, seconds apart: the same bytes in every format (an .xlsx once held the
    time it was made, in docProps/core.xml and in its parts' dates)."""
    src = small_csv(tmp_path / "in.csv", rows=20)
    runs = []
    for n in (1, 2):
        folder = tmp_path / f"run{n}"
        folder.mkdir()
        for fmt in FORMATS:
            assert score_file(src, folder / f"out.{fmt}").errors == 0
        runs.append({fmt: (folder / f"out.{fmt}").read_bytes() for fmt in FORMATS})
        if n == 1:
            time.sleep(2.1)  # (a zip entry's time counts in steps of 2 s)
    assert runs[0] == runs[1]


# --- Ctrl-C at start-up ------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [[sys.executable, "-m", "fdi_incentive"], [str(Path(sys.executable).parent / "fdi")]],
                         ids=["python -m", "fdi"])
def test_ctrl_c_during_start_up_exits_130_quietly(command):
    if not Path(command[0]).exists():
        pytest.skip("no fdi script beside this Python")
    args = ["calc", "--year", "2024", "--sector", "manufacturing", "--paid-in-usd", "42000000", "--fx-rate", "7.1"]
    codes = []
    for delay in (0.03, 0.06, 0.09, 0.12, 0.15, 0.2, 0.25, 0.3, 0.4):
        proc = subprocess.Popen([*command, *args], env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        # no frame of the command's modules or of what they import. A traceback of Python's own start
        # (site, runpy), of pip's script or of the package's first lines (its __init__, __main__ and
        # start, which import nothing and run in a millisecond before start.run catches Ctrl-C) is
        # the interpreter's, before anything can be caught
        assert not re.search(r'File "[^"]*[/\\](fdi_incentive[/\\](?!__init__|__main__|start\.py)|(typer|click|rich|pydantic|polars)[/\\])',
                             err), (delay, err)
        if "Traceback" in err:
            continue
        # (before Python sets its handler the signal ends the process, as a shell reports with 130 too)
        assert proc.returncode in (130, -signal.SIGINT, 0), (delay, proc.returncode, err)
        assert err.strip() in ("", "fdi: stopped by SIGINT"), (delay, err)
        codes.append(proc.returncode)
    assert 130 in codes, codes


@pytest.mark.parametrize("kind", ["fifo", "chardev"])
def test_spark_refuses_a_device_or_fifo_output_before_it_starts(tmp_path, kind):
    """`--engine spark` renames Spark's result into place: a node is refused (exit 2), untouched."""
    pytest.importorskip("pyspark")
    src, target = small_csv(tmp_path / "in.csv"), tmp_path / "out.csv"
    make_node(target, kind)
    done = fdi("batch", src, "-o", target, "--engine", "spark")
    assert done.exit_code == 2 and done.output.startswith("fdi: error: -o") and "--engine spark" in done.output, done.output
    assert (stat.S_ISFIFO if kind == "fifo" else stat.S_ISCHR)(os.lstat(target).st_mode)


def test_a_terminal_as_output_shows_the_rows_without_controls(tmp_path):
    """`-o /dev/tty` (here a private pseudo-terminal): a character device written into, shown as
    standard output shows rows on a terminal, without the escape sequences a cell may hold."""
    import pty

    src = tmp_path / "in.csv"
    src.write_text("project_id,year,sector,paid_in_usd,fx_rate\n\x1b]0;pwned\x07P1,2024,manufacturing,40000000,7.1\n",
                   encoding="utf-8")
    leader, follower = pty.openpty()
    try:
        done = fdi("batch", src, "-o", os.ttyname(follower), "--no-progress")
        assert done.exit_code == 0, done.output
        shown = os.read(leader, 1 << 16)
    finally:
        os.close(follower)
        os.close(leader)
    assert b"\x1b" not in shown and b"\x07" not in shown and b"]0;pwnedP1,2024" in shown
