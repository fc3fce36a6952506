"""What fdi knows of an input on its way to the scorer: a `Source`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..i18n import _

PARSE_ERROR = "__parse_error"


@dataclass(frozen=True)
class Note:
    """What fdi says of an input, kept as English messages (marked for the catalogue with ``N_``) and
    their values: said in English where a program reads it (`english`: the summary's JSON, the
    reader's own tests of it), in the interface's language where a person does (`text`)."""

    parts: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()

    @classmethod
    def of(cls, message: str, **values: Any) -> Note:
        return cls(((message, tuple(values.items())),))

    def __add__(self, other: Note) -> Note:
        return Note(self.parts + other.parts)

    def english(self) -> str:
        return "".join(m.format(**dict(v)) for m, v in self.parts)

    def text(self) -> str:
        return "".join(_(m).format(**dict(v)) for m, v in self.parts)


@dataclass
class Source:
    """A scannable form of the user's file and what its columns mean."""

    path: Path
    format: str  # "csv" or "parquet", or "frames": rows made on the way (a ledger's project-years)
    columns: list[str]
    mapping: dict[str, str]  # canonical -> column name in the file
    encoding: str = "utf-8"
    delimiter: str = ","
    conversions: tuple[Note, ...] = ()  # how it was made readable: transcoded, title lines passed over …
    temp_files: list[Path] = field(default_factory=list)
    frame: Any = None  # the rows of format "frames": polars DataFrames of text, each with the share done after it
    shape: str = "project-years"  # or "ledger" (arrivals), "projects" (a ledger's --projects file)
    skip: int = 0  # lines above the header (title lines) that a row-by-row reading passes over
    lines_above: int = 0  # title lines a copy of the file (``path``) left out: its line 1 is the file's line 1 + this
    origin: Path | None = None  # the user's file, where ``path`` is a copy of it made to be scanned (its title lines left out)
    newline: str = "\n"  # what ends its lines: LF (CR LF too), or CR in a file that holds no LF
    collisions: dict[str, list[str]] = field(default_factory=dict)  # canonical -> the columns naming it, if several
    note: Note | None = None  # what the last reading of it found (`row_by_row`), or --projects rows not used
    number_columns: list[str] = field(default_factory=list)  # an Excel sheet's columns of numbers only
    shown: dict[str, str] = field(default_factory=dict)  # a rate source its rows state -> in the interface's language
    encoding_sure: bool = True  # False: UTF-8 from the file's first MiB (polars checks the rest as it reads)
    blank_is_absent: bool = False  # an empty cell may be a key its line does not give (JSON Lines): never a disagreement
    totals: list = field(default_factory=list)  # a ledger's total rows: (line, their checks), see `ledger_totals`

    def cleanup(self) -> None:
        for p in self.temp_files:
            p.unlink(missing_ok=True)

    @property
    def converted_from(self) -> str | None:
        """How it was made readable, in English (`io.lines.where` reads it), or None."""
        return "; ".join(n.english() for n in self.conversions) or None

    def converted_text(self) -> str | None:
        """How it was made readable, in the interface's language."""
        return _("; ").join(n.text() for n in self.conversions) or None

    @property
    def has_parse_errors_column(self) -> bool:
        return PARSE_ERROR in self.columns


def temp_file(suffix: str) -> Path:
    from .scratch import scratch_file  # (in the run's folder: removed however the run ends)

    return scratch_file(suffix)
