"""README's commands and code run as written, so the docs cannot drift."""

import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fdi_incentive.cli import app

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def fdi_commands():
    commands = [line.removeprefix("$ ").strip() for line in re.findall(r"^\$ fdi .*$", README, re.M)]
    quick = re.search(r"## Quick start.*?```console\n(.*?)```", README, re.S).group(1).splitlines()
    commands += [line.split("&&", 1)[1].strip() for line in quick if "&& fdi " in line]
    return commands


def test_quick_start_is_two_commands():
    quick = re.search(r"## Quick start.*?```console\n(.*?)```", README, re.S).group(1).strip().splitlines()
    assert len(quick) == 2
    assert quick[1] == 'pip install ".[test]" && python -m pytest'
    assert quick[1].split("&& ", 1)[1] in (ROOT / ".ci/run").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", fdi_commands())
def test_readme_command_runs(command, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, shlex.split(command)[1:])
    assert result.exit_code == 0, result.output
    if command.startswith("fdi sql"):  # (SQL: statements, each ended)
        assert result.output.rstrip().endswith(";"), result.output[-200:]
    else:
        assert "CNY" in result.output


def test_readme_python_snippet_runs():
    code = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert str(namespace["result"].total_incentive_cny) == "10000000.00"
