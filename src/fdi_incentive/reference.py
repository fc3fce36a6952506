"""The reference tables: the rule's decisions (rules.py) and the industry tables as rows that a
database, Spark or a CSV folder holds, which `fdi sql`'s query joins.

Each table is a name, typed columns and rows, made from the policy files, the industry data and
the options; `sql.py` writes them as `CREATE TABLE` and `INSERT`, as `VALUES` in the query
(`--inline`) or as CSV seeds.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from . import industry
from .errors import naming
from .i18n import in_english
from .policy import KIND_NAMES, LoadedPolicy
from .rules import Rule, rules, years

TEXT = "text"
INT = "int"
BOOL = "bool"
# decimal columns: (precision, scale), just wide enough for what the policies' validation allows
THRESHOLD = (16, 2)  # an amount below 10^14, to the cent
CAP = (16, 2)
QUANTUM = (7, 2)  # 0.01 to 10000 yuan
USD_RATE = (12, 8)  # below 10^4, 8 decimals


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[tuple[str, object], ...]  # (name, TEXT | INT | BOOL | (precision, scale))
    rows: tuple[tuple, ...]
    about: str  # one line: what it holds

    @property
    def names(self) -> list[str]:
        return [c for c, _ in self.columns]

    def csv(self) -> str:
        """The table as a CSV seed: a header, then each row (booleans true/false, NULL empty)."""
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(self.names)
        for row in self.rows:
            w.writerow(["" if v is None else ("true" if v is True else "false" if v is False else
                                              format(v, "f") if isinstance(v, Decimal) else v) for v in row])
        return out.getvalue()


def _rate_scale(values: list[Decimal]) -> int:
    return max((max(0, -v.normalize().as_tuple().exponent) for v in values), default=0)  # type: ignore[operator]


@dataclass(frozen=True)
class Reference:
    """Every reference table of one set of options, and the widest tier list of a rule (`tiers`)."""

    tables: tuple[Table, ...]
    tiers: int
    rate_type: tuple[int, int]
    modes: tuple[tuple[Decimal, str], ...]  # the (quantum, mode) of the roundings the rules name

    def __getitem__(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


def _rule_row(r: Rule, width: int) -> tuple:
    row: list = [r.policy, r.category, r.kind, r.excluded, r.excluded_reason, r.kind_ok, r.none_reason, r.counts_equity,
                 r.counts_profit, r.converted, r.quantum, r.mode]
    for i in range(width):
        t = r.tiers[i] if i < len(r.tiers) else None
        row += [None] * 8 if t is None else [t.id, t.threshold, t.comparator == "ge", t.rate, t.rate_error, t.cap, t.reason,
                                              t.capped_reason]
    return tuple(row)


_MADE: dict[tuple, tuple[list, Reference]] = {}


def reference(policies: list[LoadedPolicy], forced: LoadedPolicy | None = None, reading: str | None = None,
              fx_rate: Decimal | None = None, granted: Decimal | None = None) -> Reference:
    """The reference tables for scoring under ``policies`` (``forced``: that one alone, every year); made
    once for each set of options."""
    key = (tuple(id(lp) for lp in policies), id(forced), reading, fx_rate, granted, naming())  # (its messages name options so)
    found = _MADE.get(key)
    if found is None or any(a is not b for a, b in zip(found[0], [*policies, forced])):
        found = _MADE[key] = ([*policies, forced], _reference(policies, forced, reading, fx_rate, granted))
    return found[1]


@in_english
def _reference(policies: list[LoadedPolicy], forced: LoadedPolicy | None, reading: str | None,
               fx_rate: Decimal | None, granted: Decimal | None) -> Reference:
    made = rules(policies, reading, granted)
    width = max((len(r.tiers) for r in made), default=0)
    rates = [t.rate for r in made for t in r.tiers]
    scale = _rate_scale(rates)
    rate_type = (scale + 1, scale) if any(r >= 1 for r in rates) else (max(scale, 1), scale)
    tier_columns: list[tuple[str, object]] = []
    for i in range(1, width + 1):
        tier_columns += [(f"t{i}_tier", TEXT), (f"t{i}_threshold", THRESHOLD), (f"t{i}_inclusive", BOOL), (f"t{i}_rate", rate_type),
                         (f"t{i}_rate_error", TEXT), (f"t{i}_cap", CAP), (f"t{i}_reason", TEXT), (f"t{i}_capped_reason", TEXT)]
    rule_table = Table(
        "fdi_rule",
        (("policy", TEXT), ("category", TEXT), ("kind", TEXT), ("excluded", BOOL), ("excluded_reason", TEXT), ("kind_ok", BOOL),
         ("none_reason", TEXT), ("counts_equity", BOOL), ("counts_profit", BOOL), ("converted", BOOL), ("quantum", QUANTUM),
         ("rounding", TEXT), *tier_columns),
        tuple(_rule_row(r, width) for r in made),
        "per policy, category and kind: excluded or not and why, what counts, the reading, the rounding, the tiers best first")
    year_table = Table(
        "fdi_year",
        (("year", INT), ("policy", TEXT), ("policy_status", TEXT), ("year_error", TEXT), ("usd_rate", USD_RATE), ("usd_error", TEXT)),
        tuple((y.year, y.policy, y.status, y.error, y.usd_rate, y.usd_error) for y in years(policies, forced, fx_rate)),
        "per year (1900-2200): the policy that scores it and its status, or why none does; the year's CNY per USD")
    excluded = Table(
        "fdi_excluded_code", (("policy", TEXT), ("code", TEXT)),
        tuple((lp.policy.id, code) for lp in policies for code in dict.fromkeys(lp.policy.exclusions.codes)),
        "GB/T 4754-2017 code prefixes a policy excludes (a prefix excludes every code below it)")
    return Reference(tables=(year_table, rule_table, excluded, *industry_tables()), tiers=width, rate_type=rate_type,
                     modes=tuple(dict.fromkeys((r.quantum, r.mode) for r in made)))


def industry_tables() -> tuple[Table, ...]:
    """Sector names, kinds, sections, divisions and the classes that need a note (industry.py's data)."""
    names = [(key, "name", category, None) for key, category in industry.SECTOR_NAMES.items()]
    names += [(key, "gbt", industry.category_of_code(code)[0], code) for key, code in industry.gbt_names().items()]
    classes = [(c, "quasi_finance", f"class {c} is where quasi-finance (类金融) organisations sit", False)
               for c in sorted(industry.QUASI_FINANCE_CLASSES)]
    classes += [(c, None, note, True) for c, note in sorted(industry.AMBIGUOUS_CLASSES.items())]
    return (
        Table("fdi_sector_name", (("name_key", TEXT), ("key_kind", TEXT), ("category", TEXT), ("code", TEXT)), tuple(names),
              "sector names: ours (key_kind name, normalised as industry.normalise_name) and GB/T 4754-2017's section and "
              "division names in Chinese (key_kind gbt, without blanks and 、,，), with the code they name"),
        Table("fdi_kind", (("kind_key", TEXT), ("kind", TEXT)), tuple(KIND_NAMES.items()), "how a kind may be written"),
        Table("fdi_section", (("section", TEXT), ("category", TEXT)),
              tuple((s, industry.SECTION_CATEGORY.get(s, "other")) for s in sorted(industry.sections())),
              "GB/T 4754-2017 sections and the category each falls in"),
        Table("fdi_division", (("division", TEXT), ("section", TEXT), ("name", TEXT)),
              tuple((d, s, en) for d, (s, _zh, en) in sorted(industry.divisions().items())),
              "GB/T 4754-2017 divisions: their section and English name"),
        Table("fdi_class", (("class", TEXT), ("category", TEXT), ("note", TEXT), ("ambiguous", BOOL)), tuple(classes),
              "classes a code decides with a note: where quasi-finance sits, and 7299 which the code cannot decide"),
    )


def write_seeds(ref: Reference, folder: Path) -> list[Path]:
    """Each table as folder/NAME.csv (the way dbt keeps seeds); the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table in ref.tables:
        path = folder / f"{table.name}.csv"
        path.write_text(table.csv(), encoding="utf-8", newline="")
        written.append(path)
    return written
