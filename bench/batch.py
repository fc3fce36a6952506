"""`fdi batch` against its floor (see bench/README.md): polars reading the same CSV and writing the same columns back.

Whole processes, alternated (floor, fdi, floor, fdi, ...), a warm-up pair discarded;
prints the median wall-time ratio with its min-max and both peak RSS figures.

    pip install .        # polars, which the floor uses, is a dependency of fdi batch itself
    python bench/batch.py --rows 1000000 --pairs 5
    python bench/batch.py --rows 10000000 --pairs 1      # memory as files grow
    python bench/batch.py --rows 100000 --pairs 3 --to xlsx   # fdi batch writing Excel (the floor is still CSV)
    python bench/batch.py --rows 1000000 --pairs 5 --encoding gbk   # fdi reads the file saved in GBK (the floor, in UTF-8)
    python bench/batch.py --rows 1000000 --pairs 3 --ledger   # a ledger of arrivals (generate.py --ledger)
    python bench/batch.py --rows 1000000 --pairs 5 --wide     # and a floor that writes what fdi writes

--wide adds a third process to each round: polars reading the same CSV and writing it back
with fdi's thirteen result columns beside it, exactly as fdi wrote them (taken from the
warm-up run's output beforehand, in an uncompressed Arrow file): reading and writing fdi's output, with no
scoring at all. fdi's ratio to it is the cost of the scoring alone.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
FLOOR = "import polars as pl, sys; pl.read_csv(sys.argv[1], infer_schema=False).write_csv(sys.argv[2])"
WIDE = ("import polars as pl, sys; df = pl.read_csv(sys.argv[1], infer_schema=False); "
        "pl.concat([df, pl.read_ipc(sys.argv[2])], how='horizontal').write_csv(sys.argv[3])")
RESULTS = 14  # fdi's result columns, after the input's (fdi_incentive.frame.RESULT_COLUMNS)
FDI_OK = (0, 1)  # fdi batch's exit codes for a file scored whole (1: some rows carry errors)


def timed(cmd: list[str], ok: tuple[int, ...] = (0,)) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (KiB) and CPU seconds (user + system) of one whole process, via GNU time."""
    out = subprocess.run(["/usr/bin/time", "-f", "%e %M %U %S", *cmd], capture_output=True, text=True)
    if out.returncode not in ok:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{out.stderr[-2000:]}")
    wall, rss, user, system = out.stderr.strip().splitlines()[-1].split()
    return float(wall), int(rss), float(user) + float(system)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--pairs", type=int, default=5)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "fdi-bench")
    ap.add_argument("--to", choices=["csv", "xlsx", "parquet", "jsonl"], default="csv", help="fdi batch's output format")
    ap.add_argument("--encoding", choices=["utf-8", "gbk"], default="utf-8",
                    help="the encoding of the file fdi batch reads (the floor reads the same rows in UTF-8)")
    ap.add_argument("--ledger", action="store_true", help="a ledger of ROWS arrivals instead of project-years")
    ap.add_argument("--wide", action="store_true", help="also time a floor that writes fdi's result columns too (see above)")
    args = ap.parse_args()
    if args.wide and (args.ledger or args.to != "csv"):
        ap.error("--wide compares CSV output of project-years")
    args.dir.mkdir(parents=True, exist_ok=True)
    src = args.dir / f"{'ledger' if args.ledger else 'projects'}-{args.rows}.csv"
    if not src.exists():
        subprocess.run([sys.executable, str(HERE / "generate.py"), *(["--ledger"] if args.ledger else []), str(args.rows),
                        str(src)], check=True)
    given = src
    if args.encoding != "utf-8":
        given = src.with_name(f"{src.stem}-{args.encoding}.csv")
        if not given.exists():
            given.write_bytes(src.read_text(encoding="utf-8").encode(args.encoding))
    # fdi's bytecode compiled, as `pip install .` leaves it (an editable checkout under PYTHONDONTWRITEBYTECODE
    # would compile every module at every start, ~0.06 s)
    import compileall

    import fdi_incentive

    compileall.compile_dir(Path(fdi_incentive.__file__).parent, quiet=1)
    # the same interpreter, started the same way as the floor (an `fdi` on PATH may be a shell shim, e.g. pyenv's)
    fdi = [sys.executable, "-m", "fdi_incentive"]
    floor_cmd = [sys.executable, "-c", FLOOR, str(src), str(args.dir / "floor.csv")]
    fdi_cmd = [*fdi, "batch", str(given), "-o", str(args.dir / f"scored.{args.to}"), "--no-progress"]
    size = given.stat().st_size / 2**20
    what = "arrivals" if args.ledger else "rows"
    print(f"{args.rows:,} {what}, {size:.0f} MiB CSV in {args.encoding}; {args.pairs} pairs after a warm-up pair")
    timed(floor_cmd), timed(fdi_cmd, FDI_OK)
    wide_cmd = None
    if args.wide:
        import polars as pl

        scored = pl.read_csv(args.dir / "scored.csv", infer_schema=False)
        scored.select(scored.columns[-RESULTS:]).write_ipc(args.dir / "results.arrow", compression="uncompressed")
        del scored
        wide_cmd = [sys.executable, "-c", WIDE, str(src), str(args.dir / "results.arrow"), str(args.dir / "wide.csv")]
        timed(wide_cmd)
    floors, runs, wides = [], [], []
    for _ in range(args.pairs):
        floors.append(timed(floor_cmd))
        runs.append(timed(fdi_cmd, FDI_OK))
        if wide_cmd:
            wides.append(timed(wide_cmd))
    ratios = [r[0] / f[0] for r, f in zip(runs, floors)]
    fw, rw = statistics.median(f[0] for f in floors), statistics.median(r[0] for r in runs)
    fm, rm = max(f[1] for f in floors), max(r[1] for r in runs)
    print(f"floor (polars read+write)  median {fw:.2f} s  peak RSS {fm / 1024:.0f} MiB")
    label = "fdi batch" + (f" to .{args.to}" if args.to != "csv" else "") + (f" from {args.encoding}" if given != src else "")
    print(f"{label:25s}  median {rw:.2f} s  peak RSS {rm / 1024:.0f} MiB")
    print(f"ratio: {statistics.median(ratios):.2f}x wall (min {min(ratios):.2f}, max {max(ratios):.2f}); "
          f"{rm / fm:.2f}x peak memory; {args.rows / rw:,.0f} {what}/s")
    if wides:
        ww, wm = statistics.median(w[0] for w in wides), max(w[1] for w in wides)
        over = [r[0] / w[0] for r, w in zip(runs, wides)]
        print(f"wide floor (fdi's output)  median {ww:.2f} s  peak RSS {wm / 1024:.0f} MiB  ({ww / fw:.2f}x the floor)")
        print(f"fdi batch / wide floor: {statistics.median(over):.2f}x wall (min {min(over):.2f}, max {max(over):.2f})")
    # CPU seconds move less with the machine's load than wall time: a steadier figure to compare versions by
    fc, rc = statistics.median(f[2] for f in floors), statistics.median(r[2] for r in runs)
    print(f"CPU (user + system): floor {fc:.2f} s, fdi batch {rc:.2f} s: {rc / fc:.2f}x")


if __name__ == "__main__":
    main()
