"""The compiled SQL of `fdi sql` beside `fdi batch`: the same generated project-years, CSV in, CSV out.

Whole processes, one after another (``--runs`` rounds), each timed with its start-up:

* ``fdi batch FILE -o OUT.csv`` (polars);
* DuckDB: a process that compiles `fdi sql --dialect duckdb` and runs it over the CSV read with
  typed columns (``read_csv(..., columns=...)``), ``COPY``-ing the result to a CSV;
* ``fdi batch --engine spark FILE -o OUT.csv``: the compiled Spark SQL on a local session
  (``local[*]``), its start-up (~10 s on a quiet machine) included.

The file is `bench/generate.py`'s; the SQL's table takes reinvested profits in USD, so the SQL
engines read a copy whose header names that column ``reinvested_profit_usd`` (the same work, the
same cells).

    python bench/sql.py --rows 1000000
    python bench/sql.py --rows 10000000 --no-spark
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
DUCKDB = """
import sys, duckdb
from fdi_incentive.sql import SqlOptions, compile_sql
src, out = sys.argv[1], sys.argv[2]
con = duckdb.connect()
money = "DECIMAL(18, 2)"
columns = {"project_id": "VARCHAR", "year": "INTEGER", "kind": "VARCHAR", "sector": "VARCHAR", "industry_code": "VARCHAR",
           "paid_in_usd": money, "shareholder_loans_usd": money, "reinvested_profit_usd": money, "fx_rate": "DECIMAL(12, 6)"}
con.execute(f"CREATE VIEW projects AS SELECT * FROM read_csv('{src}', header=true, columns={columns!r})")
con.execute(f"COPY ({compile_sql('duckdb', SqlOptions(), pretty=False)}) TO '{out}' (HEADER, DELIMITER ',')")
"""


def timed(cmd: list[str]) -> tuple[float, int, float]:
    """Wall seconds, peak RSS (MiB) and CPU seconds (user + system, its children's included) of one whole process."""
    out = subprocess.run(["/usr/bin/time", "-f", "%e %M %U %S", *cmd], capture_output=True, text=True)
    if out.returncode not in (0, 1):
        sys.exit(f"{cmd[:4]} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    wall, rss, user, system = out.stderr.strip().splitlines()[-1].split()
    return float(wall), int(rss) // 1024, float(user) + float(system)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--no-spark", action="store_true")
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory(prefix="fdi-bench-sql-") as tmp:
        t = Path(tmp)
        src, sql_src = t / "in.csv", t / "in-sql.csv"
        subprocess.run([py, str(HERE / "generate.py"), str(args.rows), str(src)], check=True)
        with src.open(encoding="utf-8") as f, sql_src.open("w", encoding="utf-8") as g:
            g.write(f.readline().replace("reinvested_profit", "reinvested_profit_usd"))
            while block := f.read(1 << 24):
                g.write(block)
        commands = {
            "fdi batch (polars)": [py, "-m", "fdi_incentive", "batch", str(src), "-o", str(t / "batch.csv")],
            "DuckDB SQL (fdi sql)": [py, "-c", DUCKDB, str(sql_src), str(t / "duckdb.csv")],
        }
        if not args.no_spark:
            commands["fdi batch --engine spark"] = [py, "-m", "fdi_incentive", "batch", "--engine", "spark", str(sql_src),
                                                    "-o", str(t / "spark.csv")]
        times: dict[str, list[tuple[float, int, float]]] = {name: [] for name in commands}
        for _ in range(args.runs):
            for name, cmd in commands.items():
                times[name].append(timed(cmd))
        base = statistics.median(w for w, _, _ in times["fdi batch (polars)"])
        base_cpu = statistics.median(c for _, _, c in times["fdi batch (polars)"])
        print(f"{args.rows:,} rows; {args.runs} run(s) each, whole processes; wall and CPU (user + system) seconds")
        for name, runs in times.items():
            wall, cpu = statistics.median(w for w, _, _ in runs), statistics.median(c for _, _, c in runs)
            rss = max(r for _, r, _ in runs)
            print(f"{name:28s} wall {wall:8.2f} s ({wall / base:5.2f}x)  CPU {cpu:8.2f} s ({cpu / base_cpu:5.2f}x)  "
                  f"peak RSS {rss:5d} MiB")


if __name__ == "__main__":
    main()
