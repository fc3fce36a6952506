"""`fdi batch`: a file of project-years (or a ledger of arrivals) scored row by row, on polars or on Spark."""

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .cli_base import (FLAG, ExitCode, Lang, Stopped, _Command, _console, _fail, _fx_source,
                       _named_as_options, _reading, _release_stdout, app, handles_errors)
from .errors import InputError
from .i18n import _


UNITS = {"1": "1", "10k": "10000", "1m": "1000000", "万": "10000", "百万": "1000000"}


@app.command(cls=_Command)
@handles_errors
def batch(
    input: Annotated[Path, typer.Argument(help="CSV (UTF-8 or GBK), .xlsx, .parquet or .jsonl: project-years or a ledger of arrivals.")],
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Where to write: .csv, .xlsx, .parquet or .jsonl. Default: CSV on stdout.")] = None,
    encoding: Annotated[Optional[str], typer.Option(help="Input encoding. Default: detected (UTF-8, else GB18030/GBK).")] = None,
    unit: Annotated[Optional[str], typer.Option(help="Unit of the amount columns: 1, 10k (万美元) or 1m. Default: the unit a header names (实际到位外资（万美元）), else 1.")] = None,
    fx_rate: Annotated[Optional[str], typer.Option(help="CNY per USD for rows without an fx_rate of their own.")] = None,
    fx_table: Annotated[Optional[Path], typer.Option(help="CSV of date,currency,CNY per unit; each year's average is used.")] = None,
    policy: Annotated[Optional[str], typer.Option(help="A policy id or file. Default: the one in force each year.")] = None,
    reading: Annotated[Optional[str], typer.Option(help="converted (default) or nominal.")] = None,
    summary_json: Annotated[Optional[Path], typer.Option(help="Also write the summary as JSON, with the tool version and sha256 of the input and policies.")] = None,
    progress: Annotated[Optional[bool], typer.Option("--progress/--no-progress", metavar=FLAG, help="Progress bar. Default: only on a terminal.")] = None,
    projects: Annotated[Optional[Path], typer.Option(help="For a ledger of arrivals: a file of project_id, kind, sector / industry_code.")] = None,
    output_encoding: Annotated[Optional[str], typer.Option(help="A CSV output's encoding: utf-8, utf-8-sig (with a BOM, as Excel wants) or gbk. Default: utf-8-sig when the input came as GBK or with a BOM, else utf-8.")] = None,
    engine: Annotated[str, typer.Option(help="polars (default) or spark: the compiled SQL of `fdi sql` on a local Spark session (pip install \"fdi-incentive[spark]\").")] = "polars",
    compare: Annotated[bool, typer.Option("--compare", metavar=FLAG, help="Score every row under every shipped policy into one long output (a row per input row and policy; -o a .csv or .parquet).")] = False,
    lang: Lang = None,
) -> None:
    """Score a file of projects: every row in, every row out, scored or with its error, and a summary.

    One row per project-year: project_id, year, kind, sector or industry_code, paid_in_usd (or paid_in + currency), shareholder_loans_usd, reinvested_profit, fx_rate. Headers are matched forgivingly, Chinese ones too (项目编号, 年份, 实际到位外资 …).

    Or a ledger of capital arrivals: project_id, date, type, amount, currency, with kind and sector on each row or from --projects; added up per project and calendar year.

    Exit code 0 when every row was scored, 1 when some rows carry errors (all rows are still written), 2 for a usage error or an unreadable file.

    Example:

        fdi batch examples/projects.csv -o scored.xlsx \\
            --summary-json summary.json
    """  # (a paragraph is one line: Typer's rich mode keeps every line break)
    from decimal import Decimal

    if engine.strip().lower() == "spark":
        given = {"--encoding": encoding, "--fx-table": fx_table, "--summary-json": summary_json, "--projects": projects,
                 "--unit": None if unit in (None, "1") else unit, "--output-encoding": output_encoding}
        return _batch_on_spark(input, output, fx_rate, policy, reading, [k for k, v in given.items() if v is not None])
    if engine.strip().lower() != "polars":
        _fail(_("--engine: {engine} is not valid; expected polars or spark").format(engine=repr(engine)))
    from .batch import score_file
    from .frame import Options

    if compare:
        given = {"--policy": policy, "--summary-json": summary_json, "--projects": projects, "--output-encoding": output_encoding}
        if output is None or [k for k, v in given.items() if v is not None]:
            _fail(_("--compare: give -o FILE (.csv or .parquet), and not {options}").format(
                options=", ".join(given)))
        return _compare(input, output, encoding, unit, fx_rate, fx_table, reading)

    if unit is not None and unit.strip().lower() not in UNITS:
        _fail(_("--unit: {unit} is not valid; expected 1, 10k or 1m").format(unit=repr(unit)))
    options = Options(
        policy=None, reading=_reading(reading), unit=Decimal(UNITS[(unit or "1").strip().lower()]),
        rates=_fx_source(None, fx_table), unit_given=unit is not None, unit_text=unit,
    )
    if fx_rate is not None:
        from .fx import parse_rate

        options.fx_rate = parse_rate(fx_rate, "--fx-rate")
    if policy is not None:
        from .policy import get_policy

        options.policy = get_policy(policy)
    from .io.writers import check_outputs

    err_console = _console(stderr=True)
    show_progress = err_console.is_terminal if progress is None else progress
    to_stdout = output is None
    bar = None
    try:
        # every output, before any work: writable, and none of the files the run reads by any name
        policy_file = Path(options.policy.origin) if options.policy is not None else None
        check_outputs({"-o": output, "--summary-json": summary_json}, [input, projects, fx_table, policy_file])
        if show_progress:
            from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

            bar = Progress(TextColumn(_("scoring")), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(), console=err_console)
            task = bar.add_task("scoring", total=100)
            bar.start()
        with _named_as_options("fx", "fx_table"):  # (a row's "no rate" error names the options that give one)
            summary = score_file(
                input, output, options=options, encoding=encoding,
                progress=(lambda pct: bar.update(task, completed=pct)) if bar else None,
                hash_input=summary_json is not None,
                stdout=sys.stdout,
                projects_path=projects, output_encoding=output_encoding,
                summary_json=summary_json, reads=(fx_table,),  # (-o and the summary: put in place together)
            )
    except Stopped as exc:  # (what score_file put in place, if it got so far: else no output was touched)
        exc.outputs = getattr(exc, "outputs", None) or []
        raise
    finally:
        if bar:
            bar.stop()
    try:
        if to_stdout:
            _release_stdout()
        from .render import render_batch_summary

        (err_console if to_stdout else _console()).print(render_batch_summary(summary))
    except Stopped as exc:  # (the outputs are in place: a stop now says so)
        exc.outputs = [(option, str(path), "written") for option, path in (("-o", output), ("--summary-json", summary_json))
                       if path is not None] or None  # (None: standard output only, printed already)
        raise
    from .summary import totals_that_differ

    differ = totals_that_differ(summary.totals)
    for t in differ:  # (a total that does not add up is a row in error, as the exit code says)
        typer.echo(_("fdi: {where} ({label}): the total does not match the rows above it (see the summary)").format(
            where=t.line or _("row {row}").format(row=t.row), label=t.label), err=True)
    if summary.errors or differ:
        raise typer.Exit(ExitCode.ROW_ERRORS)


def _compare(input: Path, output: Path, encoding, unit, fx_rate, fx_table, reading) -> None:
    """`fdi batch --compare`: every row under every shipped policy, and a line per policy."""
    from decimal import Decimal

    from rich.table import Table

    from .batch_compare import compare_file
    from .frame import Options
    from .money import cny

    if unit is not None and unit.strip().lower() not in UNITS:
        _fail(_("--unit: {unit} is not valid; expected 1, 10k or 1m").format(unit=repr(unit)))
    options = Options(reading=_reading(reading), unit=Decimal(UNITS[(unit or "1").strip().lower()]),
                      rates=_fx_source(None, fx_table), unit_given=unit is not None, unit_text=unit)
    if fx_rate is not None:
        from .fx import parse_rate

        options.fx_rate = parse_rate(fx_rate, "--fx-rate")
    with _named_as_options("fx", "fx_table"):
        summaries = compare_file(input, output, options=options, encoding=encoding)
    t = Table(title=_("{input} under every policy: written to {output}").format(input=input, output=output))
    for col in (_("policy family"), _("rows"), _("eligible"), _("errors"), _("total payout")):
        t.add_column(col)
    for family, s in sorted(summaries, key=lambda fs: -fs[1].total_incentive_cny):
        t.add_row(family, str(s.rows), str(sum(s.eligible_by_tier.values())), str(s.errors), cny(s.total_incentive_cny))
    _console().print(t)
    if any(s.errors for _f, s in summaries):
        raise typer.Exit(ExitCode.ROW_ERRORS)


def _batch_on_spark(input: Path, output: Optional[Path], fx_rate: Optional[str], policy: Optional[str],
                    reading: Optional[str], refused: list[str]) -> None:
    """`fdi batch --engine spark`: the file through a local Spark session (`local[*]`)."""
    import time

    from .fx import parse_rate
    from .policy import get_policy

    if refused:
        _fail(_("{options}: not available with --engine spark (use the default engine)").format(options=", ".join(refused)))
    if output is None:
        _fail(_("-o: --engine spark writes a file; give -o OUT.csv, .parquet or .jsonl"))
    from . import spark
    from .io.outputs import check_target, is_node, place

    spark.check_file(input, output)  # (every option and the header checked before Spark starts, which takes seconds)
    if is_node(output):  # (Spark's result is a file renamed into place: it would replace the node)
        raise InputError("-o", str(output), _("a regular file with --engine spark (use the default engine to write "
                                              "into a device or a FIFO)"))
    check_target(output, "-o", input)
    output = place(output)  # (a symlink: the file it names is replaced, the link kept)
    chosen, rate, way = get_policy(policy) if policy else None, parse_rate(fx_rate, "--fx-rate") if fx_rate else None, _reading(reading)
    started = time.perf_counter()
    from .io.scratch import run_folder

    with run_folder() as work:
        log = work / "spark.log"
        typer.echo(_("starting Spark (local[*]) …"), err=True)
        session = spark.local_session(log=log)
        typer.echo(_("scoring {input} on Spark …").format(input=input), err=True)
        rows, errors = spark.score_file(session, input, output, policy=chosen, reading=way, fx_rate=rate)
    typer.echo(_("{rows} rows scored on Spark ({master}) into {output}: {scored} scored, {errors} with errors, {seconds} s").format(
        rows=f"{rows:,}", master=session.sparkContext.master, output=output, scored=f"{rows - errors:,}",
        errors=f"{errors:,}", seconds=f"{time.perf_counter() - started:.1f}"), err=True)
    if errors:
        raise typer.Exit(ExitCode.ROW_ERRORS)
