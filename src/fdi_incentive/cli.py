"""The `fdi` command: parse, call the library once, render, exit. No rule logic lives here.

The app and what its commands share are in cli_base.py; each command (or group) in its own module,
imported here in the order `fdi --help` lists them: cli_calc, cli_plan, cli_batch, cli_sql, cli_policy.
Here: the root (`--version`), the signals that stop a run, `main` and `run`.
"""

import os
import sys
from typing import Annotated, Any

import typer

from . import __version__
from .cli_base import (FLAG, OPTIONS, READING_NAMES, ExitCode, Lang, Stopped, _Command, _console, _fail,  # noqa: F401
                       _flags_take_no_value, _fx_source, _Group, _named_as_options, _print_json, _reading,
                       _release_stdout, app, handles_errors, policy_app)
# the commands register on `app` as they are imported, in this order (as `fdi --help` lists them)
from .cli_calc import _load_project_file, calc  # noqa: F401
from .cli_compare import compare  # noqa: F401
from .cli_plan import plan  # noqa: F401
from .cli_batch import UNITS, _batch_on_spark, batch  # noqa: F401
from .cli_sql import sql_command  # noqa: F401
from .cli_policy import policy_list, policy_show, policy_validate, schema  # noqa: F401
from .i18n import N_, _


def _version(value: bool) -> None:
    if value:
        typer.echo(f"fdi-incentive {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", metavar=FLAG, callback=_version, is_eager=True, help="Show the version.")] = False,
) -> None:
    """Exact, explained cash incentives for foreign investment (Chongqing first)."""


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
