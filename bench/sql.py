"""Each engine that applies the rule, timed beside its own floor: what that engine costs to read the
same input and write an output of the same width, with a few DECIMAL columns computed and nothing
decided.

Whole processes, alternated (floor, engine, floor, engine ...), a warm-up pair discarded; the
median ratio with its min-max, and peak RSS. One run of this script times every pair:

* polars: `fdi batch FILE -o OUT.csv` beside polars reading the CSV and writing fdi's own output
  (its input columns and its result columns taken from fdi's output beforehand: bench/batch.py --wide);
* DuckDB: a process that loads the CSV into a typed table, makes the reference tables (the
  statements `fdi sql --tables` printed beforehand) and COPYs `fdi sql`'s query (printed beforehand)
  to a CSV, beside one that loads the same table and COPYs a SELECT * with twelve computed DECIMAL
  and text columns;
* Spark: `fdi batch --engine spark FILE -o OUT.csv` beside a local session reading the CSV,
  casting it, computing one DECIMAL product, checkpointing, and writing one CSV in input order
  (both pay Spark's start-up);
* PostgreSQL (with --pg-dsn): the rows loaded once into a table; then `SELECT count(*)` of the
  view `fdi sql --view` makes, beside a SELECT of the same width with a few computed DECIMAL columns.

The file is bench/generate.py's; the SQL's table takes reinvested profits in USD, so the SQL
engines read a copy whose header names that column reinvested_profit_usd (the same cells).

    python bench/sql.py --rows 1000000 --pairs 3
    python bench/sql.py --rows 10000000 --pairs 1 --no-spark
    python bench/sql.py --rows 1000000 --pairs 3 --pg-dsn "host=/tmp/pg dbname=postgres user=fdi"
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
COLUMNS = ('{"project_id": "VARCHAR", "year": "INTEGER", "kind": "VARCHAR", "sector": "VARCHAR", "industry_code": "VARCHAR", '
           '"paid_in_usd": "DECIMAL(38, 18)", "shareholder_loans_usd": "DECIMAL(38, 18)", '
           '"reinvested_profit_usd": "DECIMAL(38, 18)", "fx_rate": "DECIMAL(38, 18)"}')
LOAD = f"""
import sys, duckdb
src, out = sys.argv[1], sys.argv[2]
con = duckdb.connect()
columns = {COLUMNS}
con.execute(f"CREATE TABLE projects AS SELECT * FROM read_csv('{{src}}', header=true, columns={{columns!r}})")
"""
# (DuckDB running the SQL `fdi sql --tables` and `fdi sql` printed beforehand, as a user runs it: no fdi in the process)
DUCKDB = LOAD + """
from pathlib import Path
con.execute(Path(sys.argv[3]).read_text(encoding="utf-8"))
query = Path(sys.argv[4]).read_text(encoding="utf-8").rstrip().rstrip(";")
con.execute(f"COPY ({query}) TO '{out}' (HEADER, DELIMITER ',')")
"""
# twelve computed columns, as wide as fdi's: DECIMAL products and sums, texts, a boolean
WIDE_SELECT = """SELECT *, 'cn-cq-2023' AS policy, 'in_force' AS policy_status, paid_in_usd > 10000000 AS eligible,
  CASE WHEN paid_in_usd > 30000000 THEN 'manufacturing' ELSE 'general' END AS tier, CAST(0.02 AS DECIMAL(3, 2)) AS rate,
  CAST(COALESCE(paid_in_usd, 0) + COALESCE(reinvested_profit_usd, 0) AS DECIMAL(17, 2)) AS base_usd,
  CAST(CAST(COALESCE(paid_in_usd, 0) AS DECIMAL(38, 2)) * COALESCE(fx_rate, 7.1) AS DECIMAL(29, 10)) AS base_cny,
  CAST(CAST(COALESCE(paid_in_usd, 0) AS DECIMAL(38, 2)) * COALESCE(fx_rate, 7.1) * 0.02 AS DECIMAL(31, 12)) AS gross_cny,
  paid_in_usd > 500000000 AS capped,
  CAST(FLOOR(CAST(COALESCE(paid_in_usd, 0) AS DECIMAL(38, 2)) * COALESCE(fx_rate, 7.1) * 2 + 0.5) / 100 AS DECIMAL(22, 2)) AS incentive_cny,
  'general tier: base over USD 10,000,000.00' AS reason, CAST(NULL AS VARCHAR) AS error FROM projects"""
DUCKDB_FLOOR = LOAD + f"""
con.execute(f\"\"\"COPY ({WIDE_SELECT}) TO '{{out}}' (HEADER, DELIMITER ',')\"\"\")
"""
SPARK_FLOOR = """
import sys, shutil, tempfile
from pathlib import Path
from fdi_incentive.spark import local_session
from pyspark.sql import functions as F
src, out = sys.argv[1], sys.argv[2]
spark = local_session()
df = spark.read.options(header=True).csv(src).withColumn("_row", F.monotonically_increasing_id())
df = df.withColumn("_paid", F.expr("try_cast(paid_in_usd AS DECIMAL(38, 10))")).withColumn(
    "_fx", F.expr("try_cast(fx_rate AS DECIMAL(38, 12))"))
df = df.withColumn("gross", F.expr("CAST(_paid * _fx * 0.02 AS DECIMAL(38, 12))")).localCheckpoint(eager=True)
work = tempfile.mkdtemp(dir=str(Path(out).parent))
df.orderBy("_row").drop("_row").coalesce(1).write.mode("overwrite").options(header=True).csv(work)
next(p for p in sorted(Path(work).iterdir()) if p.name.startswith("part-")).replace(out)
shutil.rmtree(work)
"""
WIDE = ("import polars as pl, sys; df = pl.read_csv(sys.argv[1], infer_schema=False); "
        "pl.concat([df, pl.read_ipc(sys.argv[2])], how='horizontal').write_csv(sys.argv[3])")
RESULTS = 14  # fdi batch's result columns, after the input's


def timed(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one whole process (fdi batch exits 1 when some rows carry errors)."""
    out = subprocess.run(["/usr/bin/time", "-f", "%e %M", *cmd], capture_output=True, text=True)
    if out.returncode not in ((0, 1) if "fdi_incentive" in cmd else (0,)):
        sys.exit(f"{cmd[:4]} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    wall, rss = out.stderr.strip().splitlines()[-1].split()
    return float(wall), int(rss) // 1024


def pairs(floor: list[str], engine: list[str], n: int) -> tuple[list[float], list[float], int, int]:
    """n alternated pairs after a warm-up pair: (floor seconds, engine seconds, floor peak MiB, engine peak MiB)."""
    timed(floor), timed(engine)
    fs, es, fr, er = [], [], 0, 0
    for _ in range(n):
        (f, frss), (e, erss) = timed(floor), timed(engine)
        fs.append(f), es.append(e)
        fr, er = max(fr, frss), max(er, erss)
    return fs, es, fr, er


def report(name: str, fs: list[float], es: list[float], fr: int, er: int) -> None:
    ratios = sorted(e / f for f, e in zip(fs, es))
    print(f"{name:34s} {statistics.median(es):7.2f} s beside {statistics.median(fs):7.2f} s: "
          f"{statistics.median(ratios):4.2f}x (min {ratios[0]:4.2f}, max {ratios[-1]:4.2f}); peak RSS {er} / {fr} MiB",
          flush=True)


def postgres(dsn: str, src: Path, n: int) -> None:
    import psycopg

    from fdi_incentive.sql import SqlOptions, compile_sql, input_ddl, reference_sql

    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("DROP VIEW IF EXISTS fdi_scored")
        for table in ("projects", "fdi_year", "fdi_rule", "fdi_excluded_code", "fdi_sector_name", "fdi_kind", "fdi_section",
                      "fdi_division", "fdi_class"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute(input_ddl("postgres"))
        with src.open(encoding="utf-8") as f, con.cursor() as cur:
            header = f.readline().strip()
            with cur.copy(f"COPY projects ({header}) FROM STDIN WITH (FORMAT csv)") as copy:
                while block := f.read(1 << 20):
                    copy.write(block)
        for statement in reference_sql("postgres"):
            con.execute(statement)
        con.execute("ANALYZE")
        con.execute(compile_sql("postgres", SqlOptions(view="fdi_scored")))
        # (every column computed: each row is made text, as a client fetching it would have it)
        engine = "SELECT count(*) FROM (SELECT * FROM fdi_scored OFFSET 0) s WHERE s::text <> ''"
        floor = f"SELECT count(*) FROM ({WIDE_SELECT.replace('VARCHAR', 'TEXT')} OFFSET 0) s WHERE s::text <> ''"

        def run(q: str) -> float:
            start = time.perf_counter()
            con.execute(q).fetchall()
            return time.perf_counter() - start

        run(floor), run(engine)
        fs, es = [], []
        for _ in range(n):
            fs.append(run(floor)), es.append(run(engine))
        report("PostgreSQL, the view (in-server)", fs, es, 0, 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--no-spark", action="store_true")
    ap.add_argument("--pg-dsn", help="a PostgreSQL server to time the view on (libpq connection string)")
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
        print(f"{args.rows:,} rows; {args.pairs} pair(s) after a warm-up pair, whole processes; engine beside its floor",
              flush=True)
        batch = [py, "-m", "fdi_incentive", "batch", str(src), "-o", str(t / "batch.csv"), "--no-progress"]
        subprocess.run(batch, capture_output=True)
        import polars as pl

        scored = pl.read_csv(t / "batch.csv", infer_schema=False)
        scored.select(scored.columns[-RESULTS:]).write_ipc(t / "results.arrow", compression="uncompressed")
        report("fdi batch (polars)", *pairs([py, "-c", WIDE, str(src), str(t / "results.arrow"), str(t / "wide.csv")], batch,
                                            args.pairs))
        for name, extra in (("tables.sql", ["--tables"]), ("query.sql", [])):
            made = subprocess.run([py, "-m", "fdi_incentive", "sql", "--dialect", "duckdb", *extra], capture_output=True, check=True)
            (t / name).write_bytes(made.stdout)
        report("DuckDB, fdi sql's query", *pairs([py, "-c", DUCKDB_FLOOR, str(sql_src), str(t / "floor.csv")],
                                                [py, "-c", DUCKDB, str(sql_src), str(t / "duckdb.csv"), str(t / "tables.sql"),
                                                 str(t / "query.sql")], args.pairs))
        if not args.no_spark:
            report("fdi batch --engine spark", *pairs(
                [py, "-c", SPARK_FLOOR, str(sql_src), str(t / "spark-floor.csv")],
                [py, "-m", "fdi_incentive", "batch", "--engine", "spark", str(sql_src), "-o", str(t / "spark.csv"),
                 "--no-progress"], args.pairs))
        if args.pg_dsn:
            postgres(args.pg_dsn, sql_src, args.pairs)


if __name__ == "__main__":
    main()
