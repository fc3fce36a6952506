"""Cold start of `fdi calc` against the least any CLI on this stack pays: `import typer, rich, pydantic`.

Whole processes, alternated A B A B ..., a warm-up pair discarded; prints the
median ratio with its min-max (wall time; then the same for CPU seconds, user + system, which
move less with a shared machine's load). Usage: python bench/startup.py [PAIRS]

The first line is the figure the project aims at: `fdi calc` for one year with a given rate,
its table printed. fdi runs as an installed package does: its bytecode compiled, and written
files allowed (PYTHONDONTWRITEBYTECODE is taken out of the environment of the processes timed),
so the warm-up pair leaves the shipped policies kept as validated (`fdi_incentive.kept`).

The last line is for reference, not a target: a Typer command that does nothing but take
`fdi calc`'s options and print a one-row Rich table in a panel. Typer converts each option
through a pydantic TypeAdapter, which loads pydantic's model machinery (and builds a validator
per option) before the command's own code starts: a cost the floor's bare import never pays and
fdi cannot avoid while it is a Typer application.
"""

from __future__ import annotations

import compileall
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import fdi_incentive

# the same interpreter, started the same way as the floor (an `fdi` on PATH may be a shell shim, e.g. pyenv's)
FDI = [sys.executable, "-m", "fdi_incentive"]
FLOOR = [sys.executable, "-c", "import typer, rich, pydantic"]
CALC = ["calc", "--year", "2024", "--sector", "manufacturing", "--paid-in-usd", "40000000", "--fx-rate", "7.1"]
CASES = {
    "fdi " + " ".join(CALC): FDI + CALC,
    "the same, --json": FDI + CALC + ["--json"],
    "the embedded ECB rate (no --fx-rate)": FDI + CALC[:-2],
}
# (reference) calc's options taken by Typer, nothing computed, a one-row Rich table printed
TYPER_ALONE = '''
from pathlib import Path
from typing import Annotated, Optional
import typer
app = typer.Typer()
S = Annotated[Optional[str], typer.Option()]
@app.command()
def calc(year: S = None, kind: Annotated[str, typer.Option()] = "new", sector: S = None, industry_code: S = None,
         paid_in_usd: S = None, paid_in: S = None, currency: Annotated[str, typer.Option()] = "USD", loans_usd: S = None,
         reinvested_profit_cny: S = None, fx_rate: S = None, fx_table: Annotated[Optional[Path], typer.Option()] = None,
         rate: S = None, policy: S = None, reading: S = None, project: Annotated[Optional[Path], typer.Option()] = None,
         as_json: Annotated[bool, typer.Option("--json")] = False, lang: S = None) -> None:
    from rich.console import Console
    from rich.panel import Panel
    from rich.table import Table
    table = Table("step", "value", "why")
    table.add_row("payout", "CNY 10,000,000.00", "rounded once")
    Console().print(Panel("policy", title="policy"), table)
@app.command()
def other() -> None:
    pass
app()
'''
REFERENCE = {"(reference) Typer alone, calc's options": [sys.executable, "-c", TYPER_ALONE] + CALC}
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


CPU: dict[tuple[str, ...], list[float]] = {}  # each command's CPU seconds (user + system), run by run


def wall(cmd: list[str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.setdefault(tuple(cmd), []).append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return took


def alternate(reference: list[str], cases: dict[str, list[str]], pairs: int, label: str, width: int = 32,
              show_max: bool = False) -> None:
    """Each case against ``reference``, whole processes alternating (a warm-up pair first): the median ratio, min-max."""
    print(f"{pairs} alternating pairs after one warm-up pair; {label} = {' '.join(reference[1:])}")
    for name, cmd in cases.items():
        wall(reference), wall(cmd)
        CPU.clear()
        refs, runs = [], []
        for _ in range(pairs):
            refs.append(wall(reference))
            runs.append(wall(cmd))
        ratios = [r / f for r, f in zip(runs, refs)]
        cpu = [r / f for r, f in zip(CPU[tuple(cmd)], CPU[tuple(reference)])]
        most = f" (max {max(runs):.3f}s)" if show_max else ""
        print(f"{name:{width}s} median {statistics.median(runs):.3f}s{most} vs {label} "
              f"{statistics.median(refs):.3f}s: {statistics.median(ratios):.2f}x (min {min(ratios):.2f}, max {max(ratios):.2f}); "
              f"CPU {statistics.median(cpu):.2f}x (min {min(cpu):.2f}, max {max(cpu):.2f})")


def main() -> None:
    # fdi's bytecode compiled, as `pip install .` leaves it (an editable checkout under PYTHONDONTWRITEBYTECODE
    # would compile every module at every start, ~0.05 s)
    compileall.compile_dir(Path(fdi_incentive.__file__).parent, quiet=1)
    width = max(map(len, [*CASES, *REFERENCE]))
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    alternate(FLOOR, CASES | REFERENCE, pairs, "floor", width=width)


if __name__ == "__main__":
    main()
