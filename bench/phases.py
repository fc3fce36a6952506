"""Where `fdi batch` spends its time: import, read, score, tally, write, for one CSV, in one process
(and, for a ledger of arrivals, adding them up per project-year first).

CPU and wall seconds per phase, as the batch runs them (blocks of whole records, in order).
Compare phases within one run; the machine is shared and whole runs vary by a quarter.

    python bench/phases.py /tmp/fdi-bench/projects-1000000.csv     # made by bench/batch.py
    python bench/phases.py /tmp/fdi-bench/ledger-1000000.csv       # bench/batch.py --ledger
"""

import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

start_wall, start_cpu = time.perf_counter(), time.process_time()
from fdi_incentive import batch  # noqa: E402  (the import is a phase)
from fdi_incentive.frame import Options, Scorer  # noqa: E402
from fdi_incentive.io.readers import describe  # noqa: E402
from fdi_incentive.io.writers import BatchWriter  # noqa: E402

wall, cpu = Counter(), Counter()


def timed(phase: str, fn, *args):
    w, c = time.perf_counter(), time.process_time()
    result = fn(*args)
    wall[phase] += time.perf_counter() - w
    cpu[phase] += time.process_time() - c
    return result


def main() -> None:
    wall["import"], cpu["import"] = time.perf_counter() - start_wall, time.process_time() - start_cpu
    src = timed("read", describe, Path(sys.argv[1]))
    with tempfile.TemporaryDirectory() as work:
        ledger = src.shape == "ledger"
        if ledger:
            from fdi_incentive.ledger import project_years

            src = timed("ledger", project_years, src, Options(), Path(work))
        scorer, tally = Scorer(src.columns, src.mapping, Options()), batch._Tally()
        with BatchWriter(Path(work) / "out.csv", "csv", Path(work), scorer.output_names()) as writer:
            score_all(src, scorer, tally, writer, lines=not ledger)
    print(f"{tally.rows:,} rows")
    for phase in ("import", "ledger", "read", "score", "tally", "write"):
        if phase in wall:
            print(f"{phase:7s} wall {wall[phase]:5.2f} s   cpu {cpu[phase]:5.2f} s")
    print(f"total   wall {sum(wall.values()):5.2f} s   cpu {sum(cpu.values()):5.2f} s")


def score_all(src, scorer, tally, writer, lines: bool) -> None:
    blocks = batch._batches(src, None, (0, 100), lines=lines)
    while (block := timed("read", next, blocks, None)) is not None:
        scored = timed("score", scorer.score, block[0], True, *block[1:])
        timed("tally", tally.add, scored, scorer)
        timed("write", writer.write, scored.rows, scored.csv_ready)


if __name__ == "__main__":
    main()
