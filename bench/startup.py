"""Cold start of `fdi calc` against the least any CLI on this stack pays: `import typer, rich, pydantic`.

Whole processes, alternated A B A B ..., a warm-up pair discarded; prints the
median ratio with its min-max. Usage: python bench/startup.py [PAIRS]
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time

PAIRS = int(sys.argv[1]) if len(sys.argv) > 1 else 15
FDI = [shutil.which("fdi")] if shutil.which("fdi") else [sys.executable, "-m", "fdi_incentive"]
FLOOR = [sys.executable, "-c", "import typer, rich, pydantic"]
CASES = {
    "fdi calc (given rate, table)": FDI + ["calc", "--year", "2024", "--sector", "manufacturing",
                                           "--paid-in-usd", "42000000", "--fx-rate", "7.1"],
    "fdi calc --json (given rate)": FDI + ["calc", "--year", "2024", "--sector", "manufacturing",
                                           "--paid-in-usd", "42000000", "--fx-rate", "7.1", "--json"],
    "fdi calc (embedded ECB rate)": FDI + ["calc", "--year", "2024", "--sector", "manufacturing",
                                           "--paid-in-usd", "42000000"],
}


def wall(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def alternate(reference: list[str], cases: dict[str, list[str]], pairs: int, label: str, width: int = 32,
              show_max: bool = False) -> None:
    """Each case against ``reference``, whole processes alternating (a warm-up pair first): the median ratio, min-max."""
    print(f"{pairs} alternating pairs after one warm-up pair; {label} = {' '.join(reference[1:])}")
    for name, cmd in cases.items():
        wall(reference), wall(cmd)
        refs, runs = [], []
        for _ in range(pairs):
            refs.append(wall(reference))
            runs.append(wall(cmd))
        ratios = [r / f for r, f in zip(runs, refs)]
        most = f" (max {max(runs):.3f}s)" if show_max else ""
        print(f"{name:{width}s} median {statistics.median(runs):.3f}s{most} vs {label} "
              f"{statistics.median(refs):.3f}s: {statistics.median(ratios):.2f}x (min {min(ratios):.2f}, max {max(ratios):.2f})")


def main() -> None:
    alternate(FLOOR, CASES, PAIRS, "floor")


if __name__ == "__main__":
    main()
