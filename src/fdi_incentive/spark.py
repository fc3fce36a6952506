"""The policy on Spark: the compiled SQL (sql.py) run on a DataFrame, for tables one machine cannot hold.

`pip install "fdi-incentive[spark]"` brings PySpark. `score(df)` gives the DataFrame with the
result columns of `fdi sql`; `local_session()` starts Spark on this machine (`local[*]`), as
`fdi batch --engine spark` does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import InputError
from .i18n import _
from .sql import SqlOptions, compile_sql

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from .policy import LoadedPolicy

_views = itertools.count()


def local_session(app: str = "fdi-incentive", log: Path | str | None = None) -> SparkSession:
    """A Spark session on this machine's cores; quiet, exact (ANSI) arithmetic. ``log``: a file for
    Spark's own messages (errors only) from its start on."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise InputError("--engine", "spark", _('PySpark installed: pip install "fdi-incentive[spark]"')) from None
    builder = (SparkSession.builder.master("local[*]").appName(app)
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
               .config("spark.sql.ansi.enabled", "true").config("spark.ui.showConsoleProgress", "false"))
    if log is not None:  # (Spark's own messages from its start on: errors only, in that file)
        props = Path(log).with_suffix(".properties")
        props.write_text(LOG4J.format(log=Path(log).as_posix()), encoding="utf-8")
        builder = builder.config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{props.as_posix()}")
        with _stderr_to(Path(log)):  # (the JVM, started here, keeps writing its console lines there)
            session = builder.getOrCreate()
    else:
        session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


@contextlib.contextmanager
def _stderr_to(path: Path):
    """The process's standard error (its file descriptor, which a child inherits) into ``path`` meanwhile."""
    sys.stderr.flush()
    saved, fd = os.dup(2), os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.dup2(fd, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(fd)


# Spark's log4j: errors only, into a file of the run (not the console)
LOG4J = """rootLogger.level = error
rootLogger.appenderRef.file.ref = file
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = %d %p %c: %m%n
"""


def _register(session, options: SqlOptions) -> SqlOptions:
    """The reference tables (reference.py) as broadcast temporary views under names of this call's own;
    the options that name them."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    from .reference import BOOL, INT, TEXT
    from .sql import reference_tables

    prefix = f"fdi_{next(_views)}_"
    kinds = {TEXT: T.StringType(), INT: T.IntegerType(), BOOL: T.BooleanType()}
    for table in reference_tables(options).tables:
        schema = T.StructType([T.StructField(c, kinds[k] if k in kinds else T.DecimalType(*k)) for c, k in table.columns])
        frame = session.createDataFrame(list(table.rows), schema)
        F.broadcast(frame).createOrReplaceTempView(prefix + table.name.removeprefix("fdi_"))
    return dataclasses.replace(options, prefix=prefix)


def score(df: DataFrame, *, policy: LoadedPolicy | None = None, reading: str | None = None,
          fx_rate: Decimal | None = None, rate: Decimal | None = None) -> DataFrame:
    """``df`` (columns as `fdi sql` reads them) with the result columns, scored by the compiled Spark SQL.

    A column of the table that ``df`` lacks is taken as NULL; the optional columns (location,
    high_tech, hnte, priority, spent_usd) are read where ``df`` has them; ``df``'s other columns
    follow the table's. The frame is registered as a temporary view under a name of its own; the
    statement reads it.
    """
    from pyspark.sql import functions as F

    from .reference import OPTIONAL_COLUMNS
    from .sql import INPUT_COLUMNS

    missing = {"year": "INT", "fx_rate": "DECIMAL(12, 8)"}
    for name in INPUT_COLUMNS:
        if name not in df.columns:
            df = df.withColumn(name, F.lit(None).cast(missing.get(name, "DECIMAL(16, 2)" if name.endswith("_usd") else "STRING")))
    view = f"fdi_projects_{next(_views)}"
    df.createOrReplaceTempView(view)
    optional = tuple(c for c in OPTIONAL_COLUMNS if c in df.columns)
    keep = tuple(c for c in df.columns if c not in INPUT_COLUMNS and c not in optional)
    options = _register(df.sparkSession, SqlOptions(table=view, policy=policy, reading=reading, fx_rate=fx_rate, rate=rate, keep=keep,
                                                    columns=optional))
    return df.sparkSession.sql(compile_sql("spark", options, pretty=False))


# --- fdi batch --engine spark: a file through a local session ----------------------------------

NUMBERS = {"year": "INT", "paid_in_usd": "DECIMAL(38, 10)", "shareholder_loans_usd": "DECIMAL(38, 10)",
           "reinvested_profit_usd": "DECIMAL(38, 10)", "fx_rate": "DECIMAL(38, 12)", "spent_usd": "DECIMAL(38, 10)"}
TEXTS = ("project_id", "kind", "sector", "industry_code", "location", "high_tech", "hnte", "priority")
OPTIONAL = ("location", "high_tech", "hnte", "priority", "spent_usd")  # (reference.OPTIONAL_COLUMNS: read where the file has them)
MONEY = ("base_usd", "base_cny", "gross_cny", "incentive_cny")
ROW = "_fdi_row"


def header(input_path) -> list[str]:
    """The column names of a CSV (its first line) or Parquet file, read without Spark."""
    from pathlib import Path

    src = Path(input_path)
    if src.suffix.lower() == ".parquet":
        import polars as pl

        return list(pl.read_parquet_schema(src))
    import csv

    with src.open(encoding="utf-8-sig", newline="") as f:
        return next(csv.reader(f), [])


def check_file(input_path, output_path) -> str:
    """Everything about the files that can be refused before a session starts (Spark takes seconds to
    start): the formats, and a header whose columns `fdi sql`'s table cannot take. The output's format."""
    fmt = check_paths(input_path, output_path)
    _columns(header(input_path))
    return fmt


def _columns(names: list[str]) -> dict[str, str]:
    """The file's column for each column of `fdi sql`'s table, matched as `fdi batch` matches headers."""
    from .io.headers import map_columns, normalise_header

    mapping = map_columns(names)
    profit = [n for n in names if normalise_header(n) == "reinvestedprofitusd"]
    if "reinvested_profit" in mapping and not profit:
        raise InputError("INPUT", mapping["reinvested_profit"], _("reinvested profits in USD (a reinvested_profit_usd column) "
                                                                   "with --engine spark; fdi batch without it converts other currencies"))
    if profit:
        mapping["reinvested_profit_usd"] = profit[0]
    if "year" not in mapping:
        raise InputError("INPUT", ", ".join(names[:20]), _("a header with at least a year column (year / 年份) and paid_in_usd"))
    return mapping


def check_paths(input_path, output_path) -> str:
    """The output's format (csv, parquet or jsonl), once the input is a .csv or .parquet file and
    the output one of those: checked before a session is started (Spark takes seconds to start)."""
    from pathlib import Path

    src, out = Path(input_path), Path(output_path)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("csv", "parquet", "jsonl"):
        raise InputError("-o", str(out), _("a .csv, .parquet or .jsonl file with --engine spark"))
    if src.suffix.lower() not in (".csv", ".parquet"):
        raise InputError("INPUT", str(src), _("a .csv or .parquet file with --engine spark"))
    return fmt


def score_file(session: SparkSession, input_path, output_path, *, policy: LoadedPolicy | None = None,
               reading: str | None = None, fx_rate: Decimal | None = None) -> tuple[int, int]:
    """Score a CSV or Parquet file of project-years into ``output_path`` (.csv, .parquet or .jsonl), in
    input order; (rows, rows with errors). Cells are read as plain numbers: one that is not (a
    thousands separator, a unit) makes its row an error naming it."""
    from pathlib import Path

    from pyspark.sql import functions as F

    from .sql import RESULT_COLUMNS

    src, out = Path(input_path), Path(output_path)
    fmt = check_paths(src, out)
    if fmt == "parquet":
        from .batch import RESULT_TYPES as PARQUET_TYPES
    else:
        PARQUET_TYPES = {}
    if src.suffix.lower() == ".parquet":
        raw = session.read.parquet(str(src))
        raw = raw.select([F.col(f"`{c}`").cast("string").alias(c) for c in raw.columns])
    else:
        raw = session.read.options(header=True, escape='"', encoding="UTF-8", mode="PERMISSIVE").csv(str(src))
    names = raw.columns
    mapping = _columns(names)
    hidden = {n: f"_fdi_in_{i}" for i, n in enumerate(names)}
    df = raw.select([F.col(f"`{n}`").alias(hidden[n]) for n in names]).withColumn(ROW, F.monotonically_increasing_id())
    typed, bad = [], []
    optional = tuple(c for c in OPTIONAL if c in mapping)
    for name in TEXTS + tuple(NUMBERS):
        if name in OPTIONAL and name not in mapping:
            continue  # (a table without them scores as before)
        if name not in mapping:
            typed.append(F.lit(None).cast(NUMBERS.get(name, "string")).alias(name))
            continue
        cell = F.col(hidden[mapping[name]])
        if name in TEXTS:
            typed.append(cell.alias(name))
            continue
        text = F.trim(cell)
        value = F.expr(f"try_cast(trim({hidden[mapping[name]]}) AS {NUMBERS[name]})")
        typed.append(value.alias(name))
        bad.append(F.when(text.isNotNull() & (text != "") & value.isNull(),
                          F.concat(F.lit(f"{name}: '"), text, F.lit("' is not valid; expected a plain number (--engine spark "
                                                                    "reads no thousands separators or units)"))))
    df = df.select(*typed, *hidden.values(), ROW, F.nullif(F.concat_ws("; ", *bad), F.lit("")).alias("_fdi_cells"))
    view = f"fdi_projects_{next(_views)}"
    df.createOrReplaceTempView(view)
    options = _register(session, SqlOptions(table=view, policy=policy, reading=reading, fx_rate=fx_rate,
                                            keep=(*hidden.values(), ROW, "_fdi_cells"), columns=optional, order=ROW))
    scored = session.sql(compile_sql("spark", options, pretty=False))
    cells = F.col("_fdi_cells")
    results = []
    at = scored.columns.index("incentive_cny") + 1  # (the new shapes' columns after it: each payer's part, the place group)
    more = scored.columns[at:scored.columns.index("reason")]
    names_out = [*RESULT_COLUMNS[:RESULT_COLUMNS.index("incentive_cny") + 1], *more, *RESULT_COLUMNS[RESULT_COLUMNS.index("incentive_cny") + 1:]]
    for name in names_out:
        money = name in MONEY or (name.startswith("incentive_") and name.endswith("_cny"))
        value = F.col(name)
        if name == "error":  # (a cell that is not a number is read as empty: what the SQL says of it would mislead)
            value = F.coalesce(cells, value)
        else:
            if fmt == "parquet" and (name in PARQUET_TYPES or money):  # (typed as fdi batch types its Parquet: exact DECIMALs)
                kind = PARQUET_TYPES.get(name, PARQUET_TYPES.get("incentive_cny"))
                value = value.cast("boolean" if kind == "bool" else f"decimal({kind[0]},{kind[1]})")
            elif money or name == "rate":
                value = _money_text(value, 2 if money else 0)
            value = F.when(cells.isNull(), value)
        results.append(value.alias(name))
    final = scored.select(ROW, *[F.col(hidden[n]).alias(n) for n in names], *results)
    return _write(final, out, fmt)


def _money_text(value, least: int):
    """A DECIMAL as `fdi batch` writes it: no trailing zeros past ``least`` decimals, never rounded."""
    from pyspark.sql import functions as F

    text = value.cast("string")
    trimmed = F.when(text.contains("."), F.regexp_replace(text, "[.]?0+$", "")).otherwise(text)
    if least == 0:
        return trimmed
    whole = F.regexp_extract(trimmed, "^([^.]*)", 1)
    frac = F.regexp_extract(trimmed, "[.]([0-9]*)$", 1)
    return F.when(value.isNotNull(), F.concat(whole, F.lit("."), F.rpad(frac, F.greatest(F.length(frac), F.lit(least)), "0")))


def _write(final, out, fmt: str) -> tuple[int, int]:
    """One file, rows in input order: Spark writes a folder of parts beside the target; its one part is renamed."""
    import shutil
    import tempfile
    from pathlib import Path

    from pyspark.sql import functions as F

    # scored once, in parallel, and kept (the rule's plan is large: each action would plan and run it
    # again, and a sort samples its input first); then put in input order and written as one part
    final = final.localCheckpoint(eager=True)
    counts = final.agg(F.count(F.lit(1)).alias("rows"), F.count("error").alias("errors")).first()
    rows, errors = counts["rows"], counts["errors"]
    final = final.orderBy(ROW).drop(ROW).coalesce(1)
    work = tempfile.mkdtemp(prefix="fdi-spark-", dir=out.parent)
    try:
        writer = final.write.mode("overwrite")
        if fmt == "csv":  # (the cells as they came: Spark's writer would trim them)
            writer.options(header=True, escape='"', emptyValue="", encoding="UTF-8", ignoreLeadingWhiteSpace=False,
                           ignoreTrailingWhiteSpace=False).csv(work)
        elif fmt == "parquet":
            writer.parquet(work)
        else:
            writer.json(work)
        part = next(p for p in sorted(Path(work).iterdir()) if p.name.startswith("part-"))
        part.replace(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows, errors
