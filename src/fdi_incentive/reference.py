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
from .errors import InputError, naming
from .i18n import in_english
from .money import money_fmt
from .policy import KIND_NAMES, LoadedPolicy
from .rules import FLAGS, Rule, flag_mask, groups, place_rows, rules, years

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

    shapes: Shapes = None  # type: ignore[assignment]  # (what of the new shapes the run holds: see Shapes)

    def __getitem__(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


OPTIONAL_COLUMNS = ("location", *FLAGS, "spent_usd")  # input columns a table may have; without them it scores as before


@dataclass(frozen=True)
class Shapes:
    """What the rules of one run hold beyond Chongqing's shape, and the optional input columns the
    table has: each part of the tables and the query is there only where a run needs it (a run of
    Chongqing's rule on a table without those columns has the tables and the query of before)."""

    columns: tuple[str, ...] = ()  # the optional input columns the table has (OPTIONAL_COLUMNS)
    groups: bool = False  # a policy with place groups: fdi_rule is keyed by grp, the output has location_group
    place: bool = False  # where a project is decides something: the location column, or place groups
    flags: bool = False  # a policy whose tiers ask about flags: fdi_rule is keyed by the masked flags
    bands: bool = False  # a tier with an upper bound
    period: bool = False  # a tier with a cap over a period of years
    payers: tuple[str, ...] = ()  # the payers of the parts, in the order first seen
    parts: int = 0  # the most parts a tier has
    spent: bool = False  # a base of the amount spent (with a spent_usd column)
    status: bool = False  # a year outside a forced policy's dates, which pays nothing

    @property
    def names(self) -> bool:
        """Whether the place tables are made: the table has a location column to resolve."""
        return "location" in self.columns


def default_columns(policies: list[LoadedPolicy]) -> tuple[str, ...]:
    """The optional columns a table is taken to have when none are named: those the policies ask
    about (a location where a place has groups or excluded parts, the flags their tiers ask about,
    the amount spent where it is the base)."""
    out = []
    if any(lp.policy.place and (lp.policy.place.groups or lp.policy.place.excludes) for lp in policies):
        out.append("location")
    mask = 0
    for lp in policies:
        mask |= flag_mask(lp.policy)
    out += [f for i, f in enumerate(FLAGS) if mask & (1 << i)]
    if any(lp.policy.base.measure == "spent" for lp in policies):
        out.append("spent_usd")
    return tuple(out)


def shapes_of(policies: list[LoadedPolicy], made: list[Rule], year_rows, columns: tuple[str, ...]) -> Shapes:
    tiers = [t for r in made for t in r.tiers]
    has_groups = any(groups(lp.policy) != [""] for lp in policies)
    return Shapes(
        columns=tuple(c for c in OPTIONAL_COLUMNS if c in columns), groups=has_groups,
        place=has_groups or "location" in columns, flags=any(flag_mask(lp.policy) for lp in policies),
        bands=any(t.below is not None for t in tiers), period=any(t.period_cap is not None for t in tiers),
        payers=tuple(dict.fromkeys(p for t in tiers for p, _ in t.parts)), parts=max((len(t.parts) for t in tiers), default=0),
        spent="spent_usd" in columns and any(lp.policy.base.measure == "spent" for lp in policies),
        status=any(y.status_reason for y in year_rows))


def _rule_row(r: Rule, width: int, shapes: Shapes | None = None) -> tuple:
    shapes = shapes or Shapes()
    row: list = [r.policy, r.category, r.kind]
    row += [r.group] if shapes.groups else []
    row += [r.flags] if shapes.flags else []
    row += [r.excluded, r.excluded_reason, r.kind_ok, r.none_reason, r.counts_equity, r.counts_profit, r.converted, r.quantum, r.mode]
    for i in range(width):
        t = r.tiers[i] if i < len(r.tiers) else None
        row += [None] * 8 if t is None else [t.id, t.threshold, t.comparator == "ge", t.rate, t.rate_error, t.cap, t.reason,
                                              t.capped_reason]
        row += [t.below if t else None] if shapes.bands else []
        if shapes.period:
            p = t.period if t is not None and t.period_cap is not None else None
            row += [None] * 4 if p is None else [t.period_cap, p[0], p[1], period_reason(t.period_cap, *p)]
        for k in range(shapes.parts):
            part = t.parts[k] if t is not None and k < len(t.parts) else None
            row += [None, None] if part is None else [part[0], part[1]]
    return tuple(row)


def period_reason(cap: Decimal, first: int, last: int) -> str:
    """What a row's reason adds when a cap over a period limits it (the cells' English)."""
    return f"; limited by the total of CNY {money_fmt(cap)} over {first}-{last}"


_MADE: dict[tuple, tuple[list, Reference]] = {}


def reference(policies: list[LoadedPolicy], forced: LoadedPolicy | None = None, reading: str | None = None,
              fx_rate: Decimal | None = None, granted: Decimal | None = None, columns: tuple[str, ...] | None = None) -> Reference:
    """The reference tables for scoring under ``policies`` (``forced``: that one alone, every year); made
    once for each set of options. ``columns``: the optional input columns the table has (OPTIONAL_COLUMNS;
    None: those the policies ask about, `default_columns`)."""
    columns = default_columns(policies) if columns is None else tuple(c for c in OPTIONAL_COLUMNS if c in columns)
    key = (tuple(id(lp) for lp in policies), id(forced), reading, fx_rate, granted, naming(), columns)  # (its messages name options so)
    found = _MADE.get(key)
    if found is None or any(a is not b for a, b in zip(found[0], [*policies, forced])):
        found = _MADE[key] = ([*policies, forced], _reference(policies, forced, reading, fx_rate, granted, columns))
    return found[1]


@in_english
def _reference(policies: list[LoadedPolicy], forced: LoadedPolicy | None, reading: str | None,
               fx_rate: Decimal | None, granted: Decimal | None, columns: tuple[str, ...] = ()) -> Reference:
    made = rules(policies, reading, granted)
    year_rows = years(policies, forced, fx_rate)
    shapes = shapes_of(policies, made, year_rows, columns)
    width = max((len(r.tiers) for r in made), default=0)
    rates = [t.rate for r in made for t in r.tiers] + [rate for r in made for t in r.tiers for _, rate in t.parts]
    scale = _rate_scale(rates)
    rate_type = (scale + 1, scale) if any(r >= 1 for r in rates) else (max(scale, 1), scale)
    tier_columns: list[tuple[str, object]] = []
    for i in range(1, width + 1):
        tier_columns += [(f"t{i}_tier", TEXT), (f"t{i}_threshold", THRESHOLD), (f"t{i}_inclusive", BOOL), (f"t{i}_rate", rate_type),
                         (f"t{i}_rate_error", TEXT), (f"t{i}_cap", CAP), (f"t{i}_reason", TEXT), (f"t{i}_capped_reason", TEXT)]
        tier_columns += [(f"t{i}_below", THRESHOLD)] if shapes.bands else []
        tier_columns += [(f"t{i}_period_cap", CAP), (f"t{i}_period_from", INT), (f"t{i}_period_to", INT),
                         (f"t{i}_period_reason", TEXT)] if shapes.period else []
        for k in range(1, shapes.parts + 1):
            tier_columns += [(f"t{i}_p{k}_payer", TEXT), (f"t{i}_p{k}_rate", rate_type)]
    keys = [("grp", TEXT)] if shapes.groups else []
    keys += [("flags", INT)] if shapes.flags else []
    rule_table = Table(
        "fdi_rule",
        (("policy", TEXT), ("category", TEXT), ("kind", TEXT), *keys, ("excluded", BOOL), ("excluded_reason", TEXT), ("kind_ok", BOOL),
         ("none_reason", TEXT), ("counts_equity", BOOL), ("counts_profit", BOOL), ("converted", BOOL), ("quantum", QUANTUM),
         ("rounding", TEXT), *tier_columns),
        tuple(_rule_row(r, width, shapes) for r in made),
        "per policy, category and kind" + (", place group" if shapes.groups else "") + (" and flags" if shapes.flags else "")
        + ": excluded or not and why, what counts, the reading, the rounding, the tiers best first")
    by_id = {lp.policy.id: lp.policy for lp in [*policies, *([forced] if forced else [])]}
    more_columns, more = _year_columns(shapes, by_id)
    year_table = Table(
        "fdi_year",
        (("year", INT), ("policy", TEXT), ("policy_status", TEXT), ("year_error", TEXT), ("usd_rate", USD_RATE), ("usd_error", TEXT),
         *more_columns),
        tuple((y.year, y.policy, y.status, y.error, y.usd_rate, y.usd_error, *more(y)) for y in year_rows),
        "per year (1900-2200): the policy that scores it and its status, or why none does; the year's CNY per USD"
        + ("; what the policy asks of a place, flags and the base" if more_columns else ""))
    excluded = Table(
        "fdi_excluded_code", (("policy", TEXT), ("code", TEXT)),
        tuple((lp.policy.id, code) for lp in policies for code in dict.fromkeys(lp.policy.exclusions.codes)),
        "GB/T 4754-2017 code prefixes a policy excludes (a prefix excludes every code below it)")
    return Reference(tables=(year_table, rule_table, excluded, *industry_tables(), *place_tables(shapes, list(by_id.values()))),
                     tiers=width, rate_type=rate_type, modes=tuple(dict.fromkeys((r.quantum, r.mode) for r in made)), shapes=shapes)


def _year_columns(shapes: Shapes, by_id: dict):
    """fdi_year's columns for the new shapes (what the year's policy asks of a place, of flags and of
    the base) and the function that gives them for a year's row."""
    columns: list[tuple[str, object]] = []
    if shapes.status:
        columns.append(("status_reason", TEXT))
    if shapes.flags:
        columns.append(("flag_mask", INT))
    if shapes.spent:
        columns.append(("spent_base", BOOL))
    if shapes.period:
        columns.append(("period_from", INT))
    if shapes.place:
        columns += [("place", BOOL), ("place_others", TEXT), ("place_missing", TEXT), ("place_vague", TEXT), ("place_any", TEXT)]
    texts = {pid: _place_texts(p) for pid, p in by_id.items()}

    def more(y) -> tuple:
        p = by_id.get(y.policy)
        row: list = []
        if shapes.status:
            row.append(y.status_reason)
        if shapes.flags:
            row.append(flag_mask(p) if p else None)
        if shapes.spent:
            row.append(p.base.measure == "spent" if p else None)
        if shapes.period:  # (a project's payouts count toward a period's total from the first year of any of its caps)
            row.append(min((t.period_cap.from_ for t in p.tiers if t.period_cap), default=None) if p else None)
        if shapes.place:
            # (place_any: a group of the policy's, whose rule says what counts where a place pays nothing)
            row += [p.place is not None, (p.place.others or "") if p.place else "", *texts[p.id], groups(p)[0]] if p else [None] * 5
        return tuple(row)

    return columns, more


def _place_texts(policy) -> tuple[str | None, str | None]:
    """What placing.where says of a project's place under a policy with place groups and no others: its
    error when none is given, and what it expects of one inside the area in none of the groups (None,
    None for other policies)."""
    from types import SimpleNamespace

    from .placing import where

    area = policy.place
    if area is None or not area.groups or area.others:
        return None, None
    listed = {c for g in area.groups for c in g.places} | set(area.excludes)
    said: list[str | None] = []  # (a place given: one inside the area under none of its groups' or excluded codes)
    for place in (None, SimpleNamespace(name="", within=lambda c: c in area.within and c not in listed)):
        try:
            where(policy, place)  # type: ignore[arg-type]
            said.append(None)
        except InputError as exc:  # (the whole message where none is given; what is expected of a place given)
            said.append(str(exc) if place is None else exc.expected)
    return said[0], said[1]


_NAMES: list = []


def place_names() -> list[tuple[str, str | None, str | None]]:
    """Every name the place resolver reads, as (the name without blanks, English in lower case and
    letters only; its GB/T 2260 code, or None; what the resolver expects instead where it names
    several places): `places.names()` where the module gives it, else made here from its data:
    each division's names with and without their suffix, alone and after those of its province
    and city, and the English names with City, Province or Municipality after them, each read by
    `places.resolve` itself (so the table says what the resolver says). Made once."""
    from . import places

    if hasattr(places, "names"):
        return list(places.names())
    if _NAMES:
        return _NAMES
    data = places._data()
    forms: dict[str, set[str]] = {}
    for index in (data.full, data.short):
        for name, codes in index.items():
            for code in codes:
                forms.setdefault(code, set()).add(name)
    candidates = set(data.full) | set(data.short)
    candidates |= {k + more for k in data.english for more in ("", "city", "province", "municipality")}
    for code, place in data.places.items():
        above = [c for c in dict.fromkeys((place.province, place.city)) if c and c != code]
        for chain in ([above[0]], [above[-1]], above) if above else ():
            texts = [""]
            for c in [*dict.fromkeys(chain), code]:
                texts = [t + f for t in texts for f in forms.get(c, ())]
            candidates.update(texts)
    out = []
    for name in sorted(candidates):
        try:
            out.append((name, places.resolve(name).code, None))
        except InputError as exc:
            if exc.expected != places.PLACE_WORDS:  # (a name of several places: what the resolver asks instead)
                out.append((name, None, exc.expected))
    _NAMES.extend(out)
    return _NAMES


def place_tables(shapes: Shapes, policies) -> tuple[Table, ...]:
    """The places a location resolves to (fdi_place_name: every name the resolver reads, with its
    GB/T 2260 code or why it names none; fdi_place_code: a code's full name, for the places a
    policy's message names) and the codes each policy lists (fdi_place), made where the table has
    a location column."""
    if not shapes.names:
        return ()
    from . import places

    names: dict[str, tuple[str | None, str | None]] = {}
    for name, code, error in place_names():
        names.setdefault(name, (code, error))
    for code in sorted({c for c, _ in names.values() if c}):
        names.setdefault(code, (code, None))  # (a code is a name of its place)
    rows = tuple((p.policy, p.code, p.state, p.group, p.reason) for policy in policies for p in place_rows(policy))
    tables = [Table("fdi_place_name", (("name", TEXT), ("code", TEXT), ("error", TEXT)),
                    tuple((n, c, e) for n, (c, e) in names.items()),
                    "every place name the resolver reads (without blanks; English names in lower case, letters only), "
                    "with its GB/T 2260 code, or what it should be where it names several places"),
              Table("fdi_place", (("policy", TEXT), ("code", TEXT), ("state", TEXT), ("grp", TEXT), ("reason", TEXT)), rows,
                    "the GB/T 2260 codes each policy's place lists: inside (in which group) or excluded; the most precise "
                    "code over a place decides, and a place under none is outside")]
    vague = [p for p in policies if _place_texts(p)[1] is not None]
    if shapes.groups:
        codes = sorted({c for c, _ in names.values() if c and any(
            w in (c, c[:4] + "00", c[:2] + "0000") for p in vague for w in p.place.within)})
        tables.append(Table("fdi_place_code", (("code", TEXT), ("name", TEXT)),
                            tuple((c, places.name_of(c)) for c in codes),
                            "the full names of the places inside an area whose groups do not hold every place"))
    return tuple(tables)


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
