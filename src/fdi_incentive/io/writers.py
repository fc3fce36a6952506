"""Writing results: the format follows the output's extension; files appear whole or not at all."""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import InputError

OUTPUT_FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}
EXCEL_MAX_ROWS = 1_048_576


def output_format(path: Path) -> str:
    fmt = OUTPUT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError("-o", str(path), "a file ending in .csv, .xlsx, .parquet or .jsonl")
    return fmt


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it into place only if the block succeeds."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError("-o", str(path), f"a file in an existing folder ({folder} does not exist)")
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=folder)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()  # the writer creates it
    try:
        yield tmp
        # An old file of that name goes first: renaming over it makes ext4 (auto_da_alloc) write the
        # whole new file to disk before rename returns (0.2-0.4 s for a 200 MB output). Between the
        # two calls there is no file of that name; there is never a partial one.
        if path.is_file() and not path.is_symlink():
            path.unlink(missing_ok=True)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class BatchWriter:
    """Writes scored batches, in order, to one file in the output's format.

    CSV and JSON Lines are appended batch by batch; Parquet batches are kept as Arrow IPC
    files in ``work`` and streamed into one Parquet file at the end; Excel is written row
    by row in constant memory.
    """

    def __init__(self, path: Path, fmt: str, work: Path, columns: list[str]):
        self.path, self.fmt, self.work, self.columns = path, fmt, work, columns
        self.rows = 0
        self._parts: list[Path] = []
        self._file = None
        self._book = self._sheet = None
        self._started = False  # header written

    def __enter__(self) -> "BatchWriter":
        if self.fmt in ("csv", "jsonl"):
            self._file = self.path.open("wb")
        if self.fmt == "csv":
            import polars as pl

            pl.DataFrame(schema=dict.fromkeys(self.columns, pl.String)).write_csv(self._file)  # the header
            self._started = True
        elif self.fmt == "xlsx":
            import xlsxwriter

            self._book = xlsxwriter.Workbook(str(self.path), {
                "constant_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
                "strings_to_urls": False})
            self._sheet = self._book.add_worksheet("results")
        return self

    def write(self, df, csv_ready: bool = False) -> None:
        """Append a batch with the columns given at the start (``csv_ready``: CSV text already,
        see `frame.Scored`)."""
        if self.fmt == "csv":
            df.write_csv(self._file, include_header=False, quote_style="never" if csv_ready else "necessary")
        elif self.fmt == "jsonl":
            df.write_ndjson(self._file)
        elif self.fmt == "parquet":
            part = self.work / f"part-{len(self._parts):06d}.arrow"
            df.write_ipc(part)
            self._parts.append(part)
        else:
            self._write_xlsx(df)
        self.rows += len(df)
        self._started = True

    def _write_xlsx(self, df) -> None:
        if not self._started:
            self._sheet.write_row(0, 0, df.columns)
        if self.rows + len(df) >= EXCEL_MAX_ROWS:
            raise InputError("-o", str(self.path), f"at most {EXCEL_MAX_ROWS - 1:,} rows in an Excel sheet; write .csv or .parquet")
        for i, values in enumerate(df.iter_rows(), start=self.rows + 1):
            self._sheet.write_row(i, 0, ["" if v is None else v for v in values])

    def __exit__(self, kind, value, traceback) -> None:
        if self._file is not None:
            self._file.close()
        if self._book is not None:
            self._book.close()
        if kind is None and self.fmt == "parquet":
            import polars as pl

            pl.scan_ipc(self._parts).sink_parquet(self.path)
