"""The fuzzer of the three engines (tests/fuzz_engines.py) is a script for long runs; this runs it on
three files with a fixed seed so it cannot rot unnoticed."""

from . import fuzz_engines


def test_the_engines_fuzzer_runs_three_files(tmp_path, capsys):
    code = fuzz_engines.main(["--files", "3", "--seed", "3", "--keep", str(tmp_path / "failing")])
    printed = capsys.readouterr().out
    assert fuzz_engines.counts["files"] == 3 and fuzz_engines.counts["rows"] > 0, printed
    assert "| files | rows | crashes | rows lost |" in printed
    assert code == 0 and not (tmp_path / "failing").exists(), printed
