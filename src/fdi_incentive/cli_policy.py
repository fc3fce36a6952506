"""`fdi policy list|show|validate` and `fdi schema`."""

from pathlib import Path
from typing import Annotated

import typer

from .cli_base import (FLAG, Lang, _Command, _console, _fail, _print_json, app, handles_errors, policy_app)
from .i18n import _


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
    from .render_policy import render_policy_list

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
    from .render_policy import render_policy

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
