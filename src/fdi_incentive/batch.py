"""Scoring a file of projects: every row in, every row out, scored or with its error, and a summary.

The work is done by DuckDB over SQL that `columnar` generates from the policy
files; rows stream from the input to the output, so memory does not grow with the
file. This module never prints: progress goes to a callback, the summary is returned.
"""

import hashlib
import shutil
import tempfile
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, Field

from . import __version__
from .columnar import RESULT_COLUMNS, Options, SqlBuilder, currency_lookup, layered, lit, q, year_lookup
from .errors import InputError
from .io.readers import Source, normalise_csv, open_input
from .io.writers import OUTPUT_FORMATS, atomic_output, output_format, write_xlsx
from .models import Money

FIRST_ERRORS = 10
MEMORY_LIMIT = "1GB"


class RowError(BaseModel):
    row: int = Field(description="data row number, 1 = the first row after the header")
    error: str


class Group(BaseModel):
    rows: int
    eligible: int
    incentive_cny: Money


class BatchSummary(BaseModel):
    """What a batch did, with enough to audit and reproduce it."""

    tool: str = f"fdi-incentive {__version__}"
    input: str
    input_format: str
    input_sha256: str | None = None
    output: str | None
    shape: str
    column_mapping: dict[str, str]
    rows: int
    scored: int
    errors: int
    first_errors: list[RowError]
    eligible_by_tier: dict[str, int]
    capped: int
    total_incentive_cny: Money
    by_category: dict[str, Group]
    by_year: dict[str, Group]
    policies: dict[str, str] = Field(description="policy id -> sha256 of its file")
    fx_sources: list[str]
    notes: list[str]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _relation(src: Source) -> str:
    if src.format == "parquet":
        return f"read_parquet({lit(src.path)})"
    cols = "{" + ", ".join(f"{lit(c)}: 'VARCHAR'" for c in src.columns) + "}"
    return (f"read_csv({lit(src.path)}, header=true, auto_detect=false, columns={cols}, delim={lit(src.delimiter)}, "
            f"quote='\"', escape='\"', strict_mode=true)")


def _run_with_progress(con, sql: str, progress: Callable[[float], None] | None, span: tuple[float, float] = (0, 100),
                       fetch: bool = False):
    """Run a statement; while it runs, report its progress, mapped into ``span`` of 0-100, to the callback."""
    if progress is None:
        result = con.execute(sql)
        return result.fetchall() if fetch else None
    lo, hi = span
    done = threading.Event()

    def poll() -> None:
        while not done.wait(0.2):
            try:
                pct = con.query_progress()
            except Exception:  # noqa: BLE001 - progress is best effort
                continue
            if pct is not None and pct >= 0:
                progress(lo + (hi - lo) * min(float(pct), 100.0) / 100)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    try:
        result = con.execute(sql)
        rows = result.fetchall() if fetch else None
    finally:
        done.set()
        watcher.join()
    progress(hi)
    return rows


def score_file(
    input_path: str | Path,
    output_path: str | Path | None,
    *,
    options: Options | None = None,
    encoding: str | None = None,
    progress: Callable[[float], None] | None = None,
    hash_input: bool = False,
    stdout=None,
    projects_path: str | Path | None = None,
) -> BatchSummary:
    """Score every row of ``input_path`` into ``output_path`` (CSV to ``stdout`` when None).

    Raises InputError for an unusable file or output; rows with bad values are
    scored as errors instead, and counted in the summary.
    """
    import duckdb

    options = options or Options()
    input_path = Path(input_path)
    out = Path(output_path) if output_path is not None else None
    fmt = output_format(out) if out is not None else "csv"
    if out is not None and out.resolve() == input_path.resolve():
        raise InputError("-o", str(out), "an output file other than the input file")
    src = open_input(input_path, encoding=encoding)
    projects = open_input(projects_path) if projects_path is not None else None
    notes = [f"input converted: {src.converted_from}"] if src.converted_from else []
    work = Path(tempfile.mkdtemp(prefix="fdi-batch-"))
    try:
        for attempt in (1, 2):
            try:
                return _score(duckdb, src, input_path, out, fmt, options, work, progress, notes, hash_input, stdout,
                              projects)
            except (duckdb.InvalidInputException, duckdb.ConversionException) as exc:
                # Only a file DuckDB cannot read as CSV lands here; anything else is a bug and surfaces.
                if attempt == 2 or src.format != "csv" or src.has_parse_errors_column:
                    raise InputError("INPUT", str(input_path), f"a file the engine can read ({str(exc).splitlines()[0]})") from None
                # The fast path could not scan the file as it is (ragged rows, stray quotes):
                # normalise it row by row, keeping every row with its parse error, and go again.
                src = normalise_csv(src)
                notes.append("some rows did not match the header; each carries its parse error")
        raise AssertionError("unreachable")
    finally:
        src.cleanup()
        if projects is not None:
            projects.cleanup()
        shutil.rmtree(work, ignore_errors=True)


def _score(duckdb, src: Source, input_path: Path, out: Path | None, fmt: str, options: Options, work: Path,
           progress, notes: list[str], hash_input: bool, stdout, projects: Source | None = None) -> BatchSummary:
    m = src.mapping
    ledger = "date" in m and "amount" in m
    if "year" not in m and not ledger:
        found = ", ".join(src.columns[:20])
        raise InputError("INPUT", str(input_path),
                         f"a header with at least a year column (year / 年份) and paid_in_usd; found: {found}")
    # Order-preserving output buffers finished batches until earlier ones are written; a memory
    # limit (with a spill folder) keeps that bounded however large the file is.
    con = duckdb.connect(config={"preserve_insertion_order": True, "memory_limit": MEMORY_LIMIT,
                                 "temp_directory": str(work / "spill")})
    # Rows must come out in input order: keep the file on the probe side of every lookup join
    # (the optimizer would otherwise build on the file when it underestimates it, and reorder rows).
    con.execute("SET disabled_optimizers = 'join_order,build_side_probe_side'")
    if progress is not None:  # DuckDB tracks progress only with its bar on; we draw our own
        con.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false")
    try:
        relation = _relation(src)
        columns = src.columns
        if ledger:
            from .ledger import LEDGER_COLUMNS, prepare_ledger

            proj_rel = proj_map = None
            if projects is not None:
                proj_rel, proj_map = _relation(projects), projects.mapping
            relation = prepare_ledger(con, relation, m, options, work, proj_rel, proj_map)
            columns = LEDGER_COLUMNS
            m = {c: c for c in LEDGER_COLUMNS if not c.startswith("__")} | {"fx_rate": "__fx_rate_text"}
            m.pop("arrivals")
        lookups = year_lookup(options, need_fx=options.fx_rate is None)
        pairs = []
        if not ledger and ("currency" in m or "reinvested_profit_currency" in m):
            ccy_cols = []
            if "currency" in m:
                ccy_cols.append(f"SELECT upper(trim(CAST({q(m['currency'])} AS VARCHAR))) AS c, {q(m['year'])} AS y FROM {relation}")
            if "reinvested_profit_currency" in m:
                ccy_cols.append(f"SELECT upper(trim(CAST({q(m['reinvested_profit_currency'])} AS VARCHAR))) AS c, {q(m['year'])} AS y FROM {relation}")
            pairs = con.execute(
                f"SELECT DISTINCT c, TRY_CAST(y AS INTEGER) FROM ({' UNION ALL '.join(ccy_cols)}) "
                "WHERE c IS NOT NULL AND c NOT IN ('USD', 'CNY') AND regexp_full_match(c, '[A-Z]{3}') AND TRY_CAST(y AS INTEGER) IS NOT NULL"
            ).fetchall()
        lookups.currency_rows = currency_lookup(options, pairs)
        builder = SqlBuilder(columns, m, options, lookups)
        base = builder.query(relation)

        neutralise = fmt in ("csv", "xlsx")
        select = f"{base}, texts AS ({builder.limbs_cte()})\nSELECT {builder.output_columns(neutralise)} FROM texts"
        if fmt == "xlsx":
            # An Excel sheet is slow to read back: summarise from the pipeline, then write.
            scored = ("(SELECT * REPLACE (CASE WHEN __error IS NULL THEN __policy END AS __policy, "
                      "CASE WHEN __error IS NULL THEN __fx_source END AS __fx_source) FROM result)")
            groups = _run_with_progress(con, f"{base}\n{_SUMMARY.format(src=scored)}", progress, (0, 35), fetch=True)
            written = _write(con, select, out, fmt, work, progress, stdout, (35, 100))
            back = None
        else:
            # Write once, then summarise from what was written: reading back a few columns of
            # the output costs far less than running the whole pipeline a second time.
            written = _write(con, select, out, fmt, work, progress, stdout, (0, 90))
            back = _read_back(builder, m, Path(written), fmt)
            groups = _run_with_progress(con, f"WITH result AS ({back})\n{_SUMMARY.format(src='result')}",
                                        progress, (90, 100), fetch=True)
        if out is None:
            _to_stdout(Path(written), stdout)
            written = None

        total = next(r for r in groups if r[0] == 31)
        rows, errors = total[6], total[7]
        first: list[RowError] = []
        if errors:
            source = f"{base}, numbered AS (SELECT row_number() OVER () AS __row, __error FROM result)" if back is None \
                else f"WITH numbered AS (SELECT row_number() OVER () AS __row, __error FROM ({back}))"
            first = [RowError(row=r, error=e) for r, e in con.execute(
                f"{source} SELECT __row, __error FROM numbered WHERE __error IS NOT NULL ORDER BY __row LIMIT {FIRST_ERRORS}"
            ).fetchall()]

        # GROUPING() sets a bit for each of (tier, category, year, policy, fx_source) NOT grouped by.
        def by(index: int, mask: int) -> dict[str, Group]:
            return {
                str(r[index]): Group(rows=r[6], eligible=r[8], incentive_cny=Decimal(r[10]))
                for r in groups if r[0] == mask and r[index] is not None
            }

        tiers = {str(r[1]): r[8] for r in groups if r[0] == 0b01111 and r[1] is not None}
        policies_used = [str(r[4]) for r in groups if r[0] == 0b11101 and r[4] is not None]
        fx_sources = sorted(str(r[5]) for r in groups if r[0] == 0b11110 and r[5] is not None)
        return BatchSummary(
            input=str(input_path), input_format=src.converted_from or src.format,
            input_sha256=sha256_file(input_path) if hash_input else None,
            output=written, shape="ledger" if ledger else "project-year",
            column_mapping=dict(src.mapping),
            rows=rows, scored=rows - errors, errors=errors, first_errors=first, eligible_by_tier=tiers,
            capped=total[9], total_incentive_cny=Decimal(total[10]),
            by_category=by(2, 0b10111), by_year=by(3, 0b11011),
            policies={p: lookups.policies[p].sha256 for p in policies_used if p in lookups.policies},
            fx_sources=fx_sources, notes=notes,
        )
    finally:
        con.close()


_SUMMARY = """
        SELECT GROUPING(__tier, __category, __year, __policy, __fx_source) AS g, __tier, __category, __year, __policy, __fx_source,
               count(*) AS n, count(__error) AS errors, count(*) FILTER (WHERE __error IS NULL AND __tier IS NOT NULL) AS eligible,
               count(*) FILTER (WHERE __error IS NULL AND __capped) AS capped,
               COALESCE(sum(__incentive) FILTER (WHERE __error IS NULL), 0) AS incentive
        FROM {src}
        GROUP BY GROUPING SETS ((), (__tier), (__category), (__year), (__policy), (__fx_source))"""


def _read_back(builder: SqlBuilder, m: dict[str, str], path: Path, fmt: str) -> str:
    """The written output as the summary's columns: a plain scan of a few text columns."""
    names = builder.output_names()
    cols = "{" + ", ".join(f"{lit(n)}: 'VARCHAR'" for n in names) + "}"
    relation = {
        "csv": f"read_csv({lit(path)}, header=true, auto_detect=false, columns={cols}, delim=',', quote='\"', escape='\"')",
        "parquet": f"read_parquet({lit(path)})",
        "jsonl": f"read_json({lit(path)}, format='newline_delimited', columns={cols})",
    }[fmt]
    a = builder.result_aliases()

    def cell(name: str) -> str:
        return f"NULLIF(CAST({q(name)} AS VARCHAR), '')"

    sector = cell(m["sector"]) if "sector" in m else "CAST(NULL AS VARCHAR)"
    code = cell(m["industry_code"]) if "industry_code" in m else "CAST(NULL AS VARCHAR)"
    year = f"TRY_CAST({cell(m['year'])} AS INTEGER)" if "year" in m else "CAST(NULL AS INTEGER)"
    cells = (f"SELECT {cell(a['tier'])} AS __tier, {year} AS __year, {sector} AS __sector_cell, {code} AS __code_cell, "
             f"{cell(a['policy'])} AS __policy, {cell(a['fx_source'])} AS __fx_source, "
             f"CAST({cell(a['incentive_cny'])} AS DECIMAL(38,2)) AS __incentive, "
             f"COALESCE({cell(a['capped'])} = 'true', false) AS __capped, {cell(a['error'])} AS __error "
             f"FROM {relation}")
    return layered(cells, builder.category_layers("__sector_cell", "__code_cell"))


def _to_stdout(path: Path, stdout) -> None:
    import sys

    target = stdout or sys.stdout
    with path.open(encoding="utf-8") as f:
        shutil.copyfileobj(f, target)
    target.flush()


def _write(con, select: str, out: Path | None, fmt: str, work: Path, progress, stdout, span) -> str:
    """Write the result where it belongs (through a temporary file renamed at the end); return its path.

    Without ``out`` the CSV goes to a file in the work folder, which the caller streams to stdout.
    """
    if out is None:
        tmp = work / "stdout.csv"
        _run_with_progress(con, f"COPY ({select}) TO {lit(tmp)} (FORMAT csv, HEADER true)", progress, span)
        return str(tmp)
    with atomic_output(out) as tmp:
        if fmt == "xlsx":
            write_xlsx(con, select, tmp, progress)
        else:
            options = {"csv": "FORMAT csv, HEADER true", "parquet": "FORMAT parquet", "jsonl": "FORMAT json"}[fmt]
            _run_with_progress(con, f"COPY ({select}) TO {lit(tmp)} ({options})", progress, span)
    return str(out)


__all__ = ["BatchSummary", "OUTPUT_FORMATS", "Options", "RESULT_COLUMNS", "score_file"]
