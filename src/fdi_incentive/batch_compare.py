"""`fdi batch --compare`: every row of a file under every shipped policy, in one long output (a row
for each input row and policy, the input's rows in order, the policies in the order `fdi policy list`
gives them), for a bureau comparing a pipeline of projects across places.

Each policy's rows are the batch's own (`score_file` with that policy's family: the version for each
row's year, before or after its dates paying nothing), so a row here is the row `fdi batch --policy`
writes; the parts' and place group's columns are empty under a policy without them.
"""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

from .batch import BatchSummary, score_file
from .errors import InputError
from .i18n import _
from .io.outputs import atomic_output, check_outputs
from .io.writers import output_format
from .options import Options
from .policy import bundled_policies

FORMATS = ("csv", "parquet")


def families() -> list[str]:
    """The shipped families, in the order their versions are listed."""
    return list(dict.fromkeys(lp.policy.family_id for lp in bundled_policies()))


def compare_file(input_path: str | Path, output_path: str | Path, *, options: Options | None = None,
                 encoding: str | None = None) -> list[tuple[str, BatchSummary]]:
    """Score ``input_path`` under every shipped family into ``output_path`` (CSV or Parquet), row by
    policy; the summaries of each family's run, in order."""
    import polars as pl

    options = options or Options()
    out = Path(output_path)
    fmt = output_format(out)
    if fmt not in FORMATS:
        raise InputError("-o", str(out), _("a .csv or .parquet file: --compare writes one of them"))
    check_outputs({"-o": out}, [Path(input_path)])
    summaries = []
    with tempfile.TemporaryDirectory(prefix="fdi-compare-") as work:
        frames = []
        for n, family in enumerate(families()):
            part = Path(work) / f"{n}.{fmt}"
            summary = score_file(input_path, part, options=dataclasses.replace(options, policy=None, family=family),
                                 encoding=encoding, output_encoding="utf-8")
            summaries.append((family, summary))
            df = pl.read_csv(part, infer_schema=False) if fmt == "csv" else pl.read_parquet(part)
            frames.append(df.with_row_index("__row").with_columns(pl.lit(n).alias("__policy_order")))
        long = pl.concat(frames, how="diagonal_relaxed").sort(["__row", "__policy_order"]).drop("__row", "__policy_order")
        with atomic_output(out, "-o", f".{fmt}") as tmp:
            if fmt == "csv":
                long.write_csv(tmp)
            else:
                long.write_parquet(tmp)
    return summaries
