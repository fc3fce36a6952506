"""The ledger shape: a file of capital arrivals (project, date, type, amount, currency),
turned into one project-year row each, as `assess` does for a project's arrivals.

Each arrival is converted to USD at its own day's rate (to the cent, as the policy
rounds) and, when it counts, into CNY at that day's USD rate; the sums per project and
calendar year then go through the same rule as every other row. An arrival that
cannot be read makes its project-year an error row; one whose date cannot be read
becomes an error row of its own: nothing is lost.

All of it is polars expressions, with integer arithmetic on scaled values (cents,
rates times 10^8); what only a few distinct cells need (an amount that is not a
plain number, a date in another form, the rates of each day) is worked out once per
distinct value in Python, as `fdi calc` does it.

Memory stays bounded as ledgers grow: the file is read a chunk at a time, and a
ledger of more than `ONE_PART_BYTES` is added up a part at a time, each part holding
every arrival of its projects (by a hash of the project id); the project-years then
go on in the order of their first arrival, a span of `SPAN` arrival rows at a time.

Each arrival is read and converted in ledger_arrivals.py (`Arrivals`, a part of `_Ledger`); here,
the file in chunks and parts, and the project-years added up from the arrivals.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from .ahead import ahead
from .errors import PolicyError
from .i18n import N_, _, get_language
from .language import said_both, using
from .options import Options
from .scaled import FX_DECIMALS, I128, _scale_of, decimal_text, round_div
from .io.readers import PARSE_ERROR, Source, Unreadable, frames, whole_text
from .io.source import Note
from .money import converted_too_large
from .ledger_arrivals import (ARRIVAL_ROW, CAN_COUNT, FIELD, PIECES, TYPES, Arrivals,  # noqa: F401 (and from here)
                              arrival_type, parse_day)
from .ledger_totals import LedgerTotals
from .projects_file import NOT_LISTED, listed_differently, meaning_of, stripped, unnamed
from .text import quoted
from .policy import DEFAULT_FAMILY, family_versions

if TYPE_CHECKING:
    import polars as pl

LEDGER_COLUMNS = ["project_id", "year", "kind", "sector", "industry_code", "paid_in_usd", "reinvested_profit",
                  "reinvested_profit_currency", "shareholder_loans_usd", "arrivals", "__ledger_error",
                  "__equity_cny", "__profit_cny", "__fx_rate_e8", "__fx_rate_text", "__fx_source_text"]
CHUNK_BYTES = 32 << 20  # of the file read at a time (~450k arrivals)
ONE_PART_BYTES = 96 << 20  # a ledger file up to this size is added up at once (~1.4M arrivals, ~0.7 GB at the peak)
PART_BYTES = 48 << 20  # a larger one in parts of about this much of it: ~1 GB at the peak at 10M arrivals (1.5 at 96 MiB)
SPAN = 1 << 20  # project-years handed on at a time: those whose first arrival is in a span of this many rows
ATTRIBUTES = ("kind", "sector", "industry_code")  # a project's, on each arrival's row or in --projects


def reward_period(options: Options) -> str:
    """The reward year arrivals are added up by: the calendar year, or October to September (Jinan):
    as the policies the batch may use say (they agree: the versions of one family)."""
    policies = [options.policy] if options.policy is not None else list(family_versions(options.family or DEFAULT_FAMILY))
    periods = {lp.policy.base.period for lp in policies}
    if len(periods) != 1:
        raise PolicyError(_("a ledger needs every policy it may use to add arrivals up by the same reward year"))
    return periods.pop()


def policy_ways(options: Options) -> tuple[str, tuple[str, ...]]:
    """How arrivals are rounded to the USD cent, and which of them count (whose days' rates make
    the rate a project-year states): as the policies the batch may use say (they must agree)."""
    policies = [options.policy] if options.policy is not None else list(family_versions(options.family or DEFAULT_FAMILY))
    ways = {(lp.policy.rounding.mode, _scale_of(lp.policy.rounding.usd_quantum),
             tuple(t for t in CAN_COUNT if t in lp.policy.base.counts)) for lp in policies}
    if len(ways) != 1 or next(iter(ways))[1] != 2:
        raise PolicyError(_("a ledger needs every policy it may use to convert arrivals to USD cents the same way "
                            "and to count the same arrivals"))
    mode, _scale, counts = next(iter(ways))
    return mode, counts


def project_years(src: Source, options: Options, work: Path, projects: Source | None = None,
                  done: Callable[[float], None] = lambda fraction: None) -> Source:
    """The ledger's project-years (LEDGER_COLUMNS), in the order of their first arrival, as a
    Source the scorer reads like any other; ``done`` hears how much of the work is done (0 to 1).
    The amounts are read at ``options.unit``; the project-years are in USD (score them at unit 1)."""
    return _Ledger(src.mapping, options, projects).run(src, work, done)


DISAGREE = N_("{field}: the arrivals of this project-year disagree ({first}, {second})")
WEIGHTED_MEAN = N_("weighted mean of the rates of {n} arrival dates")
class _Ledger(Arrivals):
    """One ledger's adding-up, with what it learns of distinct cells kept across its chunks."""

    def __init__(self, mapping: dict[str, str], options: Options, projects: Source | None):
        import polars as pl

        self.m, self.o = mapping, options
        self.mode, self.counts = policy_ways(options)
        self.period = reward_period(options)  # (a project-year's year: the reward year its arrivals fall in)
        self.days: dict[str, date | None] = {}  # a date cell in another form -> its day
        self.types: dict[str, str | None] = {}
        self.amounts: dict[str, tuple[int | None, str | None]] = {}  # an amount cell that is not plain -> (cents, error)
        self.quotes: dict[tuple[str, date], tuple] = {}  # (currency, day) -> (rate x 10^8, source, error, rate id)
        self.ids: dict[tuple[int, str], int] = {}  # (USD rate x 10^8, source) -> its id
        self.projects = None
        self.own = [c for c in ATTRIBUTES if c in mapping]  # a project's kind, sector, code: on the ledger's rows
        self.listed: list[str] = []  # ... and in --projects
        self.note: str | None = None  # --projects rows that could not be used
        self.lang = get_language()  # the interface's (the cells are English whatever it is)
        self.shown: dict[str, str] = {}  # a rate source as a cell states it -> in the interface's language
        self.twice: dict[str, str] = {}  # a project --projects lists twice, differently -> its project-years' error
        self.known: dict[tuple[str, str], int] = {}  # (kind, sector or code, a cell) -> what it means (`meanings`)
        self.totals = LedgerTotals()  # its total rows (合计, 小计 ...), each checked against the arrivals above it
        if self.lang != "en":  # (an arrival's error, said to a person: its fixed pieces)
            with using(self.lang):
                self.shown.update({m: _(m) for m in PIECES})
                self.shown.update({FIELD.format(field=f): _(FIELD).format(field=f) for f in ("date", "type", "currency")})
                self.shown[converted_too_large("amount")] = converted_too_large("amount")
        if projects is not None:
            pm = projects.mapping
            self.listed = [c for c in ATTRIBUTES if c in pm]
            rows = whole_text(projects)
            self.note = unnamed(projects, rows)
            row_error = ("--projects: " + stripped(PARSE_ERROR)) if PARSE_ERROR in rows.columns else pl.lit(None, dtype=pl.String)
            self.projects = (rows.select(stripped(pm["project_id"]).alias("__project_id"),
                                         *(stripped(pm[c]).alias(f"__p_{c}") for c in self.listed), row_error.alias("__p_error"))
                             .filter(pl.col("__project_id").is_not_null())
                             .unique("__project_id", keep="first", maintain_order=True))  # (listed twice alike: once)
            self.twice = listed_differently(projects, rows, self.listed, self.lang, self.shown)

    def run(self, src: Source, work: Path, done: Callable[[float], None]) -> Source:
        import polars as pl

        self.shown.update(src.shown)  # (what its reading said in the interface's language: an Excel formula's error)
        size = src.path.stat().st_size
        parts = 1 if size <= ONE_PART_BYTES else -(-size // PART_BYTES)
        pieces: list[list] = [[] for _ in range(parts)]  # each part's arrivals: frames, or (for several parts) files
        lines = 0
        try:
            chunks = frames(src, block=CHUNK_BYTES, rows=max(1, CHUNK_BYTES // 64), text=True, at_least_one=True)
            # (a ledger's CSV row is ~64-70 bytes: a Parquet slice of about a CSV chunk's rows)
            with closing(ahead(chunks)) as chunks:  # (the next chunk is read while this one is worked on)
                for raw, _, fraction in chunks:
                    a = self.arrivals(raw, lines)
                    lines += raw.height
                    if parts == 1:
                        pieces[0].append(a)
                    else:
                        part = (pl.col("__project_id").hash(0) % parts).alias("__part")
                        for (p,), piece in a.with_columns(part).partition_by("__part", as_dict=True, include_key=False).items():
                            pieces[p].append(work / f"arrivals-{p}-{len(pieces[p])}.parquet")
                            piece.write_parquet(pieces[p][-1], compression="lz4")
                    done(0.5 * fraction)
        except Unreadable:
            for path in itertools.chain.from_iterable(pieces) if parts > 1 else ():
                path.unlink()
            raise
        mapping = {c: c for c in LEDGER_COLUMNS if not c.startswith("__") and c != "arrivals"}  # (its rates: see `Scorer`)
        if parts == 1:  # (handed on as it is: written out and read back, it took ~0.6 s per 1M arrivals)
            years = self.years(pl.concat(pieces[0]))
            done(1.0)
            return Source(path=src.path, format="frames", columns=list(LEDGER_COLUMNS), mapping=mapping,
                          frame=[(years.select(LEDGER_COLUMNS), 1.0)], note=Note.of("{note}", note=self.note) if self.note else None,
                          shown=self.shown, totals=self._checked_totals())
        spans: list[list[Path]] = [[] for _ in range(max(1, -(-lines // SPAN)))]
        for p in range(parts):
            years = self.years(pl.read_parquet(pieces[p]) if pieces[p] else self.arrivals(raw.clear(), 0))
            for path in pieces[p]:
                path.unlink()
            span = ((pl.col("__first") - 1) // SPAN).alias("__span")
            for (s,), piece in years.with_columns(span).partition_by("__span", as_dict=True, include_key=False).items():
                spans[s].append(work / f"years-{s}-{p}.parquet")
                piece.write_parquet(spans[s][-1], compression="lz4")
            done(0.5 + 0.5 * (p + 1) / parts)
        return Source(path=src.path, format="frames", columns=list(LEDGER_COLUMNS), mapping=mapping,
                      frame=_in_order(spans), note=Note.of("{note}", note=self.note) if self.note else None,
                      shown=self.shown, totals=self._checked_totals())

    def _checked_totals(self) -> list[tuple[int, dict]]:
        return self.totals.checks(self.m["amount"], self.o.unit) if "amount" in self.m else []

    def _projects_errors(self, years: pl.DataFrame) -> list[pl.Expr]:
        """What --projects makes of a part's project-years: an error if it lists the project twice,
        differently, or not at all while the ledger's rows give no sector either."""
        import polars as pl

        if self.projects is None:
            return []
        pid = pl.col("__project_id")
        absent = years.filter(~pid.is_in(self.projects["__project_id"].implode()) & pl.col("sector").is_null()
                              & pl.col("industry_code").is_null() & pid.is_not_null())["__project_id"].unique().to_list()
        errors = {**self.twice, **{p: said_both(self.shown, self.lang, NOT_LISTED, id=quoted(p)) for p in absent}}
        return [pid.replace_strict(errors, default=None, return_dtype=pl.String)] if errors else []

    def _disagree(self, years: pl.DataFrame, dated: pl.LazyFrame) -> pl.DataFrame:
        """The project-years whose arrivals mean different kinds, sectors or codes, each with its
        error naming two of the cells (few: worked out apart from the sums)."""
        import polars as pl

        keys = ["__project_id", "__year"]
        differ = [pl.col(f"__mlo:{x}") != pl.col(f"__mhi:{x}") for x in self.own]
        bad = years.filter(pl.any_horizontal(differ)).select(*keys, *(d.alias(f"__d:{x}") for d, x in zip(differ, self.own)))
        if not bad.height:
            return bad.select(*keys, pl.lit(None, dtype=pl.String).alias("__disagree"))
        cells = (dated.join(bad.lazy(), on=keys, how="semi", nulls_equal=True).group_by(keys)
                 .agg(pl.col(f"__{x}").drop_nulls().unique().alias(f"__all:{x}") for x in self.own)
                 .collect(engine="in-memory"))
        said = []
        for row in bad.join(cells, on=keys, how="left", nulls_equal=True).iter_rows(named=True):
            clashes = []
            for x in self.own:
                if row[f"__d:{x}"]:  # (the first and the last by what they mean: the same whatever the arrivals' order)
                    values = sorted(row[f"__all:{x}"], key=lambda v: (meaning_of(x, v), v))
                    clashes.append(said_both(self.shown, self.lang, DISAGREE, field=x, first=quoted(values[0]),
                                             second=quoted(values[-1])))
            said.append("; ".join(clashes))
        return bad.select(*keys, pl.Series("__disagree", said, dtype=pl.String))

    def years(self, a: pl.DataFrame) -> pl.DataFrame:
        """The project-years of a part's arrivals (every arrival of its projects), in LEDGER_COLUMNS
        and __first (the row of a year's first arrival), in that order."""
        import polars as pl

        # (polars' in-memory engine: its streaming one took 1.1 GB at the peak for 1M arrivals, against 0.6, and longer)
        # (no date, no project, or a total row: a row of its own)
        alone = pl.col("__year").is_null() | pl.col("__project_id").is_null() | pl.col("__total")
        dated = a.lazy().filter(~alone)
        years = dated.group_by("__project_id", "__year", maintain_order=True).agg(
            pl.col("__line").min().alias("__first"),
            # its kind, sector and code; where the ledger's rows give them, the arrivals must agree (the
            # least and the greatest value the same; from --projects alone, there is one per project)
            *(pl.col(f"__{x}").min().alias(x) for x in ATTRIBUTES),
            # (compared as they are read: 增资 and capital_increase agree; the two cells shown where they do not)
            *(pl.col(f"__m:{x}").min().alias(f"__mlo:{x}") for x in self.own),
            *(pl.col(f"__m:{x}").max().alias(f"__mhi:{x}") for x in self.own),
            *(pl.col(f"__usd:{t}").sum().alias(f"__sum:{t}") for t in TYPES),
            *(pl.col(f"__cny:{t}").sum().alias(f"__cny:{t}") for t in CAN_COUNT),
            pl.len().alias("arrivals"),
            pl.col("__rid").drop_nulls().n_unique().alias("__n_rates"),
            pl.col("__rid").first(ignore_nulls=True).alias("__one_rid")).collect(engine="in-memory")
        # a project-year's bad arrivals, in row order (few: apart from the sums)
        if a["__msg"].null_count() < a.height:
            msgs = (dated.filter(pl.col("__msg").is_not_null()).group_by("__project_id", "__year", maintain_order=True)
                    .agg(pl.col("__msg").str.join("; ").alias("__ledger_error")).collect(engine="in-memory"))
            years = years.join(msgs, on=["__project_id", "__year"], how="left", maintain_order="left", nulls_equal=True)
        else:
            years = years.with_columns(pl.lit(None, dtype=pl.String).alias("__ledger_error"))
        if self.own:
            years = years.join(self._disagree(years, dated), on=["__project_id", "__year"], how="left",
                               maintain_order="left", nulls_equal=True)
        else:
            years = years.with_columns(pl.lit(None, dtype=pl.String).alias("__disagree"))
        years = years.with_columns(pl.concat_str([pl.col("__ledger_error"), pl.col("__disagree"),
                                                  *self._projects_errors(years)], separator="; ", ignore_nulls=True)
                                   .alias("__ledger_error"))
        years = years.with_columns(pl.when(pl.col("__ledger_error").str.len_bytes() > 0).then("__ledger_error")
                                   .alias("__ledger_error"))
        # an arrival whose date cannot be read, or with no project id: a row of its own
        undated = a.filter(alone).select(
            pl.col("__line").alias("__first"), pl.coalesce(pl.col("__label"), "__project_id").alias("project_id"),
            pl.lit(None, dtype=pl.String).alias("year"),
            pl.col("__kind").alias("kind"), pl.col("__sector").alias("sector"), pl.col("__industry_code").alias("industry_code"),
            *(pl.lit(None, dtype=pl.String).alias(x) for x in ("paid_in_usd", "reinvested_profit")),
            pl.lit("USD").alias("reinvested_profit_currency"), pl.lit(None, dtype=pl.String).alias("shareholder_loans_usd"),
            pl.when(~pl.col("__total")).then(pl.lit("1")).alias("arrivals"), pl.col("__msg").alias("__ledger_error"),
            *(pl.lit(None, dtype=pl.String).alias(x)
              for x in ("__equity_cny", "__profit_cny", "__fx_rate_e8", "__fx_rate_text", "__fx_source_text")))
        del a, dated  # (the arrivals: from here on, only their project-years)

        base = pl.sum_horizontal(pl.col(f"__sum:{t}") for t in self.counts)  # (counted, in USD and in CNY)
        both = pl.sum_horizontal(pl.col(f"__cny:{t}") for t in self.counts)
        # CNY per USD to six decimals, as `assess` states a weighted mean
        mean = round_div(both, pl.when(base > 0).then(base.cast(I128) * 100).otherwise(1), "half_up")
        one = pl.DataFrame({"__one_rid": list(self.ids.values()), "__one_rate": [r for r, _ in self.ids],
                            "__one_source": [s for _, s in self.ids]},
                           schema={"__one_rid": pl.Int64, "__one_rate": pl.Int64, "__one_source": pl.String})
        years = years.join(one, on="__one_rid", how="left", maintain_order="left")
        n = pl.col("__n_rates")
        # the rate stated: the one rate of the year's counted arrivals, or their weighted mean to six decimals
        years = years.with_columns(pl.when(n == 1).then(pl.col("__one_rate")).when((n > 1) & (base > 0))
                                   .then(mean.cast(pl.Int64) * 100).alias("__e8"))
        e8 = pl.col("__e8")
        several = {k: WEIGHTED_MEAN.format(n=k) for k in years["__n_rates"].unique().to_list() if k > 1}
        with using(self.lang):
            self.shown.update({text: _(WEIGHTED_MEAN).format(n=k) for k, text in several.items()})
        years = years.select(
            pl.col("__first"), pl.col("__project_id").alias("project_id"), pl.col("__year").cast(pl.String).alias("year"),
            "kind", "sector", "industry_code",
            decimal_text(pl.col("__sum:equity"), 2).alias("paid_in_usd"),
            decimal_text(pl.col("__sum:reinvested_profit"), 2).alias("reinvested_profit"), pl.lit("USD").alias("reinvested_profit_currency"),
            decimal_text(pl.col("__sum:shareholder_loan"), 2).alias("shareholder_loans_usd"),
            pl.col("arrivals").cast(pl.String), "__ledger_error",
            pl.col("__cny:equity").cast(pl.String).alias("__equity_cny"),
            pl.col("__cny:reinvested_profit").cast(pl.String).alias("__profit_cny"),
            e8.cast(pl.String).alias("__fx_rate_e8"),
            decimal_text(e8, FX_DECIMALS, least=0).alias("__fx_rate_text"),  # (as `rate_str` writes it)
            pl.when(n == 1).then(pl.col("__one_source"))
              .otherwise(n.replace_strict(several, default=None, return_dtype=pl.String)).alias("__fx_source_text"))
        return pl.concat([years, undated]).sort("__first") if undated.height else years


def _in_order(spans: list[list[Path]]):
    """Project-years from the parts' files, in the order of their first arrival: each span's
    pieces read, sorted and handed on (then deleted), with the share of them done."""
    import polars as pl

    for s, paths in enumerate(spans):
        if paths:
            years = pl.read_parquet(paths).sort("__first").select(LEDGER_COLUMNS)
            for path in paths:
                path.unlink()
            yield years, (s + 1) / len(spans)
