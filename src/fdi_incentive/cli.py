"""The `fdi` command: parse, call the library once, render, exit. No rule logic lives here."""


import contextlib
import functools
import os
import sys
from enum import IntEnum
from pathlib import Path
from typing import Annotated, Any, Callable, NoReturn, Optional

import typer
from pydantic import ValidationError

from . import __version__
from .errors import FdiError, InputError
from .i18n import N_, _, get_language, language_from_env
from .language import parse_language, set_language
from .policy import MAX_KEY_PARTS, describe_validation_error, toml_key_too_deep

def _flags_take_no_value(params: list) -> list:
    """Every flag (--help, --json, --install-completion ...) shown without a `<bool>` placeholder."""
    for p in params:
        if getattr(p, "is_flag", False) and p.metavar is None:
            p.metavar = FLAG
    return params


class _Command(typer.core.TyperCommand):
    def get_params(self, ctx):  # noqa: ANN001, ANN201
        return _flags_take_no_value(super().get_params(ctx))


class _Group(typer.core.TyperGroup):
    def get_params(self, ctx):  # noqa: ANN001, ANN201
        return _flags_take_no_value(super().get_params(ctx))


app = typer.Typer(
    cls=_Group,
    name="fdi",
    help="Exact, explained cash incentives for foreign investment under Chinese city reward policies (Chongqing first).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,
    rich_markup_mode="rich",
)
policy_app = typer.Typer(cls=_Group, help="List, show and validate reward policies.", no_args_is_help=True)
app.add_typer(policy_app, name="policy")


FLAG = ""  # a flag's metavar: Typer would show a flag as `--json <bool>`, as if it took a value


class ExitCode(IntEnum):
    """Every exit code of `fdi`, defined once."""

    OK = 0
    ROW_ERRORS = 1  # a batch ran, but some rows carry errors
    USAGE = 2  # bad option, bad input, unreadable file, no policy in force


def _fail(message: str, code: ExitCode = ExitCode.USAGE) -> NoReturn:
    from .text import printable

    typer.echo(_("fdi: error: {message}").format(message=printable(message)), err=True)
    raise typer.Exit(code)


# every command that speaks to people takes it; its default comes from the locale
Lang = Annotated[Optional[str], typer.Option("--lang", help="zh or en. Default: from LC_ALL / LC_MESSAGES / LANG (zh_* gives Chinese).")]


def handles_errors(command: Callable[..., None]) -> Callable[..., None]:
    """Library errors become one line on stderr and exit code 2: the one place this happens.

    The command runs in its language (``--lang``, else the locale's), the library's messages included."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        before = get_language()
        set_language(language_from_env())  # (restored when the command ends: the library's default is English)
        try:
            if kwargs.get("lang") is not None:
                kwargs["lang"] = parse_language(kwargs["lang"])  # (refused in the locale's language)
                set_language(kwargs["lang"])
            command(*args, **kwargs)
        except FdiError as exc:
            _fail(str(exc))
        except ValidationError as exc:
            _fail(describe_validation_error(exc, "options"))
        except OSError as exc:  # a file that cannot be read or written (no permission, disk full)
            _fail(f"{exc.filename}: {exc.strerror}" if exc.filename and exc.strerror else str(exc))
        finally:
            set_language(before)

    return wrapper


# the library names a bad value by its argument (`rate`, `industry_code`); where the CLI read it from
# an option, the error names the option
OPTIONS = {"rate": "--rate", "granted_rate": "--rate", "sector": "--sector", "kind": "--kind", "industry_code": "--industry-code",
           "policy": "--policy", "step": "--step", "total_usd": "--total-usd", "min_per_year": "--min-per-year",
           "max_per_year": "--max-per-year", "fixed": "--fixed", "fx_assume": "--fx-assume", "years": "--years",
           "fx": N_("--fx-rate or --fx-table"), "fx_table": N_("an --fx-table")}


@contextlib.contextmanager
def _named_as_options(*fields: str):
    """Inside, an error about one of ``fields`` names its option instead: the library builds its
    messages with the options' names (`errors.called_as`), and an InputError raised about the
    argument is renamed."""
    from .errors import called_as

    try:
        with called_as({f: OPTIONS[f] for f in fields}):
            yield
    except InputError as exc:
        if exc.field in fields:
            raise exc.named(OPTIONS[exc.field]) from None
        raise


def _console(stderr: bool = False):
    """The terminal: whatever is printed shows without the control characters a terminal would obey."""
    from rich.console import Console

    from .render import Printable

    class _Console(Console):
        def print(self, *objects: Any, **kwargs: Any) -> None:
            super().print(*(o if isinstance(o, str) else Printable(o) for o in objects), **kwargs)

    return _Console(stderr=stderr)


def _print_json(obj: Any) -> None:
    import json

    from .text import json_safe

    typer.echo(json_safe(json.dumps(obj, ensure_ascii=False, indent=2)))  # (C1 controls escaped too)


READING_NAMES = {"converted": "converted", "fx": "converted", "nominal": "nominal"}


def _reading(value: str | None) -> str | None:
    if value is None:
        return None
    found = READING_NAMES.get(value.strip().lower())
    if found is None:
        raise InputError("--reading", value, _("converted or nominal"))
    return found


def _fx_source(fx_rate: str | None, fx_table: Path | None):
    from .fx import FixedRate, RateChain, RateTable, parse_rate

    sources = []
    if fx_rate is not None:
        sources.append(FixedRate(parse_rate(fx_rate, "--fx-rate")))
    if fx_table is not None:
        sources.append(RateTable.from_csv(fx_table))
    return RateChain(*sources)


def _load_project_file(path: Path):
    import json
    import tomllib
    from decimal import Decimal

    from .models import Project

    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise InputError("--project", str(path), _("a readable JSON or TOML file ({reason})").format(reason=exc.strerror)) from None
    if path.suffix.lower() == ".toml" and toml_key_too_deep(text):
        raise InputError("--project", str(path), _("a project file whose tables are not nested so deep "
                                                   "(a key of at most {most} dotted parts)").format(most=MAX_KEY_PARTS))
    try:  # (numbers with a point are Decimals, never floats, in TOML as in JSON)
        raw = tomllib.loads(text, parse_float=Decimal) if path.suffix.lower() == ".toml" else json.loads(text, parse_float=Decimal)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        kind = "TOML" if path.suffix.lower() == ".toml" else "JSON"
        raise InputError("--project", str(path), _("valid {kind} ({reason})").format(kind=kind, reason=exc)) from None
    except RecursionError:
        raise InputError("--project", str(path), _("a project file whose lists and tables are not nested so deep")) from None
    try:
        return Project.model_validate(raw)
    except InputError as exc:  # (the model's ValidationError, named by the file)
        if isinstance(exc.__cause__, ValidationError):
            raise FdiError(describe_validation_error(exc.__cause__, str(path), Project)) from None
        raise
    except RecursionError:
        raise InputError("--project", str(path), _("a project file whose lists and tables are not nested so deep")) from None


@app.command(cls=_Command)
@handles_errors
def calc(
    year: Annotated[Optional[str], typer.Option(help="Calendar year the capital was paid in, e.g. 2024 (or 2024年).")] = None,
    kind: Annotated[str, typer.Option(help="new or capital-increase (新设 / 增资 accepted).")] = "new",
    sector: Annotated[Optional[str], typer.Option(help="manufacturing, services, real-estate, finance, quasi-finance, other; one of electronics, equipment, automobile, materials, consumer-goods, pharmaceutical (电子信息, 汽车, 装备, 材料, 消费品, 医药); or a GB/T 4754-2017 section or division name in Chinese (批发和零售业, 汽车制造业 …).")] = None,
    industry_code: Annotated[Optional[str], typer.Option(help="GB/T 4754-2017 code at any depth: C, 36, C3670, K7010, 7212.")] = None,
    paid_in_usd: Annotated[Optional[str], typer.Option(help="Foreign capital paid in as equity during the year, in USD.")] = None,
    paid_in: Annotated[Optional[str], typer.Option(help="The same in another currency; give --currency.")] = None,
    currency: Annotated[str, typer.Option(help="ISO 4217 code of --paid-in, e.g. EUR, HKD.")] = "USD",
    loans_usd: Annotated[Optional[str], typer.Option(help="Foreign shareholder loans received that year, USD: shown, never counted.")] = None,
    reinvested_profit_cny: Annotated[Optional[str], typer.Option(help="RMB profits reinvested as capital that year; converted to USD for the base.")] = None,
    fx_rate: Annotated[Optional[str], typer.Option(help="CNY per USD, e.g. 7.1. Default: embedded ECB rates.")] = None,
    fx_table: Annotated[Optional[Path], typer.Option(help="CSV of date,currency,CNY per unit (e.g. PBOC central parity).")] = None,
    rate: Annotated[Optional[str], typer.Option(help="A granted rate as a fraction, e.g. 0.05 for 5%; must not be below the tier's floor.")] = None,
    policy: Annotated[Optional[str], typer.Option(help="A policy id (see `fdi policy list`) or a policy file. Default: the one in force each year.")] = None,
    reading: Annotated[Optional[str], typer.Option(help="converted (default: USD base × FX × rate) or nominal (rate × USD figure, paid as yuan).")] = None,
    project: Annotated[Optional[Path], typer.Option(help="JSON or TOML file with a project and its dated capital arrivals over several years.")] = None,
    as_json: Annotated[bool, typer.Option("--json", metavar=FLAG, help="Print one JSON object instead of the table.")] = False,
    caveats: Annotated[bool, typer.Option("--caveats", metavar=FLAG, help="Print the sources, footnotes and caveats in full, not a line each.")] = False,
    lang: Lang = None,
) -> None:
    """Calculate the reward for one project, itemised, with every figure traced to the policy.

    Example:

        fdi calc --year 2024 --sector manufacturing --paid-in-usd 42000000 \\
            --loans-usd 5000000 --fx-rate 7.1

        fdi calc --project examples/project.toml --json
    """
    from .engine import assess
    from .models import Project
    from .money import parse_amount, parse_year

    if project is not None:
        flags = {"--year": year, "--paid-in-usd": paid_in_usd, "--paid-in": paid_in, "--loans-usd": loans_usd,
                 "--reinvested-profit-cny": reinvested_profit_cny, "--sector": sector, "--industry-code": industry_code}
        given = [k for k, v in flags.items() if v is not None]
        if given:
            _fail(_("--project: the project file describes the project; do not also give {flags}").format(flags=", ".join(given)))
        proj = _load_project_file(project)
    else:
        if year is None:
            _fail(_("--year: missing; give the calendar year the capital was paid in (or --project FILE)"))
        if paid_in_usd is not None and paid_in is not None:
            _fail(_("--paid-in-usd and --paid-in: give one of them"))
        if paid_in_usd is None and paid_in is None and reinvested_profit_cny is None:
            _fail(_("--paid-in-usd: missing; give the foreign capital paid in during the year, e.g. --paid-in-usd 15000000"))
        if paid_in is None and currency.upper() != "USD":
            _fail(_("--currency: goes with --paid-in, not --paid-in-usd"))
        from .fx import check_currency

        with _named_as_options("kind", "sector", "industry_code"):
            proj = Project.for_year(
                parse_year(year, "--year"),
                paid_in=parse_amount(paid_in_usd if paid_in_usd is not None else (paid_in or 0), "--paid-in-usd" if paid_in is None else "--paid-in"),
                currency=check_currency(currency, "--currency"),
                shareholder_loans_usd=parse_amount(loans_usd or 0, "--loans-usd"),
                reinvested_profit=parse_amount(reinvested_profit_cny or 0, "--reinvested-profit-cny"),
                kind=kind, sector=sector, industry_code=industry_code,
            )
    from .engine import parse_granted_rate

    granted = parse_granted_rate(rate, "--rate") if rate is not None else None
    # (a project file's own sector, kind or code is named by its key, not by an option)
    named = ("rate", "policy", "fx", "fx_table") if project is not None else ("rate", "policy", "fx", "fx_table", "kind", "sector",
                                                                              "industry_code")
    with _named_as_options(*named):
        result = assess(proj, policy=policy, fx=_fx_source(fx_rate, fx_table), reading=_reading(reading), granted_rate=granted)
    if as_json:
        _print_json(result.model_dump(mode="json"))
    else:
        from .render import render_assessment

        _console().print(render_assessment(result, full=caveats))


@app.command(cls=_Command)
@handles_errors
def plan(
    total_usd: Annotated[str, typer.Option(help="Total foreign capital to pay in over the years, USD.")],
    years: Annotated[str, typer.Option(help="Calendar years: 2024-2026 or 2024,2025,2027.")],
    sector: Annotated[Optional[str], typer.Option(help="Sector name, as for `fdi calc`.")] = None,
    industry_code: Annotated[Optional[str], typer.Option(help="GB/T 4754-2017 code, as for `fdi calc`.")] = None,
    kind: Annotated[str, typer.Option(help="new or capital-increase.")] = "new",
    min_per_year: Annotated[str, typer.Option(help="Least USD to pay in each free year.")] = "0",
    max_per_year: Annotated[Optional[str], typer.Option(help="Most USD to pay in any free year.")] = None,
    fixed: Annotated[Optional[list[str]], typer.Option(help="YEAR=AMOUNT already paid or committed; repeatable.")] = None,
    step: Annotated[str, typer.Option(help="Granularity of the plan, USD (default one cent).")] = "0.01",
    fx_rate: Annotated[Optional[str], typer.Option(help="CNY per USD for every year. Default: embedded ECB annual averages.")] = None,
    fx_table: Annotated[Optional[Path], typer.Option(help="CSV of date,currency,CNY per unit: each year's average is used.")] = None,
    fx_assume: Annotated[Optional[str], typer.Option(help="CNY per USD assumed for years no rate covers (past the embedded data). Default: the last full year's average. Marked as assumed.")] = None,
    rate: Annotated[Optional[str], typer.Option(help="A granted rate; must not be below the tier's floor.")] = None,
    policy: Annotated[Optional[str], typer.Option(help="A policy id or file. Default: the one in force each year.")] = None,
    reading: Annotated[Optional[str], typer.Option(help="converted (default) or nominal.")] = None,
    as_json: Annotated[bool, typer.Option("--json", metavar=FLAG, help="Print one JSON object.")] = False,
    lang: Lang = None,
) -> None:
    """Find when to pay in capital for the largest reward, beside the naive schedules: exact to the --step, over up to 30 years.

    A year no exchange rate covers (past the embedded data, not in --fx-rate or --fx-table) is planned at an assumed rate: --fx-assume, or the last full year's average; it is marked as assumed. Of schedules paying the same, the one paying in earliest is shown.

    Example:

        fdi plan --total-usd 80000000 --years 2024-2026 --sector manufacturing \\
            --fx-rate 7.1

        fdi plan --total-usd 200000000 --years 2024-2033 --sector manufacturing \\
            --fx-rate 7.1 --json

        fdi plan --total-usd 60000000 --years 2025-2027 --sector services \\
            --fixed 2025=15000000 --step 1000000
    """
    from .engine import parse_granted_rate
    from .money import parse_amount, parse_rate, parse_year
    from .plan import parse_years
    from .plan import plan as make_plan

    fixed_amounts = {}
    for item in fixed or []:
        year_text, sep, amount_text = item.partition("=")
        if not sep:
            _fail(_("--fixed: {item} is not valid; expected YEAR=AMOUNT such as 2024=15000000").format(item=repr(item)))
        fixed_year = parse_year(year_text, "--fixed")
        if fixed_year in fixed_amounts:
            _fail(_("--fixed: {year} is fixed twice; give each year once").format(year=fixed_year))
        fixed_amounts[fixed_year] = parse_amount(amount_text, "--fixed")
    step_amount = parse_amount(step, "--step")
    with _named_as_options(*OPTIONS):
        result = make_plan(
            parse_amount(total_usd, "--total-usd"), parse_years(years), sector=sector, industry_code=industry_code,
            kind=kind, fx=_fx_source(fx_rate, fx_table), policy=policy, reading=_reading(reading),
            fx_assume=parse_rate(fx_assume, "--fx-assume") if fx_assume is not None else None,
            min_per_year=parse_amount(min_per_year, "--min-per-year"),
            max_per_year=parse_amount(max_per_year, "--max-per-year") if max_per_year is not None else None,
            fixed=fixed_amounts, step=step_amount, granted_rate=parse_granted_rate(rate, "--rate") if rate is not None else None,
        )
    if as_json:
        _print_json(result.model_dump(mode="json"))
    else:
        from .plan_view import render_plan

        _console().print(render_plan(result))


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


@app.command(cls=_Command, name="sql")
@handles_errors
def sql_command(
    dialect: Annotated[str, typer.Option(help="duckdb, postgres, spark, trino, bigquery or snowflake.")] = "duckdb",
    view: Annotated[Optional[str], typer.Option(help="Print CREATE VIEW NAME AS ... instead of the query alone.")] = None,
    table: Annotated[str, typer.Option(help="The table of project-years to score (a name, or schema.name).")] = "projects",
    policy: Annotated[Optional[str], typer.Option(help="A policy id or file. Default: the one in force each year.")] = None,
    reading: Annotated[Optional[str], typer.Option(help="converted (default) or nominal.")] = None,
    fx_rate: Annotated[Optional[str], typer.Option(help="CNY per USD for rows whose fx_rate is NULL. Default: the embedded ECB average of the year.")] = None,
    rate: Annotated[Optional[str], typer.Option(help="A granted rate, e.g. 0.05; a row whose tier it does not fit is an error.")] = None,
    inline: Annotated[bool, typer.Option("--inline", metavar=FLAG, help="One self-contained statement: the reference tables as VALUES in the query.")] = False,
    tables: Annotated[bool, typer.Option("--tables", metavar=FLAG, help="Print the reference tables the query joins (CREATE TABLE and INSERT), not the query.")] = False,
    seeds: Annotated[Optional[Path], typer.Option(help="Write the reference tables as CSV files into this folder (as dbt keeps seeds), not the query.")] = None,
    ddl: Annotated[bool, typer.Option("--ddl", metavar=FLAG, help="Print CREATE TABLE for the input table, with types that hold every value the query checks.")] = False,
) -> None:
    """Print the SQL that scores a table of project-years where it lives, with fdi batch's values.

    The query joins small reference tables that hold the rule's decisions (fdi_rule, fdi_year, the
    industry tables): make them once with --tables (or --seeds DIR), or give --inline for one
    self-contained statement. The input table (--ddl): project_id, year (integer), kind, sector,
    industry_code, paid_in_usd, shareholder_loans_usd, reinvested_profit_usd (DECIMAL), fx_rate
    (DECIMAL, CNY per USD). The result: those columns, then policy, policy_status, eligible, tier,
    rate, base_usd, base_cny, gross_cny, capped, incentive_cny, reason, error.

    Examples (each output piped to psql):

        fdi sql --dialect postgres --tables

        fdi sql --dialect postgres --view fdi_scored
    """
    from .fx import parse_rate
    from .policy import get_policy
    from .sql import SqlOptions, compile_sql, input_ddl, reference_sql

    from .engine import parse_granted_rate

    if sum((tables, seeds is not None, ddl)) > 1:
        _fail(_("--tables, --seeds and --ddl: give one of them"))
    if ddl:
        typer.echo(input_ddl(dialect, table) + ";")
        return
    granted = parse_granted_rate(rate, "--rate") if rate is not None else None  # (calc's and plan's parser)
    options = SqlOptions(table=table, view=view, policy=get_policy(policy) if policy else None, reading=_reading(reading),
                         fx_rate=parse_rate(fx_rate, "--fx-rate") if fx_rate else None, rate=granted, inline=inline)
    if tables:
        typer.echo("".join(statement + ";\n" for statement in reference_sql(dialect, options)), nl=False)
        return
    if seeds is not None:
        from .reference import write_seeds
        from .sql import reference_tables

        for path in write_seeds(reference_tables(options), seeds):
            typer.echo(str(path))
        return
    typer.echo(compile_sql(dialect, options) + ";")


def _release_stdout() -> None:
    """A reader that stopped reading (`| head`) is not an error: what is left unwritten goes to
    the null device, so Python's exit does not report the broken pipe."""
    import os

    try:
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


@policy_app.command(cls=_Command, name="list")
@handles_errors
def policy_list(as_json: Annotated[bool, typer.Option("--json", metavar=FLAG, help="Print JSON.")] = False, lang: Lang = None) -> None:
    """List the shipped policies and the years they are in force.

    Example: fdi policy list
    """
    from .policy import bundled_policies

    if as_json:
        _print_json([lp.policy.model_dump(mode="json", by_alias=True) for lp in bundled_policies()])
        return
    from .render import render_policy_list

    _console().print(render_policy_list(list(bundled_policies())))


@policy_app.command(cls=_Command, name="show")
@handles_errors
def policy_show(
    ref: Annotated[str, typer.Argument(help="A policy id such as cn-cq-2023, or a policy file.")],
    as_json: Annotated[bool, typer.Option("--json", metavar=FLAG, help="Print JSON.")] = False,
    lang: Lang = None,
) -> None:
    """Show every parameter of a policy with the sentence it comes from, and its caveats.

    Example: fdi policy show cn-cq-2023
    """
    from .policy import get_policy

    lp = get_policy(ref)
    if as_json:
        _print_json(lp.policy.model_dump(mode="json", by_alias=True))
        return
    from .render import render_policy

    _console().print(render_policy(lp))


@policy_app.command(cls=_Command, name="validate")
@handles_errors
def policy_validate(file: Annotated[Path, typer.Argument(help="A policy TOML file to check.")], lang: Lang = None) -> None:
    """Check a policy file strictly: unknown keys, wrong types, dates out of order, rates above 1.

    Example: fdi policy validate my-city.toml
    """
    from .policy import bundled_policies, load_policy_file

    if not file.exists() and any(lp.policy.id == str(file) for lp in bundled_policies()):
        _fail(_("{ref}: expected a policy file; {ref} is a shipped policy: `fdi policy show {ref}` shows it").format(ref=file))
    lp = load_policy_file(file)
    from .text import printable

    typer.echo(printable(_("{file}: valid policy {id} ({tiers} tiers), sha256 {sha}").format(
        file=file, id=lp.policy.id, tiers=len(lp.policy.tiers), sha=lp.sha256)))


@app.command(cls=_Command)
@handles_errors
def schema(
    which: Annotated[str, typer.Argument(help="input, output or both.")] = "both",
) -> None:
    """Print the JSON Schema of the project input and of the assessment output.

    Example: fdi schema input
    """
    from .models import Assessment, Project

    schemas = {"input": Project.model_json_schema(), "output": Assessment.model_json_schema(mode="serialization")}
    if which not in ("input", "output", "both"):
        _fail(_("schema: {which} is not valid; expected input, output or both").format(which=repr(which)))
    _print_json(schemas if which == "both" else schemas[which])


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fdi-incentive {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", metavar=FLAG, callback=_version, is_eager=True, help="Show the version.")] = False,
) -> None:
    """Exact, explained cash incentives for foreign investment (Chongqing first)."""


class Stopped(BaseException):
    """SIGINT, SIGTERM or SIGHUP: raised where the run is, its temporary files removed and the old
    output kept (a BaseException: no ``except Exception`` stops it). ``outputs``, when set: what
    each output became, (option, path, "kept" | "written" | "partial") (see `io.outputs.Outputs`)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


CAUGHT = ("SIGINT", "SIGTERM", "SIGHUP")


def _stop(signum: int, frame: Any) -> None:
    import signal

    for name in CAUGHT:  # (once: a second signal does not break the cleanup)
        signal.signal(getattr(signal, name), signal.SIG_IGN)
    raise Stopped(signum)


OUTPUT_STATES = {
    "written": N_("{option} {path} was written in full"),
    "partial": N_("{option} {path} received only part of its output"),
    "kept": N_("{option} {path} was left as it was"),
}


def stopped_message(signum: int, outputs: list[tuple[str, str, str]] | None) -> str:
    """What a stop did to the outputs, as it is: left as they were, or which were written
    (``outputs`` None: the command had none under way)."""
    import signal

    name = signal.Signals(signum).name
    if outputs is None:  # (a command that writes no file, or stopped before a batch began)
        return _("fdi: stopped by {signal}").format(signal=name)
    if not any(state != "kept" for _option, _path, state in outputs or []):
        return _("fdi: stopped by {signal}; the output was left as it was").format(signal=name)
    said = "; ".join(_(OUTPUT_STATES[state]).format(option=option, path=path) for option, path, state in outputs)
    return _("fdi: stopped by {signal}; {outputs}").format(signal=name, outputs=said)


def main(argv: list[str] | None = None) -> int:
    """Run `fdi` with ``argv`` and return its exit code (128 + the signal's number when SIGINT,
    SIGTERM or SIGHUP stopped it, as a shell reports it)."""
    import signal
    import threading

    before = {}
    try:
        if threading.current_thread() is threading.main_thread():
            for name in CAUGHT:
                number = getattr(signal, name)
                before[number] = signal.signal(number, _stop)
        app(args=argv, prog_name="fdi")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else ExitCode.USAGE
    except Stopped as exc:
        from .text import printable

        typer.echo(printable(stopped_message(exc.signum, getattr(exc, "outputs", None))), err=True)
        return 128 + exc.signum
    except KeyboardInterrupt:  # (Ctrl-C before our handler was set: nothing was written yet)
        return 128 + signal.SIGINT
    finally:
        for sig, handler in before.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
    return ExitCode.OK


def run() -> None:
    """Console-script entry point (see `fdi_incentive.start`, which imports this module).

    The process ends without tearing the interpreter down: once polars is loaded, freeing every
    module and object one by one takes 0.1-0.2 s after the work is done (a tenth of a
    million-row batch). Everything is written by then: the output is closed and renamed, the
    temporary files are gone, and the standard streams and exit handlers are run here.
    """
    import atexit
    import signal

    code = main()
    try:
        atexit._run_exitfuncs()  # (what the libraries registered; none of ours)
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):  # a closed pipe (`fdi batch FILE | head`) or stream
                pass
    except KeyboardInterrupt:  # (Ctrl-C as the process ends: its work is done, quietly)
        code = code or 128 + signal.SIGINT
    os._exit(code)
