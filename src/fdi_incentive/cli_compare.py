"""`fdi compare`: one project under every shipped policy, best paid first."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from .cli_base import FLAG, Lang, _Command, _console, _fx_source, _named_as_options, _print_json, _reading, app, handles_errors
from .cli_calc import project_from_options
from .i18n import _


@app.command(cls=_Command)
@handles_errors
def compare(
    year: Annotated[Optional[str], typer.Option(help="Calendar year the capital was paid in, e.g. 2025.")] = None,
    kind: Annotated[str, typer.Option(help="new or capital-increase (新设 / 增资 accepted).")] = "new",
    sector: Annotated[Optional[str], typer.Option(help="As for fdi calc: manufacturing, services, … or a GB/T 4754-2017 name.")] = None,
    industry_code: Annotated[Optional[str], typer.Option(help="GB/T 4754-2017 code at any depth: C, 36, C3670.")] = None,
    paid_in_usd: Annotated[Optional[str], typer.Option(help="Foreign capital paid in as equity during the year, in USD.")] = None,
    paid_in: Annotated[Optional[str], typer.Option(help="The same in another currency; give --currency.")] = None,
    currency: Annotated[str, typer.Option(help="ISO 4217 code of --paid-in, e.g. EUR, HKD.")] = "USD",
    loans_usd: Annotated[Optional[str], typer.Option(help="Foreign shareholder loans received that year, USD: shown, never counted.")] = None,
    reinvested_profit_cny: Annotated[Optional[str], typer.Option(help="RMB profits reinvested as capital that year.")] = None,
    fx_rate: Annotated[Optional[str], typer.Option(help="CNY per USD, e.g. 7.1. Default: embedded ECB rates.")] = None,
    fx_table: Annotated[Optional[Path], typer.Option(help="CSV of date,currency,CNY per unit.")] = None,
    reading: Annotated[Optional[str], typer.Option(help="converted (default) or nominal, for every percentage rule.")] = None,
    location: Annotated[Optional[str], typer.Option(help="Fix the place (a name as written or a GB/T 2260 code): only the policies that speak of it. Default: every policy, a row per place group.")] = None,
    high_tech: Annotated[bool, typer.Option("--high-tech", metavar=FLAG, help="In a high-tech industry (高技术制造业 / 高技术服务业).")] = False,
    hnte: Annotated[bool, typer.Option("--hnte", metavar=FLAG, help="A certified high- and new-technology or technology-advanced service enterprise.")] = False,
    priority: Annotated[bool, typer.Option("--priority", metavar=FLAG, help="A priority project a policy names (Foshan: Fortune 500 or \"2+2+4\").")] = False,
    spent_usd: Annotated[Optional[str], typer.Option(help="The part of the year's capital spent, USD (Shandong's base).")] = None,
    project: Annotated[Optional[Path], typer.Option(help="JSON or TOML project file, as for fdi calc.")] = None,
    as_json: Annotated[bool, typer.Option("--json", metavar=FLAG, help="Print a JSON list of rows instead of the table.")] = False,
    lang: Lang = None,
) -> None:
    """Where a project earns most: every shipped policy's reward for it, best paid first.

    Example:

        fdi compare --year 2025 --kind new --sector manufacturing \\
            --paid-in-usd 60000000 --fx-rate 7.1

        fdi compare --year 2025 --sector manufacturing \\
            --paid-in-usd 60000000 --fx-rate 7.1 --location 佛山市
    """
    from .comparing import compare as _compare

    proj = project_from_options(project, year=year, kind=kind, sector=sector, industry_code=industry_code, paid_in_usd=paid_in_usd,
                                paid_in=paid_in, currency=currency, loans_usd=loans_usd, reinvested_profit_cny=reinvested_profit_cny,
                                location=location, high_tech=high_tech, hnte=hnte, priority=priority, spent_usd=spent_usd)
    with _named_as_options("fx", "fx_table", "location", "kind", "sector", "industry_code"):
        rows = _compare(proj, fx=_fx_source(fx_rate, fx_table), reading=_reading(reading))
    if as_json:
        _print_json([r.model_dump(mode="json") for r in rows])
        return
    from .render_compare import render_compare

    where = proj.location or _("every place a shipped policy covers")
    years = sorted({a.calendar_year for a in proj.arrivals})
    heading = _("{n} policies for this project ({years}, {where}), best paid first").format(
        n=len(rows), years=", ".join(map(str, years)), where=where)
    _console().print(render_compare(rows, heading))
