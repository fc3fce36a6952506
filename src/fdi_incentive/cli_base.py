"""What every `fdi` command shares: the Typer app, exit codes, the one place a library error becomes a
line on stderr (`handles_errors`), options named in messages, the console, and the options several
commands read (--reading, --fx-rate/--fx-table). The commands themselves are in cli_calc.py, cli_plan.py,
cli_batch.py, cli_sql.py and cli_policy.py; cli.py puts them together and runs them.
"""

import contextlib
import functools
import sys
from enum import IntEnum
from pathlib import Path
from typing import Annotated, Any, Callable, NoReturn, Optional

import typer
from pydantic import ValidationError

from .errors import FdiError, InputError
from .i18n import N_, _, get_language, language_from_env
from .language import parse_language, set_language
from .policy import describe_validation_error


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
           "fx": N_("--fx-rate or --fx-table"), "fx_table": N_("an --fx-table"), "location": "--location"}


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


def _release_stdout() -> None:
    """A reader that stopped reading (`| head`) is not an error: what is left unwritten goes to
    the null device, so Python's exit does not report the broken pipe."""
    import os

    try:
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


class Stopped(BaseException):
    """SIGINT, SIGTERM or SIGHUP: raised where the run is, its temporary files removed and the old
    output kept (a BaseException: no ``except Exception`` stops it). ``outputs``, when set: what
    each output became, (option, path, "kept" | "written" | "partial") (see `io.outputs.Outputs`)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum
