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


def examples():
    found = []
    for path, command in commands(get_command(app)):
        for line in (command.help or "").splitlines():
            m = EXAMPLE.match(line)
            if m:
                found.append((" ".join(path), m.group(1)))
    return found


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
