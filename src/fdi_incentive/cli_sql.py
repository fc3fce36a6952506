"""`fdi sql`: the SQL that scores a table of project-years where it lives."""

from pathlib import Path
from typing import Annotated, Optional

import typer

from .cli_base import (FLAG, _Command, _fail, _named_as_options, _reading, app, handles_errors)
from .i18n import _


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
    with _named_as_options("fx", "fx_table"):  # (a year's "no rate" error names the options that give one, as batch's)
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
