"""A long fuzz run of the value family (#16): files of generated value texts scored by `fdi batch`,
each row held to what calc (the API) makes of the same texts. Not collected by pytest; run as

    PYTHONPATH=src python -m tests.fuzz_values --files 2000

and it prints the files generated, rows, crashes, rows lost, calc/batch disagreements and cells
written as formulas (the goal: zero of each but the first two), with the first few examples.
"""

import argparse
import csv
import sys
import tempfile
import traceback
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fdi_incentive.batch import score_file
from fdi_incentive.text import is_formula

from .strategies import control_texts, formula_texts
from .test_values import COMPARED, HEADER, calc_of, row_texts

counts = {"files": 0, "rows": 0, "crashes": 0, "rows lost": 0, "disagreements": 0, "formulas written": 0}
examples: list[str] = []


def note(kind: str, what: object) -> None:
    counts[kind] += 1
    if len(examples) < 10:
        examples.append(f"{kind}: {what!r}"[:400])


def one_file(work: Path, rows: list[tuple], notes: list[str]) -> None:
    rows = [r for r in rows if r[2].strip() and r[4].strip()]
    if not rows:
        return
    counts["files"] += 1
    counts["rows"] += len(rows)
    src, out = work / "in.csv", work / "out.csv"
    with src.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([[*HEADER, "note"], *[[f"P{i}", y, s, p, "USD", pr, fx, notes[i % len(notes)]]
                                                       for i, (y, s, p, pr, fx) in enumerate(rows)]])
    try:
        summary = score_file(src, out)
    except Exception:  # noqa: BLE001 (a crash is what is counted)
        note("crashes", (rows, traceback.format_exc(limit=2)))
        return
    with out.open(encoding="utf-8", newline="") as f:
        got = list(csv.reader(f))
    header, body = got[0], [dict(zip(got[0], r)) for r in got[1:]]
    if len(body) != len(rows) or summary.rows != len(rows):
        note("rows lost", (rows, len(body)))
        return
    if any(is_formula(c) for r in got for c in r if c):
        note("formulas written", [c for r in got for c in r if c and is_formula(c)][:3])
    for r, g in zip(rows, body):
        expected = calc_of(*r)
        if expected is None:
            ok = g["error"] != "" and g["incentive_cny"] == ""
        else:
            ok = g["error"] == "" and {k: g["fdi_" + k if k == "fx_rate" else k] for k in COMPARED} == expected
        if not ok:
            note("disagreements", (r, g.get("error"), expected))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)

        @settings(max_examples=args.files, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(st.lists(row_texts, min_size=1, max_size=40), st.lists(st.one_of(formula_texts, control_texts), min_size=1))
        def run(rows, notes):
            one_file(work, rows, notes)

        run()
    print(", ".join(f"{k}: {v:,}" for k, v in counts.items()))
    for line in examples:
        print(" ", line)
    return 0 if not any(counts[k] for k in ("crashes", "rows lost", "disagreements", "formulas written")) else 1


if __name__ == "__main__":
    sys.exit(main())
