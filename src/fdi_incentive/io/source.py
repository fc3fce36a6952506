"""What fdi knows of an input on its way to the scorer: a `Source`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PARSE_ERROR = "__parse_error"


@dataclass
class Source:
    """A scannable form of the user's file and what its columns mean."""

    path: Path
    format: str  # "csv" or "parquet", or "frames": rows made on the way (a ledger's project-years)
    columns: list[str]
    mapping: dict[str, str]  # canonical -> column name in the file
    encoding: str = "utf-8"
    delimiter: str = ","
    converted_from: str | None = None
    temp_files: list[Path] = field(default_factory=list)
    frame: Any = None  # the rows of format "frames": polars DataFrames of text, each with the share done after it
    shape: str = "project-years"  # or "ledger" (arrivals), "projects" (a ledger's --projects file)
    skip: int = 0  # lines above the header (title lines) that a row-by-row reading passes over
    newline: str = "\n"  # what ends its lines: LF (CR LF too), or CR in a file that holds no LF
    collisions: dict[str, list[str]] = field(default_factory=dict)  # canonical -> the columns naming it, if several
    note: str | None = None  # what the last reading of it found (`row_by_row`)
    encoding_sure: bool = True  # False: UTF-8 from the file's first MiB (polars checks the rest as it reads)

    def cleanup(self) -> None:
        for p in self.temp_files:
            p.unlink(missing_ok=True)

    @property
    def has_parse_errors_column(self) -> bool:
        return PARSE_ERROR in self.columns


def temp_file(suffix: str) -> Path:
    from .scratch import scratch_file  # (in the run's folder: removed however the run ends)

    return scratch_file(suffix)
