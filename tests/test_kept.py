"""The shipped policies are validated once and kept between runs (`fdi_incentive.kept`), as Python
keeps compiled modules: used only while every file they were made from is the same."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fdi_incentive import kept as kept_module
from fdi_incentive.kept import kept
from fdi_incentive.policy import bundled_policies, parse_policy

POLICIES = Path(kept_module.__file__).with_name("policies")


@pytest.fixture
def writing(monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", False)


def _inputs(tmp_path, *texts):
    paths = []
    for n, text in enumerate(texts):
        path = tmp_path / f"in{n}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def test_made_once_then_read_back(tmp_path, writing):
    inputs, made = _inputs(tmp_path, "a", "b"), []
    store = tmp_path / "__pycache__" / "value.pickle"

    def make():
        made.append(1)
        return {"value": [1, 2, 3]}

    assert kept(store, inputs, make) == {"value": [1, 2, 3]} and store.exists()
    assert kept(store, inputs, make) == {"value": [1, 2, 3]}
    assert len(made) == 1


def test_made_again_when_a_file_changes(tmp_path, writing):
    inputs = _inputs(tmp_path, "a", "b")
    store = tmp_path / "value.pickle"
    assert kept(store, inputs, lambda: "old") == "old"
    inputs[1].write_text("b changed", encoding="utf-8")
    assert kept(store, inputs, lambda: "new") == "new"
    assert kept(store, inputs, lambda: "newer") == "new"


def test_a_damaged_store_is_made_again(tmp_path, writing):
    inputs = _inputs(tmp_path, "a")
    store = tmp_path / "value.pickle"
    store.write_bytes(b"not a pickle")
    assert kept(store, inputs, lambda: 42) == 42
    assert kept(store, inputs, lambda: 0) == 42


def test_nothing_kept_where_bytecode_is_not_written(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    inputs = _inputs(tmp_path, "a")
    store = tmp_path / "value.pickle"
    assert kept(store, inputs, lambda: 1) == 1 and not store.exists()


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root writes a read-only folder")
def test_nothing_kept_in_a_read_only_package(tmp_path, writing):
    inputs = _inputs(tmp_path, "a")
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        assert kept(folder / "__pycache__" / "value.pickle", inputs, lambda: 1) == 1
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o700)


def test_kept_policies_are_the_validated_ones():
    # (by name, then by start, as bundled_policies orders them: several files start on the same day)
    fresh = tuple(sorted((parse_policy(p.read_text(encoding="utf-8"), f"policies/{p.name}") for p in sorted(POLICIES.glob("*.toml"))),
                         key=lambda lp: lp.policy.effective.from_))
    assert bundled_policies() == fresh
    assert [lp.sha256 for lp in bundled_policies()] == [lp.sha256 for lp in fresh]


READ = """
import json, sys
from fdi_incentive.policy import bundled_policies
ids = [lp.policy.id for lp in bundled_policies()]
print(json.dumps({"ids": ids, "toml": "tomllib" in sys.modules}))
"""


@pytest.mark.skipif(not os.access(POLICIES, os.W_OK), reason="the installed package cannot be written")
def test_a_second_run_reads_the_policies_without_parsing_them():
    """What a run validated, the next reads back: it neither parses the TOML nor builds a policy's schema."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    runs = [json.loads(subprocess.run([sys.executable, "-c", READ], capture_output=True, text=True, check=True, env=env).stdout)
            for _ in range(2)]
    assert runs[0]["ids"] == runs[1]["ids"] == [lp.policy.id for lp in bundled_policies()]
    assert runs[1]["toml"] is False
