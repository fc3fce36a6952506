"""Scoring a file of projects: every row in, every row out, scored or with its error, and a summary.

Rows stream from the input through `frame.Scorer` to the output in batches, in input
order, so memory does not grow with the file. This module never prints: progress goes
to a callback, the summary is returned.
"""

import dataclasses
import re
import hashlib
import shutil
from collections.abc import Callable, Iterator
from contextlib import closing, nullcontext
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, Field

from . import __version__
from .errors import InputError
from .i18n import _
from .ahead import ahead as _ahead
from .frame import CNY_SCALE, FORMULA_STARTS, GROSS_SCALE, RESULT_COLUMNS, Options, Scorer, formula_starts
from .fx import source_notes
from .io.readers import Source, Unreadable, describe, frames, row_by_row
from .io.scratch import held_signals, run_folder
from .io.outputs import Outputs, check_outputs
from .io.writers import CSV_ENCODINGS, OUTPUT_FORMATS, BatchWriter, output_format
from .money import FX_RATE_DECIMALS, MAX_AMOUNT, MAX_FX_RATE, Money
from .summary import (Group, RowError, Tally, TotalCheck, header_units_of, ignored_columns, ledger_totals, locate, unit_hints,
                      unknown_sectors_note)
from .text import neutral

BATCH_ROWS = 100_000  # Parquet rows scored at a time (a CSV goes in blocks of 6 MiB): memory stays bounded


def said_again(text: str, shown: dict[str, str]) -> str:
    """A cell's text (English, its parts joined) with each part the scorer said in the interface's
    language replaced by that (the longest first: a part may hold a shorter one)."""
    from .ledger import ARRIVAL_ROW

    for english in sorted((e for e in shown if e and e in text), key=len, reverse=True):
        text = text.replace(english, shown[english])
    return re.sub(r"\barrival row (\d+): ", lambda m: _(ARRIVAL_ROW).format(line=m.group(1)), text)


class BatchSummary(BaseModel):
    """What a batch did, with enough to audit and reproduce it."""

    tool: str = f"fdi-incentive {__version__}"
    input: str
    input_format: str
    input_sha256: str | None = None
    output: str | None
    shape: str
    column_mapping: dict[str, str]
    ignored_columns: list[str] = Field(default_factory=list, description="input columns that match nothing: kept, not read")
    column_units: dict[str, str] = Field(default_factory=dict, description="amount column -> the unit it was read in, and why")
    errors_shown: dict[int, str] = Field(default_factory=dict, exclude=True,
                                         description="row -> its error as the interface's language says it (for the terminal)")
    projects: str | None = Field(None, description="a ledger's --projects file")
    projects_sha256: str | None = None
    projects_column_mapping: dict[str, str] | None = None
    arrivals: int | None = Field(None, description="a ledger's arrivals (rows of the file), added up into `rows` project-years")
    rows: int
    scored: int
    errors: int
    first_errors: list[RowError]
    totals: list[TotalCheck] = Field(default_factory=list, description="total rows: kept, marked, not scored, checked")
    eligible_by_tier: dict[str, int]
    capped: int
    assumed_continuation: int = Field(
        description="rows scored under a policy applied after the period its source covers (policy_status assumed_continuation)")
    total_incentive_cny: Money
    by_category: dict[str, Group]
    by_year: dict[str, Group]
    policies: dict[str, str] = Field(description="policy id -> sha256 of its file")
    fx_sources: list[str]
    notes: list[str]


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()




def _batches(src: Source, progress: Callable[[float], None] | None, span: tuple[float, float],
             lines: bool = False) -> Iterator:
    """The input's rows as polars DataFrames of text (Parquet keeps its types), in order, a bounded
    number at a time (`readers.frames`), each with its records' own text or None and the formula
    starts its cells may begin with.

    ``lines``: give each row of a CSV block its record as a line of text, where a line is one
    record (the block holds no quote, no lone CR, no NUL): `Scorer.score` copies such records
    to a CSV output as they are instead of writing their cells anew."""
    import polars as pl

    lo, hi = span

    def report(fraction: float) -> None:
        if progress is not None:
            progress(lo + (hi - lo) * min(fraction, 0.99))

    if src.format == "frames":
        for df, fraction in src.frame:
            for start in range(0, df.height, BATCH_ROWS):
                yield df.slice(start, BATCH_ROWS), None, FORMULA_STARTS
            report(fraction)
        return
    for df, block, fraction in frames(src, rows=BATCH_ROWS):
        if block is None:  # (Parquet: no blank rows, no records to copy)
            yield df, None, FORMULA_STARTS
            report(fraction)
            continue
        # a blank line (or a row of empty cells) holds no project: skip it
        keep = df.select(pl.any_horizontal(pl.all().str.len_bytes() > 0)).to_series() if df.width else None
        text = _lines(block) if lines and keep is not None else None
        if text is not None and len(text) != len(keep):
            text = None  # (never seen: then the cells are written anew)
        # the formula starts a cell may begin with (those the records hold: the header is the first line)
        starts = formula_starts(block, block.find(b"\n") + 1) if text is not None else FORMULA_STARTS
        yield (df, text, starts) if keep is None else (df.filter(keep), None if text is None else text.filter(keep), starts)
        report(fraction)


def _lines(block: bytes):
    """A CSV block's records as lines of text (the header's line dropped), or None where a line
    may not be a record: a quote (a cell may hold a line end or a comma), a CR that does not end a
    line, a NUL (and 0x1F, which reads the lines here)."""
    import polars as pl

    if any(ch in block for ch in (b'"', b"\0", b"\x1f")) or (b"\r" in block and block.count(b"\r") != block.count(b"\r\n")):
        return None
    return pl.read_csv(block, has_header=True, new_columns=["line"], separator="\x1f", quote_char=None,
                       infer_schema=False, encoding="utf8", raise_if_empty=False).to_series()


def score_file(
    input_path: str | Path,
    output_path: str | Path | None,
    *,
    options: Options | None = None,
    encoding: str | None = None,
    progress: Callable[[float], None] | None = None,
    hash_input: bool = False,
    stdout=None,
    projects_path: str | Path | None = None,
    output_encoding: str | None = None,
    summary_json: str | Path | None = None,
    reads: tuple[str | Path | None, ...] = (),
) -> BatchSummary:
    """Score every row of ``input_path`` into ``output_path`` (CSV to ``stdout`` when None), and
    the summary as JSON into ``summary_json`` if given: the two are put in place together, at the
    end, or neither is (`io.outputs.Outputs`). ``reads``: other files the run reads (--fx-table),
    which no output may be.

    ``output_encoding`` (a CSV's: utf-8, utf-8-sig or gbk): by default UTF-8, with a BOM when the
    input is a CSV that came in GBK/GB18030 or with a BOM, so that Excel opens the output as UTF-8.

    Raises InputError for an unusable file or output; rows with bad values are
    scored as errors instead, and counted in the summary.
    """
    options = options or Options()
    input_path = Path(input_path)
    out = Path(output_path) if output_path is not None else None
    summary_path = Path(summary_json) if summary_json is not None else None
    with Outputs({"-o": out, "--summary-json": summary_path}) as outputs:
        return _score_outputs(input_path, out, summary_path, outputs, options, encoding, progress, hash_input, stdout,
                              projects_path, output_encoding, reads)


def _score_outputs(input_path: Path, out: Path | None, summary_path: Path | None, outputs: Outputs, options: Options,
                   encoding: str | None, progress, hash_input: bool, stdout, projects_path, output_encoding: str | None,
                   reads: tuple) -> BatchSummary:
    fmt = output_format(out) if out is not None else "csv"
    if output_encoding is not None:
        if output_encoding.strip().lower() not in CSV_ENCODINGS:
            raise InputError("--output-encoding", output_encoding, _(" or ").join(CSV_ENCODINGS))
        if fmt != "csv":
            raise InputError("--output-encoding", output_encoding, _("a CSV output (-o {out} is {format}, which has no encoding to choose)").format(out=out, format=fmt))
        output_encoding = output_encoding.strip().lower()
    policy_file = Path(options.policy.origin) if options.policy is not None else None
    check_outputs({"-o": out, "--summary-json": summary_path}, [input_path, projects_path, policy_file, *reads])  # (before any work)
    with run_folder() as work:  # (every temporary file of the run: removed however the run ends)
        summary = _score_file(input_path, out, fmt, options, encoding, progress, hash_input, stdout, projects_path, work,
                              output_encoding, outputs)
        if summary_path is not None:
            with outputs.stage(summary_path, "--summary-json", ".json") as tmp:
                tmp.write_text(summary.model_dump_json(indent=2), encoding="utf-8")
        outputs.commit()  # (-o and --summary-json together, or neither)
        return summary


def _score_file(input_path: Path, out: Path | None, fmt: str, options: Options, encoding: str | None, progress,
                hash_input: bool, stdout, projects_path, work: Path, output_encoding: str | None,
                outputs: Outputs) -> BatchSummary:
    src = first = describe(input_path, encoding=encoding)
    # how the CSV came (GBK, with a BOM; a copy below title lines is UTF-8 whatever the file was): the output's BOM
    came_as = None
    if input_path.suffix.lower() in (".csv", ".txt", ".tsv"):
        from .io.csvfile import detect_encoding

        came_as = encoding or (src.encoding if src.encoding.lower() not in ("utf-8", "utf8") else detect_encoding(input_path)[0])
    made = [src]  # every Source made on the way (their temporary files go at the end)
    try:
        projects = describe(projects_path, role="projects") if projects_path is not None else None
        if projects is not None:
            made.append(projects)
        options, column_units = header_units_of(src, options)
        notes = [_("input converted: {how}").format(how=src.converted_text())] if src.conversions else []
        # (what the reading found beside how it read: an Excel workbook's other sheets with a header)
        notes += [src.note.text()] if src.note is not None and src.note not in src.conversions else []
        for attempt in (1, 2):
            try:
                rows = _project_years(src, options, work, projects, progress) if src.shape == "ledger" else src
                said = [rows.note.text()] if rows is not src and rows.note else []  # (--projects rows not used)
                summary = _score(rows, first, input_path, out, fmt, options, work, outputs, progress, [*notes, *said], hash_input, stdout,
                                 output_encoding, came_as)
                summary.column_units = column_units
                if projects is not None:  # (an input too: named, hashed and its columns stated like the ledger's)
                    summary.projects, summary.projects_column_mapping = str(projects_path), dict(projects.mapping)
                    summary.projects_sha256 = sha256_file(Path(projects_path)) if hash_input else None
                return summary
            except Unreadable as exc:
                # A CSV that polars cannot read as it is (a row longer than the header, a quote inside a
                # cell): read it row by row, keeping every row with its parse error. And go again.
                if attempt == 2 or src.format != "csv" or src.has_parse_errors_column:
                    raise InputError("INPUT", str(input_path), _("a file that can be read ({reason})").format(reason=exc)) from None
                src = row_by_row(src)
                made.append(src)
                notes.append(_("input {note}").format(note=src.note.text()))
        raise AssertionError("unreachable")
    finally:
        with held_signals():  # (a stop does not cut the clean-up short)
            for source in made:
                source.cleanup()


LEDGER_SHARE = 65  # of a ledger's progress bar: adding up the arrivals (the rest: scoring its project-years)


def _project_years(src: Source, options: Options, work: Path, projects: Source | None,
                   progress: Callable[[float], None] | None = None) -> Source:
    """A ledger's arrivals added up per project-year: the rows to score."""
    from .ledger import project_years

    done = (lambda fraction: progress(LEDGER_SHARE * fraction)) if progress is not None else (lambda fraction: None)
    return project_years(src, options, work, projects, done)


def _score(src: Source, original: Source, input_path: Path, out: Path | None, fmt: str, options: Options, work: Path, outputs: Outputs,
           progress, notes: list[str], hash_input: bool, stdout,
           output_encoding: str | None = None, came_as: str | None = None) -> BatchSummary:
    import polars as pl

    ledger = original.shape == "ledger"
    from .io.csvfile import encoding_label

    encoding = output_encoding or _default_encoding(came_as, out, fmt)
    if fmt == "csv" and output_encoding is None and encoding != "utf-8":
        notes = [*notes, _("written as UTF-8 with a BOM, as the input came ({encoding}): Excel opens it with "
                           "its Chinese intact (--output-encoding utf-8 for none)").format(encoding=encoding_label(came_as))]
    if ledger:  # (its arrivals were read at --unit; the project-years are in USD)
        options = dataclasses.replace(options, unit=Decimal(1))
    scorer = Scorer(src.columns, {**original.mapping, **src.mapping} if src.columns == original.columns else src.mapping,
                    options)
    tally = Tally()
    target = out if out is not None else work / "stdout.csv"
    # a CSV record goes to a CSV output as it is, if every column of it is shown (not a ledger's project-years)
    lines = fmt == "csv" and src.format == "csv" and src.delimiter == "," and scorer.inputs == src.columns
    names = scorer.output_names()
    header = [neutral(name) for name in names] if fmt in ("csv", "xlsx") else names  # (a header cell may begin with =)
    # (-o is staged, put in place with --summary-json at the end; standard output's copy is written in the run's folder)
    staged = outputs.stage(out, "-o", f".{fmt}") if out is not None else nullcontext(target)
    with staged as tmp, BatchWriter(tmp, fmt, work, names, header, name=out, encoding=encoding,
                                    numbers=_number_columns(scorer, ledger, original),
                                    types=_parquet_types(scorer, ledger)) as writer:
        # three stages at once, on neighbouring blocks: read, score, write (see `_ahead`)
        blocks = _ahead(_batches(src, progress, (LEDGER_SHARE if ledger else 0, 100), lines=lines))
        scored_blocks = _ahead(scorer.score(df, neutralise=fmt in ("csv", "xlsx"), lines=text, starts=starts,
                                            typed=fmt == "parquet") for df, text, starts in blocks)

        arrivals = 0  # a ledger's, added up into its project-years

        def tallied():
            nonlocal arrivals
            for scored in scored_blocks:
                tally.add(scored, scorer)  # (the summary is added up here, in order)
                if ledger:
                    arrivals += int(scored.rows.get_column("arrivals").cast(pl.Int64).sum())
                yield scored.rows, scored.csv_ready

        with closing(blocks), closing(scored_blocks):  # (stopped in this order: scoring, then reading)
            writer.write_all(tallied())
        if writer.rows == 0:
            writer.write(pl.DataFrame({name: pl.Series([], dtype=pl.String) for name in scorer.output_names()}))
    if not ledger:
        notes = [*notes, *unit_hints(scorer, options, tally)]
        locate(tally, original, input_path, came_as)
    elif src.totals:  # (a ledger's total rows: checked against its arrivals)
        ledger_totals(tally, src.totals, original, input_path, came_as)
    unknown = unknown_sectors_note(scorer.unknown_sectors)
    if unknown:
        notes = [*notes, unknown]
    if writer.text_numbers:
        notes = [*notes, _("{count} number cell(s) written as text: a double (Excel's number) would not "
                           "hold their decimals exactly").format(count=f"{writer.text_numbers:,}")]
    if progress is not None:
        progress(100)
    written: str | None = str(target)
    if out is None:
        _to_stdout(target, stdout, encoding)
        written = None
    return BatchSummary(
        input=str(input_path), input_format=original.converted_from or original.format,
        input_sha256=sha256_file(input_path) if hash_input else None,
        output=written, shape="ledger" if ledger else "project-year",
        column_mapping=dict(original.mapping), ignored_columns=ignored_columns(original),
        arrivals=arrivals if ledger else None,
        rows=tally.rows, scored=tally.rows - tally.errors - tally.total_rows, errors=tally.errors, first_errors=tally.first,
        errors_shown={e.row: said_again(e.error, {**src.shown, **scorer.shown}) for e in tally.first},
        totals=tally.totals,
        eligible_by_tier=dict(sorted(tally.tiers.items())), capped=tally.capped, assumed_continuation=tally.assumed,
        total_incentive_cny=tally.total,
        by_category=tally.by("category"), by_year=tally.by("year"),
        policies={p: scorer.policies[p].sha256 for p in sorted(tally.policies) if p in scorer.policies},
        # (sorted by the cells' English, then said in the interface's language: the same order in both)
        fx_sources=list(dict.fromkeys(scorer.shown.get(s) or src.shown.get(s) or _(s) for s in sorted(tally.fx_sources))),
        notes=notes + source_notes(sorted(tally.fx_sources)),  # (what the sources named in a few words are, once)
    )


RESULT_NUMBERS = {"rate": "rate", "base_usd": "money", "fx_rate": "fx", "base_cny": "amount", "gross_cny": "amount",
                  "incentive_cny": "money"}
# a ledger's project-years are ours, not the input's: their year and amounts are numbers too
LEDGER_NUMBERS = {"year": "year", "paid_in_usd": "money", "reinvested_profit": "money", "shareholder_loans_usd": "money",
                  "arrivals": "count"}


def _number_columns(scorer: Scorer, ledger: bool, original: Source) -> dict[str, str]:
    """The output's columns of numbers, for an Excel sheet: name -> kind (see io.writers.NUMBER_FORMATS).
    The input's own columns keep what they were (text from a CSV; a typed Parquet column's numbers)."""
    aliases = scorer.result_aliases()
    numbers = {aliases[name]: kind for name, kind in RESULT_NUMBERS.items()}
    # an Excel input's columns of numbers stay numbers (its other columns, text, stay text)
    numbers |= {c: "number" for c in original.number_columns if c in scorer.inputs and not ledger}
    if ledger:
        numbers |= {name: kind for name, kind in LEDGER_NUMBERS.items() if name in scorer.inputs}
    return numbers


def _whole_digits(bound: Decimal) -> int:
    """The digits of the whole part of the largest value strictly below ``bound``."""
    return len(str(int(bound) - 1 if bound == int(bound) else int(bound)))


# A Parquet output's result columns, typed so that a user sums them without a cast (CSV, JSON Lines
# and Excel write the same values as text, as before): (precision, scale) of a decimal, or a type.
# Each value is exactly the one the other formats write: the money made from the scorer's integers
# (`scaled.decimal_value`), the rates and a ledger's sums cast from their text by io.writers, which
# refuses a text it would have to round. Each precision is the least that holds every value the
# bounds of money.py allow:
# - base_usd: two amounts (paid in and profit) each below MAX_AMOUNT, in cents: below 2 x 10^14 (15 digits);
# - base_cny: that base times a rate below MAX_FX_RATE, below 2 x 10^18 (19 digits; a ledger's, at its
#   arrivals' own rates, exceeds that by at most half a cent times the rate per arrival), with all the
#   decimals the batch keeps it exact with (CNY_SCALE: cents times a rate of 8 decimals);
# - gross_cny: base_cny times a tier's rate (at most 1, 8 decimals): the same 19 digits, GROSS_SCALE decimals;
# - incentive_cny: the payout to the fen (a policy rounds to 0.01 yuan or coarser), 38 digits as a sum of it
#   keeps them (DuckDB, Spark and Arrow sum a DECIMAL into DECIMAL(38, s));
# - rate: a tier's rate, at most 1 with 8 decimals; fx_rate: below MAX_FX_RATE, 8 decimals.
# eligible and capped are booleans; policy, tier, fx_source, reason and error text.
_BASE_DIGITS = _whole_digits(2 * MAX_AMOUNT)
_CNY_DIGITS = _whole_digits(2 * MAX_AMOUNT * MAX_FX_RATE)
RESULT_TYPES: dict[str, tuple[int, int] | str] = {
    "eligible": "bool", "rate": (1 + FX_RATE_DECIMALS, FX_RATE_DECIMALS), "base_usd": (_BASE_DIGITS + 2, 2),
    "fx_rate": (_whole_digits(MAX_FX_RATE) + FX_RATE_DECIMALS, FX_RATE_DECIMALS),
    "base_cny": (_CNY_DIGITS + CNY_SCALE, CNY_SCALE), "gross_cny": (_CNY_DIGITS + GROSS_SCALE, GROSS_SCALE),
    "capped": "bool", "incentive_cny": (38, 2),
}
# a ledger's project-years (ours): its amounts are sums of any number of arrivals, which no bound of
# money.py holds (a sum past MAX_AMOUNT is the row's error, its sum still shown): 38 digits; its year
# stays text as a project-year file's does, its count of arrivals is an integer
LEDGER_TYPES: dict[str, tuple[int, int] | str] = {
    "paid_in_usd": (38, 2), "reinvested_profit": (38, 2), "shareholder_loans_usd": (38, 2), "arrivals": "int"}
assert all(t[0] <= 38 for t in [*RESULT_TYPES.values(), *LEDGER_TYPES.values()] if isinstance(t, tuple))


def _parquet_types(scorer: Scorer, ledger: bool) -> dict:
    """A Parquet output's typed columns: name -> polars type (see RESULT_TYPES). The input's own
    columns keep what they were read as (text from a CSV; a typed Parquet column's type)."""
    import polars as pl

    def dtype(kind):
        return pl.Boolean if kind == "bool" else pl.Int64 if kind == "int" else pl.Decimal(*kind)

    aliases = scorer.result_aliases()
    types = {aliases[name]: dtype(kind) for name, kind in RESULT_TYPES.items()}
    types |= {alias: dtype(RESULT_TYPES["incentive_cny"]) for name, alias in aliases.items() if name.startswith("incentive_")}
    if ledger:
        types |= {name: dtype(kind) for name, kind in LEDGER_TYPES.items() if name in scorer.inputs}
    return types


def _default_encoding(came_as: str | None, out: Path | None, fmt: str) -> str:
    """A CSV file's encoding when none is asked for: UTF-8 with a BOM when the input is a CSV that
    came in another encoding (GBK, as Chinese Excel saves) or with a BOM, for Excel opens a CSV
    without one as GBK; plain UTF-8 otherwise, and always on stdout (a pipe wants no BOM)."""
    plain = came_as is None or came_as.replace("_", "-").lower() in ("utf-8", "utf8")
    return "utf-8" if fmt != "csv" or out is None or plain else "utf-8-sig"


def _to_stdout(path: Path, stdout, encoding: str = "utf-8") -> None:
    import sys

    target = stdout or sys.stdout
    try:
        if _is_terminal(target):  # the rows shown to a person: without the controls a terminal would obey
            from .text import printable

            with path.open(encoding="utf-8", newline="") as f:
                while chunk := f.read(1 << 20):
                    target.write(printable(chunk))
            target.flush()
            return
        binary = getattr(target, "buffer", None)
        if binary is None:
            with path.open(encoding=encoding) as f:
                shutil.copyfileobj(f, target)
            target.flush()
            return
        # the bytes as written (decoding and encoding 200 MB again costs ~0.5 s), by the kernel where it can
        target.flush()
        binary.flush()
        with path.open("rb") as f:
            f.seek(_sendfile(f, binary))
            shutil.copyfileobj(f, binary, 1 << 20)
        binary.flush()
    except BrokenPipeError:
        pass  # the reader stopped reading (`fdi batch FILE | head`): it has what it wanted


def _is_terminal(target) -> bool:
    try:
        return bool(target.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def _sendfile(source, target) -> int:
    """Copy a file to ``target``'s descriptor in the kernel (a file or a pipe); how many bytes it copied
    (0 where it cannot: the rest is copied the usual way)."""
    import io
    import os

    try:
        out = target.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        return 0
    sent, size = 0, os.fstat(source.fileno()).st_size
    try:
        while sent < size and (n := os.sendfile(out, source.fileno(), sent, size - sent)):
            sent += n
    except BrokenPipeError:
        raise
    except OSError:
        pass  # (not for this kind of target)
    return sent


__all__ = ["BatchSummary", "OUTPUT_FORMATS", "Options", "RESULT_COLUMNS", "score_file"]
