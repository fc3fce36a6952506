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
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_xlsx(con, select: str, path: Path, progress=None) -> None:
    """Stream a query into an .xlsx workbook in constant memory."""
    import xlsxwriter

    cursor = con.execute(select)
    names = [d[0] for d in cursor.description]
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                          "strings_to_formulas": False, "strings_to_urls": False})
    sheet = book.add_worksheet("results")
    sheet.write_row(0, 0, names)
    row = 1
    while batch := cursor.fetchmany(10_000):
        for values in batch:
            if row >= EXCEL_MAX_ROWS:
                book.close()
                raise InputError("-o", str(path), f"at most {EXCEL_MAX_ROWS - 1:,} rows in an Excel sheet; write .csv or .parquet")
            sheet.write_row(row, 0, ["" if v is None else v for v in values])
            row += 1
    book.close()
