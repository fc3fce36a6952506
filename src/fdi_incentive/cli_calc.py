"""`fdi calc`: one project, itemised, every figure traced to the policy."""

from pathlib import Path
from typing import Annotated, Optional

import typer
from pydantic import ValidationError

from .cli_base import (FLAG, Lang, _Command, _console, _fail, _fx_source,
                       _named_as_options, _print_json, _reading, app, handles_errors)
from .errors import FdiError, InputError
from .i18n import _
from .policy import MAX_KEY_PARTS, describe_validation_error, toml_key_too_deep


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



def project_from_options(project: Optional[Path], *, year, kind, sector, industry_code, paid_in_usd, paid_in, currency, loans_usd,
                         reinvested_profit_cny, location, high_tech, hnte, priority, spent_usd):
    """The project the options (or --project FILE) describe, as calc and compare take it."""
    from .models import Project
    from .money import parse_amount, parse_year

    if project is not None:
        flags = {"--spent-usd": spent_usd, "--year": year, "--paid-in-usd": paid_in_usd, "--paid-in": paid_in, "--loans-usd": loans_usd,
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
                kind=kind, sector=sector, industry_code=industry_code, location=location, high_tech=high_tech, hnte=hnte,
                priority=priority, spent_usd=parse_amount(spent_usd, "--spent-usd") if spent_usd is not None else None,
            )
    if project is not None and (location or high_tech or hnte or priority):  # (the options say where and what the file's project is)
        proj = proj.model_copy(update={k: v for k, v in (("location", location), ("high_tech", high_tech or proj.high_tech),
                                                           ("hnte", hnte or proj.hnte), ("priority", priority or proj.priority)) if v})
    return proj


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
    location: Annotated[Optional[str], typer.Option(help="Where the project is: a place name as written (重庆, 铜梁区, 济南市, 佛山) or a GB/T 2260 code. Default: Chongqing.")] = None,
    high_tech: Annotated[bool, typer.Option("--high-tech", metavar=FLAG, help="The project is in a high-tech industry (高技术制造业 / 高技术服务业), as the bureau classifies it.")] = False,
    hnte: Annotated[bool, typer.Option("--hnte", metavar=FLAG, help="A certified high- and new-technology enterprise (国家高新技术企业) or technology-advanced service enterprise.")] = False,
    priority: Annotated[bool, typer.Option("--priority", metavar=FLAG, help="A priority project a policy names (Foshan: Fortune 500 or a \"2+2+4\" cluster project).")] = False,
    spent_usd: Annotated[Optional[str], typer.Option(help="The part of the year's capital spent, in USD, for a policy whose base is the amount spent (Shandong).")] = None,
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
    from .assessing import assess

    proj = project_from_options(project, year=year, kind=kind, sector=sector, industry_code=industry_code, paid_in_usd=paid_in_usd,
                                paid_in=paid_in, currency=currency, loans_usd=loans_usd, reinvested_profit_cny=reinvested_profit_cny,
                                location=location, high_tech=high_tech, hnte=hnte, priority=priority, spent_usd=spent_usd)
    from .engine import parse_granted_rate

    granted = parse_granted_rate(rate, "--rate") if rate is not None else None
    # (a project file's own sector, kind or code is named by its key, not by an option)
    named = ("rate", "policy", "fx", "fx_table", "location") if project is not None else (
        "rate", "policy", "fx", "fx_table", "location", "kind", "sector", "industry_code")
    with _named_as_options(*named):
        result = assess(proj, policy=policy, fx=_fx_source(fx_rate, fx_table), reading=_reading(reading), granted_rate=granted)
    if as_json:
        _print_json(result.model_dump(mode="json"))
    else:
        from .render import render_assessment

        _console().print(render_assessment(result, full=caveats))
