"""The `fdi` command's entry point, light to import: Ctrl-C while the command's modules are still
being imported (typer, rich, pydantic: the first ~0.2 s) ends the process quietly with 130, as
Ctrl-C later does, instead of a KeyboardInterrupt traceback. Nothing has been written by then."""

import os


def run() -> None:
    try:
        from .cli import run as run_command
    except KeyboardInterrupt:
        os._exit(130)  # (128 + SIGINT, as a shell reports a Ctrl-C)
    run_command()
