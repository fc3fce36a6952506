"""`fdi plan`: when to pay in capital for the largest reward."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from .cli_base import (FLAG, OPTIONS, Lang, _Command, _console, _fail, _fx_source,
                       _named_as_options, _print_json, _reading, app, handles_errors)
from .i18n import _


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
