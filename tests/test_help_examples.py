"""Every example line in every command's --help runs and exits 0, so the help cannot drift."""

import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from fdi_incentive.cli import app

ROOT = Path(__file__).parents[1]
EXAMPLE = re.compile(r"^\s*(?:Example:\s*)?(fdi\s.*?)\s*$")


def commands(command, path: tuple[str, ...] = ()):
    yield path, command
    if hasattr(command, "commands"):  # a group
        for name, sub in sorted(command.commands.items()):
            yield from commands(sub, path + (name,))


def joined(lines):
    """Lines with a shell's continuations (a `\\` at the end) joined into one."""
    out, held = [], ""
    for line in lines:
        if line.rstrip().endswith("\\"):
            held += line.rstrip()[:-1].rstrip() + " " if held else line.rstrip()[:-1].rstrip() + " "
            continue
        out.append(held + line.strip() if held else line)
        held = ""
    return out


def examples():
    found = []
    for path, command in commands(get_command(app)):
        for line in joined((command.help or "").splitlines()):
            m = EXAMPLE.match(line)
            if m:
                found.append((" ".join(path), " ".join(m.group(1).split())))
    return found


@pytest.mark.parametrize("path", [" ".join(p) for p, _ in commands(get_command(app))], ids=lambda p: p or "fdi")
def test_help_at_80_columns_pastes_whole_commands_and_shows_no_bool_placeholder(path):
    """Issue 22 #26: at 80 columns an example wrapped in the middle of a command (pasting it broke),
    and flags showed a `<bool>` placeholder as if they took a value. Each example printed fits the
    line or continues with a `\\` a shell accepts; pasted, it is the example."""
    out = CliRunner().invoke(app, [*path.split(), "--help"], env={"COLUMNS": "80"}, terminal_width=80).output
    assert "<bool>" not in out, out
    assert max(len(line) for line in out.splitlines()) <= 80
    printed = [" ".join(m.group(1).split()) for line in joined(out.splitlines()) if (m := EXAMPLE.match(line))]
    assert printed == [line for p, line in examples() if p == path], out


def test_every_command_has_an_example():
    documented = {path for path, _ in examples()}
    leaves = {" ".join(p) for p, c in commands(get_command(app)) if p and not hasattr(c, "commands")}
    assert leaves and leaves <= documented, leaves - documented


@pytest.mark.parametrize("command, line", examples(), ids=[line for _, line in examples()])
def test_help_example_runs(command, line, tmp_path, monkeypatch):
    """In a folder holding the repository's examples and a user's policy file (`my-city.toml`, as
    `fdi policy validate`'s example names one): the example exits 0."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    shutil.copy(ROOT / "src/fdi_incentive/policies/cn-cq-2023.toml", tmp_path / "my-city.toml")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, shlex.split(line)[1:])
    assert result.exit_code == 0, f"`{line}` (from `fdi {command} --help`) exited {result.exit_code}:\n{result.output}"
