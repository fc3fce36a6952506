"""The columnar evaluator: the policy files applied to a table of project-years at once (polars).

The work splits by how many distinct values a column holds:

* A cell that repeats from row to row (year, kind, sector and industry code, FX rate,
  currency) goes through the Python functions `fdi calc` uses (`policy_for_year`,
  `classify`, `parse_rate`, the rate sources) once per distinct value; the answer is
  gathered back to every row by index. The rule's choices that depend only on such
  cells (which tiers a project could reach, at which thresholds, the reason texts) are
  made once per distinct combination of policy, category and kind, from the policy file.
* An amount (a new value on every row) is parsed, converted, compared and multiplied
  in exact integer arithmetic: USD cents, rates times 10^8, products in 128 bits. A cell
  that is not a plain number goes to `parse_amount` itself, once per distinct value.

Nothing here holds a number of its own: thresholds, comparators, rates, exclusions, the
cap and the rounding come from each policy. A property test holds the results to
`assess()` field by field (tests/test_batch.py).
"""

import itertools
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import polars as pl

from .io.columns import named
from .errors import FxError, InputError, PolicyError
from .i18n import N_, _, get_language, in_english
from .language import said_both, using
from .fx import check_currency, given_rate_source, parse_rate
from .industry import UnknownSector, classify, normalise_name
from .io.readers import PARSE_ERROR  # a reader's per-row error (a ragged line, a line that is not JSON)
from .money import GROUPED_PATTERN, GROUPING, YEARS, converted_too_large, parse_amount, parse_year, rate_str
from .options import Options
from .policy import KIND_NAMES, LoadedPolicy, Policy, policy_for_year
from .rules import TierRow, excluded_by_code, rule
from .scaled import (CNY_SCALE, CSV_SPECIAL, E8, FX_DECIMALS, GROSS_SCALE, I128, MAX_AMOUNT, MAX_CENTS, _e8,  # noqa: F401
                     _scale_of, _units, _zeros, csv_field, csv_field_expr, decimal_text, decimal_value, round_div,
                     unit_digits)
from .text import BLANKS, FORMULA_PATTERN, FORMULA_STARTS, neutral

RESULT_COLUMNS = [
    "policy", "policy_status", "eligible", "tier", "rate", "base_usd", "fx_rate", "fx_source", "base_cny", "gross_cny",
    "capped", "incentive_cny", "reason", "error",
]
LEDGER_ERROR = "__ledger_error"  # a ledger project-year's error (an arrival that cannot be read)
# what a reader or the ledger adds to the input's columns, never shown (a column of the user's own is, whatever its name)
# a ledger's project-year: its CNY at the arrivals' own rates (x 10^10), its rate (x 10^8, and as text) and source
HIDDEN = {PARSE_ERROR, LEDGER_ERROR, "__equity_cny", "__profit_cny", "__fx_rate_e8", "__fx_rate_text", "__fx_source_text"}
SEEN_AT_MOST = 4096  # a column whose values so far are more is answered from each batch's distinct values alone
DENSE_AT_MOST = 1 << 16  # a pair of small indexes is looked up in a table of all pairs up to this size (else by hash)


# --- distinct values -> answers ---------------------------------------------------------------

class Lookup:
    """Answers for the distinct values of a key, computed once each and kept across batches.

    ``compute`` returns a dict with every name of ``fields``; rows get an index into the
    answers (`index`), and `get` gathers one field back to the rows.
    """

    def __init__(self, compute: Callable[[Hashable], dict], fields: dict[str, pl.DataType]):
        self.compute, self.fields = compute, fields
        self.ids: dict[Hashable, int] = {}
        self.answers: dict[str, list] = {name: [] for name in fields}
        self._series: dict[str, pl.Series] = {}

    def add(self, keys) -> None:
        for key in keys:
            if key not in self.ids:
                answer = self.compute(key)
                self.ids[key] = len(self.ids)
                for name in self.fields:
                    self.answers[name].append(answer[name])
                self._series.clear()

    def index(self, column: pl.Expr, values: list) -> pl.Expr:
        """Row -> answer index, for a text column whose distinct values (in this batch) are ``values``."""
        self.add(values)
        texts = [v for v in values if v is not None]
        # (a cast to an Enum of the values is a third faster than replace_strict: its codes index `texts`)
        return self.from_codes(column.cast(pl.Enum(texts)).to_physical(), texts) if texts \
            else pl.lit(self.ids.get(None), dtype=pl.UInt32)

    def texts(self) -> list[str]:
        """The text keys answered so far, in order."""
        return [key for key in self.ids if isinstance(key, str)]

    def from_codes(self, codes: pl.Expr, texts: list[str]) -> pl.Expr:
        """Row -> answer index, from the codes of a cast to ``pl.Enum(texts)`` (all of them answered):
        a null code is an empty cell."""
        idx = pl.lit(pl.Series([self.ids[v] for v in texts], dtype=pl.UInt32)).gather(codes)
        return idx.fill_null(self.ids[None]) if None in self.ids else idx

    def pair_index(self, first: pl.Expr, second: pl.Expr, pairs: list[tuple[int, int]]) -> pl.Expr:
        """Row -> answer index, for a key of two small integer indexes whose pairs (in this batch) are ``pairs``."""
        self.add(pairs)
        dense = dense_lookup([first, second], {pair: self.ids[pair] for pair in pairs})
        if dense is not None:
            return dense
        mapping = {(a << 32) + b: self.ids[(a, b)] for a, b in pairs}
        return (first.cast(pl.Int64) * (1 << 32) + second.cast(pl.Int64)).replace_strict(
            mapping, default=None, return_dtype=pl.UInt32)

    def series(self, name: str) -> pl.Series:
        if name not in self._series:
            self._series[name] = pl.Series(name, self.answers[name], dtype=self.fields[name])
        return self._series[name]

    def get(self, name: str, idx: pl.Expr | str, quoted: bool = False) -> pl.Expr:
        """One field of the answers, gathered to the rows (``quoted``: text as a CSV field, see `csv_field`)."""
        idx = pl.col(idx) if isinstance(idx, str) else idx
        if not quoted:
            return pl.lit(self.series(name)).gather(idx)
        key = f"csv:{name}"
        if key not in self._series:
            self._series[key] = pl.Series(key, [csv_field(v) for v in self.answers[name]], dtype=pl.String)
        return pl.lit(self._series[key]).gather(idx)

    def item(self, name: str, i: int, idx: pl.Expr | str, dtype: pl.DataType) -> pl.Expr:
        """The ``i``-th element of a list-valued answer (None past its end), gathered to the rows."""
        key = f"{name}[{i}]"
        if key not in self._series:
            self._series[key] = pl.Series(key, [v[i] if i < len(v) else None for v in self.answers[name]], dtype=dtype)
        idx = pl.col(idx) if isinstance(idx, str) else idx
        return pl.lit(self._series[key]).gather(idx)

    def has(self, name: str, idx: pl.Expr | str) -> pl.Expr:
        """Whether the row's answer has a value for ``name`` (cheaper to gather than the value)."""
        key = f"has:{name}"
        if key not in self._series:
            self._series[key] = pl.Series(key, [v is not None for v in self.answers[name]], dtype=pl.Boolean)
        idx = pl.col(idx) if isinstance(idx, str) else idx
        return pl.lit(self._series[key]).gather(idx)


def dense_lookup(parts: list[pl.Expr], answers: dict[tuple[int, ...], int], bounded: bool = True) -> pl.Expr | None:
    """Row -> answer, for a key of small non-negative integers (``parts``): a table of every key up
    to the largest in each place, gathered by the key's position in it (null where no answer).
    None when, ``bounded``, the table would be larger than DENSE_AT_MOST (then look the keys up by hash)."""
    dims = [max((key[i] for key in answers), default=0) + 1 for i in range(len(parts))]
    size = 1
    for d in dims:
        size *= d
    if bounded and size > DENSE_AT_MOST:
        return None
    table: list[int | None] = [None] * size
    for key, answer in answers.items():
        at = 0
        for value, d in zip(key, dims):
            at = at * d + value
        table[at] = answer
    position = parts[0].cast(pl.Int64)
    for part, d in zip(parts[1:], dims[1:]):
        position = position * d + part.cast(pl.Int64)
    return pl.lit(pl.Series(table, dtype=pl.UInt32)).gather(position)


# --- the scorer ------------------------------------------------------------------------------

KINDS = list(dict.fromkeys(KIND_NAMES.values()))  # kind index -> kind
SUMMARY_KEYS = ("__tier", "__class", "__year", "__policy", "__source")
PAID_MISSING = N_("{field}: missing; expected the foreign capital paid in during the year")
PAIRS_AT_ONCE = 4096  # distinct sectors x distinct codes of a batch classified without looking for the pairs present
ROW_RATE_SOURCE = N_("fx_rate column")  # the source stated for a row's own fx_rate
AS_PATTERN = {"=": "=", "+": r"\+", "-": r"\-", "@": "@", "\t": r"\t", "\r": r"\r"}  # a formula start in a regex
AFTER_BLANKS = "after blanks"  # in a list of starts: a start may follow blanks in a cell
ALL_STARTS = [*FORMULA_STARTS, AFTER_BLANKS]
# the bytes the blanks of text.BLANKS begin with (in UTF-8; a line holds no line end): one byte each, as
# a search for one byte is ~50 times faster than for two (a block without them needs no search by pattern)
BLANK_HINTS = (b" ", b"\t", b"\x0b", b"\x0c", b"\xc2", b"\xe1", b"\xe2", b"\xe3", b"\xef")
LINE = "__line"  # the input record's own text, in a batch scored for CSV from its lines
TOTAL_WORDS = ["合计", "总计", "小计", "Total"]  # the project id or first cell of a total row (see `Scorer._is_total`)
TOTAL_REASON = "total row: not scored; its amounts are checked against the rows above (see the summary)"


@dataclass
class Scored:
    """One batch scored: its rows (input columns, then results), the summary's counts grouped by
    `SUMMARY_KEYS` (name them with `Scorer.label`), which rows are errors and their messages, the
    scale of the grouped incentive sums (10^-scale yuan), and the FX sources that rows state
    themselves (a ledger's project-years, each at its arrivals' rates).

    ``csv_ready``: the rows are CSV text already (the input record as it was, then the results,
    each quoted where CSV needs it): write them with quote style "never".
    """

    rows: pl.DataFrame
    groups: pl.DataFrame
    is_error: pl.Series
    errors: pl.Series
    scale: int
    csv_ready: bool = False
    own_sources: list[str] = field(default_factory=list)
    totals: pl.DataFrame | None = None  # the batch's total rows: `_i` (row), the cell named, amounts and sums above
    amounts: dict[str, int | None] = field(default_factory=dict)  # per amount column: sum, max, rows read, unreadable


class Scorer:
    """Scores the batches of one input: the same columns, mapping and options for each.

    ``mapping`` is canonical name -> the input's column. A ledger's project-years (see
    ledger.py) add `__equity_cny` and `__profit_cny`: the base in CNY at each arrival's
    own rate, as whole counts of 10^-10 yuan.
    """

    def __init__(self, columns: list[str], mapping: dict[str, str], options: Options):
        self.profit_currency = "CNY"  # what a reinvested profit is in where its row does not say
        if "reinvested_profit_usd" in mapping:  # (the name `fdi sql`'s table and Spark read: profits in USD)
            given = [mapping[c] for c in ("reinvested_profit", "reinvested_profit_currency") if c in mapping]
            if given:
                raise InputError("INPUT", ", ".join([mapping["reinvested_profit_usd"], *given]), _(
                    "reinvested profits in one column: reinvested_profit_usd (in USD), or reinvested_profit with its "
                    "currency in reinvested_profit_currency"))
            mapping = {("reinvested_profit" if c == "reinvested_profit_usd" else c): col for c, col in mapping.items()}
            self.profit_currency = "USD"
        self.columns, self.m, self.o = columns, mapping, options
        self.inputs = [c for c in columns if c not in HIDDEN]  # the columns shown
        self.k = unit_digits(options.unit)
        # where a total row says what it is (合计, Total): the project id, and the first column (a ledger's
        # total rows come as rows of their own, their project id the total's word: see ledger_totals.py)
        self.total_columns = [c for c in dict.fromkeys([mapping.get("project_id"), *self.inputs[:1]]) if c]
        self.paid_col = "paid_in_usd" if "paid_in_usd" in mapping or "paid_in" not in mapping else "paid_in"
        self.ledger = "__equity_cny" in columns
        self.policies: dict[str, LoadedPolicy] = {}
        self.tiers: list[tuple[Policy, TierRow]] = []
        self.classes: list[tuple[str, str | None, str]] = []  # (category, code, how the sector was decided: a note or "")
        self.notes: list[str] = [""]  # the notes of the classes, "" first (see `_output`'s reasons)
        self.lang = get_language()  # the interface's (the cells are English whatever it is)
        self.shown: dict[str, str] = {}  # a rate source as a cell states it -> in the interface's language
        self.unknown_sectors: list[str] = []  # sector names we do not know, given alone (the summary names the nearest known)
        self.usd_mode: tuple[str, int] | None = None
        self.max_tiers = 0
        # a year's USD rate is filled in only when a row needs it (see _rate_years)
        self.years = Lookup(self._said(self._year, "err"), {"year": pl.Int32, "pidx": pl.Int32, "status": pl.String, "err": pl.String, "usd_e8": pl.Int64,
                                         "usd_text": pl.String, "usd_src": pl.String, "usd_err": pl.String})
        self.rated: set[int] = set()
        self.kinds = Lookup(self._said(self._kind, "err"), {"kidx": pl.Int32, "err": pl.String})
        self.sectors = Lookup(lambda v: {"v": v}, {"v": pl.String})
        self.codes = Lookup(lambda v: {"v": v}, {"v": pl.String})
        self.classified = Lookup(self._said(self._class, "err"), {"cidx": pl.Int32, "category": pl.String, "err": pl.String,
                                               "nidx": pl.Int32, "unknown": pl.String})
        self.fx = Lookup(self._said(self._fx, "err"), {"e8": pl.Int64, "text": pl.String, "err": pl.String})
        self.currencies = Lookup(lambda v: {"v": v}, {"v": pl.String})
        self.ccy_year = Lookup(self._said(self._ccy_rate, "err", "rate_err"), {"usd": pl.Boolean, "other": pl.Boolean, "e8": pl.Int64, "err": pl.String,
                                                "rate_err": pl.String})
        self.rules = Lookup(self._rule, {"eq": pl.Boolean, "pr": pl.Boolean, "converted": pl.Boolean,
                                         "none_reason": pl.String, "thr": pl.Object, "gid": pl.Object})  # lists: see `Lookup.item`
        self.slow_amounts: dict[tuple[str, str], tuple[int | None, str | None]] = {}
        self.cleaned: set[str] = set()  # amount columns with separators (15,000,000.00) in some batch: cleaned first

    # -- answers for distinct values, by the functions `fdi calc` uses --------------------------
    def _said(self, compute: Callable[[Hashable], dict], *fields: str) -> Callable[[Hashable], dict]:
        """``compute``, which answers in English (the cells), also keeping in `shown` each error text
        it gives as the interface's language says it (the summary lists errors to a person)."""
        if self.lang == "en":
            return compute

        def both(key: Hashable) -> dict:
            answer = compute(key)
            if any(answer.get(f) for f in fields):  # (an error: said again in the interface's language)
                with using(self.lang):
                    again = compute(key)
                self.shown.update({answer[f]: again[f] for f in fields if answer.get(f) and again.get(f)})
            return answer
        return both

    def _year(self, cell: str | None) -> dict:
        out = dict.fromkeys(self.years.fields) | {"pidx": -1}
        if cell is None or not cell.strip():
            return out | {"err": _("year: missing; expected a calendar year such as 2024")}
        try:
            year = out["year"] = parse_year(cell)  # (calc's own parser: 2024, 2024.0, 2024年)
        except InputError as exc:
            return out | {"err": str(exc)}
        try:
            lp = self.o.policy or policy_for_year(year)
            status = lp.policy.status_for(year)  # (a forced policy outside its dates: the row's error)
        except PolicyError as exc:
            return out | {"err": str(exc)}
        self._use_policy(lp)
        return out | {"pidx": list(self.policies).index(lp.policy.id), "status": status}

    def _rate_years(self, indexes: list[int]) -> None:
        """The USD rate of each year (by its answer index) that some row needs: rows with an
        fx_rate of their own need none, so the rate sources are not asked (nor the ECB data read)."""
        Y = self.years
        for i in indexes:
            if i in self.rated or Y.answers["pidx"][i] < 0:
                continue
            self.rated.add(i)
            answer = self._usd_rate(Y.answers["year"][i])
            for name, value in answer.items():
                Y.answers[name][i] = value
            Y._series.clear()

    def _usd_quote(self, year: int) -> tuple[Decimal, str]:
        """A year's USD rate and its source, in the language of the moment (raises FxError)."""
        if self.o.fx_rate is not None:
            return self.o.fx_rate, given_rate_source(self.o.fx_rate, "USD")
        quote = self.o.rates.quote("USD", on=None, year=year)
        return quote.rate, quote.source

    def _usd_rate(self, year: int) -> dict:
        try:
            rate, source = self._usd_quote(year)
        except FxError as exc:
            if self.lang != "en":  # (said to a person in the interface's language)
                with using(self.lang):
                    try:
                        self._usd_quote(year)
                    except FxError as again:
                        self.shown[str(exc)] = str(again)
            return {"usd_err": str(exc)}
        if source not in self.shown:  # (the summary states it in the interface's language)
            with using(self.lang):
                self.shown[source] = self._usd_quote(year)[1]
        e8 = _e8(rate)
        if e8 is None:
            return {"usd_err": f"fx: the USD rate {rate} for {year} has more than {FX_DECIMALS} decimals"}
        return {"usd_e8": e8, "usd_text": rate_str(rate), "usd_src": source}

    def _use_policy(self, lp: LoadedPolicy) -> None:
        """Every policy of one batch converts to USD alike: the batch converts before it knows the tier."""
        r = lp.policy.rounding
        mode = (r.mode, _scale_of(r.usd_quantum))
        if mode[1] != 2:
            raise PolicyError(_("{policy}: the batch engine converts to USD cents, not to {quantum}").format(policy=lp.policy.id, quantum=r.usd_quantum))
        if self.usd_mode is not None and self.usd_mode != mode:
            raise PolicyError(_("a batch over several policies needs them to convert to USD the same way"))
        self.usd_mode = mode
        self.policies.setdefault(lp.policy.id, lp)

    def _kind(self, cell: str | None) -> dict:
        text = cell.strip() if cell is not None else ""
        if not text:
            return {"kidx": KINDS.index("new"), "err": None}
        kind = KIND_NAMES.get(normalise_name(text))
        if kind is None:
            return {"kidx": -1, "err": str(InputError("kind", cell, _("one of new, capital-increase")))}
        return {"kidx": KINDS.index(kind), "err": None}

    def _note_unknown_sectors(self, df: pl.DataFrame, classes: list[tuple[int, int]], index) -> None:
        """Keep the unknown sector names (given without a code) that rows of this batch hold: of the
        pairs classified, those some row has (every pair of distinct values is classified)."""
        C = self.classified
        if not any(C.answers["unknown"][C.ids[p]] for p in classes):
            return  # (the usual case: nothing to look for)
        held = df.select(C.pair_index(index("sector"), index("industry_code"), classes).unique()).to_series().to_list()
        for i in held:
            name = C.answers["unknown"][i] if i is not None else None
            if name is not None and name not in self.unknown_sectors:
                self.unknown_sectors.append(name)

    def _class(self, key: tuple[int, int]) -> dict:
        sector, code = self.sectors.answers["v"][key[0]], self.codes.answers["v"][key[1]]
        if not (sector or "").strip() and not (code or "").strip():
            return {"cidx": -1, "category": None, "nidx": 0, "unknown": None,
                    "err": _("sector: missing; expected a sector name or a GB/T 4754-2017 industry code")}
        try:  # (a cell says of an unknown name what the compiled SQL says: the nearest names are the summary's)
            c = classify(sector, code, suggest=False)
        except UnknownSector as exc:
            return {"cidx": -1, "category": None, "err": str(exc), "nidx": 0, "unknown": sector}
        except InputError as exc:
            return {"cidx": -1, "category": None, "err": str(exc), "nidx": 0, "unknown": None}
        key = (c.category, c.code, "; ".join(c.notes))
        if key not in self.classes:
            self.classes.append(key)
        if key[2] not in self.notes:
            self.notes.append(key[2])
        return {"cidx": self.classes.index(key), "category": c.category, "err": None, "nidx": self.notes.index(key[2]),
                "unknown": None}

    def _fx(self, cell: str | None) -> dict:
        out = dict.fromkeys(self.fx.fields)
        if cell is None or not cell.strip():
            return out
        try:
            rate = parse_rate(cell)  # (calc's own parser: its bounds keep every product in 128 bits)
        except InputError as exc:
            return out | {"err": str(exc)}
        return out | {"e8": _e8(rate), "text": rate_str(rate)}

    def _ccy_rate(self, key: tuple[int, int]) -> dict:
        """(currency cell, year) -> is it USD, is it neither USD nor CNY, CNY per unit x 10^8; or the
        cell's error; or why there is no rate."""
        out = dict.fromkeys(self.ccy_year.fields) | {"usd": False, "other": False}
        cell, year = self.currencies.answers["v"][key[0]], self.years.answers["year"][key[1]]
        try:
            code = check_currency(cell, "currency")
        except InputError as exc:
            return out | {"err": str(exc)}
        if code in ("USD", "CNY"):
            return out | {"usd": code == "USD", "e8": E8 if code == "CNY" else None}
        out["other"] = True
        if year is None or year not in YEARS:
            return out
        try:
            quote = self.o.rates.quote(code, on=None, year=year)
        except FxError as exc:
            return out | {"rate_err": str(exc)}
        e8 = _e8(quote.rate)
        if e8 is None:
            return out | {"rate_err": f"fx: the {code} rate {quote.rate} has more than {FX_DECIMALS} decimals"}
        return out | {"e8": e8}

    def _rule(self, key: tuple[int, int, int]) -> dict:
        """`_decide`, with how the sector was decided (an unknown name, a code that cannot decide)
        in front of the reason, as calc states it."""
        out = self._decide(key)
        note = self.classes[key[1]][2] if key[1] >= 0 else ""
        if note and out["none_reason"]:
            out["none_reason"] = f"{note}; {out['none_reason']}"
        return out

    def _decide(self, key: tuple[int, int, int]) -> dict:
        """What the policy decides from the year, the classification and the kind alone (rules.py):
        which tiers the project could reach, best first, from which base in cents."""
        pidx, cidx, kidx = key
        out = {"eq": False, "pr": False, "converted": False, "none_reason": None, "thr": [], "gid": []}
        if pidx < 0 or cidx < 0 or kidx < 0:
            return out
        policy = list(self.policies.values())[pidx].policy
        category, code, note = self.classes[cidx]
        r = rule(policy, category, KINDS[kidx], self.o.reading)
        out |= {"eq": r.counts_equity, "pr": r.counts_profit, "converted": r.converted}
        if r.excluded or excluded_by_code(policy, code):
            return out | {"none_reason": r.excluded_reason}
        if not r.kind_ok:
            return out | {"none_reason": r.none_reason}
        self.max_tiers = max(self.max_tiers, len(r.tiers))
        return out | {"none_reason": r.none_reason, "thr": [_units(t.threshold, 2, t.comparator) for t in r.tiers],
                      "gid": [self._tier_id(policy, t) for t in r.tiers]}

    def _tier_id(self, policy: Policy, tier: TierRow) -> int:
        for i, (p, t) in enumerate(self.tiers):
            if p.id == policy.id and t.id == tier.id:
                return i
        if _e8(tier.rate) is None:  # rates are multiplied as whole counts of 10^-8
            raise PolicyError(_("{policy}: tier {tier}: the batch engine takes rates to {decimals} decimals, not {rate}").format(
                policy=policy.id, tier=tier.id, decimals=FX_DECIMALS, rate=tier.rate))
        self.tiers.append((policy, tier))
        return len(self.tiers) - 1

    # -- amounts ----------------------------------------------------------------------------------
    def _amount_parts(self, canon: str, cleaned: bool) -> list[list[pl.Expr]]:
        """Per row: whether an amount's cell is a plain number, and then its value in cents.

        Plain: digits only, below MAX_AMOUNT (USD) at --unit, with a decimal point and at most
        the decimals of a cent (times --unit) followed by at most 8 zeros; polars reads such a
        cell exactly. Any other cell goes to `parse_amount` (once per distinct cell), so a value
        or a message is always calc's own. ``cleaned``: drop , _ and spaces first."""
        text = named(self.m[canon]).cast(pl.String)
        grouped = pl.lit(True)
        if cleaned:  # (only where separators group thousands, as parse_amount allows: 15000000,50 is not plain)
            text = text.str.strip_chars()
            grouped = ~text.str.contains_any(list(GROUPING)) | text.str.contains(f"^(?:{GROUPED_PATTERN})$")
            text = text.str.replace_many(list(GROUPING), ["", "", ""])
        k = self.k_of(canon)
        decimals = 2 + k  # of the cell's unit: a Decimal of this scale counts cents
        whole = MAX_AMOUNT.adjusted() - k  # digits of the largest whole number below MAX_AMOUNT at --unit
        plain = (text.str.contains(rf"^[0-9]{{1,{whole}}}(\.[0-9]{{1,{decimals}}}0{{0,8}})?$") & grouped).fill_null(False)
        # in two steps: polars computes a sub-expression once per output that holds it
        cents = text.cast(pl.Decimal(38, decimals), strict=False).to_physical().cast(pl.Int64)
        return [[plain.alias(f"_ok:{canon}")],
                [pl.when(pl.col(f"_ok:{canon}")).then(cents).alias(f"_v:{canon}")]]

    def _amount(self, canon: str, slow: list[str]) -> tuple[pl.Expr, pl.Expr]:
        """(cents, error) of an amount column from its parts; the cells in ``slow`` go to `parse_amount`."""
        if canon not in self.m:
            return pl.lit(None, dtype=pl.Int64), pl.lit(None, dtype=pl.String)
        value, plain = pl.col(f"_v:{canon}"), pl.col(f"_ok:{canon}")
        if not slow:
            return value, pl.lit(None, dtype=pl.String)
        for cell in slow:
            if (canon, cell) not in self.slow_amounts:
                self.slow_amounts[(canon, cell)] = answer = self._parse_amount(canon, cell)
                if answer[1] is not None and self.lang != "en":  # (said to a person in the interface's language)
                    with using(self.lang):
                        self.shown[answer[1]] = self._parse_amount(canon, cell)[1] or answer[1]
        values = {c: self.slow_amounts[(canon, c)][0] for c in slow}
        errors = {c: self.slow_amounts[(canon, c)][1] for c in slow}
        text = named(self.m[canon]).cast(pl.String)
        return (pl.when(plain).then(value).otherwise(text.replace_strict(values, default=None, return_dtype=pl.Int64)),
                pl.when(plain).then(None).otherwise(text.replace_strict(errors, default=None, return_dtype=pl.String)))

    def _parse_amount(self, canon: str, cell: str) -> tuple[int | None, str | None]:
        if not cell.strip():
            return None, None
        try:
            amount = parse_amount(cell, canon, scale=self.unit_of(canon))  # (below MAX_AMOUNT)
        except InputError as exc:
            return None, str(exc)
        return int(amount.scaleb(2)), None

    def unit_of(self, canon: str) -> Decimal:
        """An amount column's unit: its header's (实际到位外资（万美元）), else --unit."""
        return self.o.units.get(canon, self.o.unit)

    def k_of(self, canon: str) -> int:
        return unit_digits(self.unit_of(canon))

    def _is_total(self) -> pl.Expr:
        """A total row: its project id or first cell is 合计, 总计, 小计 or Total (spaces and a colon aside)."""
        if not self.total_columns:
            return pl.lit(False)
        words = [w.casefold() for w in TOTAL_WORDS]
        return pl.any_horizontal([
            named(c).cast(pl.String).str.replace_many([" ", "\u3000", "\t", ":", "："], [""] * 5).str.to_lowercase()
            .is_in(words).fill_null(False)
            for c in self.total_columns])

    # -- one batch --------------------------------------------------------------------------------
    def _keys(self) -> dict[str, tuple[Lookup, str | None]]:
        """The repeating cells: canonical column -> (its lookup, the value of an absent or empty cell)."""
        return {"year": (self.years, None), "kind": (self.kinds, None), "sector": (self.sectors, None),
                "industry_code": (self.codes, None), "fx_rate": (self.fx, None),
                "currency": (self.currencies, "USD"), "reinvested_profit_currency": (self.currencies, self.profit_currency)}

    def _indexes(self, df: pl.DataFrame) -> pl.LazyFrame:
        """Per row: an index into the answers for each repeating cell, and the amounts in cents.

        One pass over the batch, one polars query (columns in parallel): the amounts, and the
        distinct cells not yet answered, answered here in Python (with every (sector, code) pair
        they can form, and each year's USD rate if a row may need it); a second pass only for an
        amount column found to hold separators. What is returned is a lazy query: every row's
        indexes are computed in the caller's pass, with the payout.
        """
        amounts = {"paid": self.paid_col, "loans": "shareholder_loans_usd", "profit": "reinvested_profit"}
        keys = {c: v for c, v in self._keys().items() if c in self.m and (c != "currency" or self.paid_col == "paid_in")}

        def cell(canon: str) -> pl.Expr:
            if canon not in keys:
                return pl.lit(self._keys()[canon][1], dtype=pl.String)
            text = named(self.m[canon]).cast(pl.String)
            default = keys[canon][1]
            return text.fill_null(default) if default is not None else text

        # A repeating cell other than the sector and the code is first cast to an Enum of the values
        # earlier batches held (up to SEEN_AT_MOST of them): only the cells that are not among them are
        # looked for, and when there are none the cast's codes give the rows' indexes.
        seen = {c: texts for c in keys if c not in ("sector", "industry_code")
                and 0 < len(texts := self._keys()[c][0].texts()) <= SEEN_AT_MOST}
        codes = [cell(c).cast(pl.Enum(texts), strict=False).to_physical().alias(f"_code:{c}") for c, texts in seen.items()]

        given = [c for c in amounts.values() if c in self.m]
        separators = list(GROUPING)

        def raw(canon: str) -> pl.Expr:
            return named(self.m[canon]).cast(pl.String)

        def not_plain(canon: str) -> pl.Expr:  # the cells of an amount column that are not plain numbers
            return raw(canon).filter(~pl.col(f"_ok:{canon}") & named(self.m[canon]).is_not_null())

        steps = [self._amount_parts(c, c in self.cleaned) for c in given]
        parts = df.lazy().with_columns([*(e for first, _ in steps for e in first), *codes]).with_columns(
            [e for _, then in steps for e in then])
        # the cells that are not plain, for parse_amount; but if some of them hold a separator (, _ or
        # space: 15,000,000.00), the column is cleaned and read again (below), and in every later batch
        plain = [c for c in given if c not in self.cleaned]
        distinct_q = parts.select(
            [(cell(c).filter(pl.col(f"_code:{c}").is_null()) if c in seen else cell(c)).unique().implode().alias(c) for c in keys]
            + [(not_plain(c) if c in self.cleaned else not_plain(c).filter(~not_plain(c).str.contains_any(separators)))
               .unique().implode().alias(f"slow:{c}") for c in given]
            + [not_plain(c).str.contains_any(separators).any().alias(f"sep:{c}") for c in plain])
        df, distinct_df = pl.collect_all([parts, distinct_q])
        distinct = distinct_df.row(0, named=True)
        if dirty := [c for c in plain if distinct[f"sep:{c}"]]:
            self.cleaned.update(dirty)
            steps = [self._amount_parts(c, True) for c in dirty]
            parts = df.lazy().with_columns([e for first, _ in steps for e in first]).with_columns([e for _, then in steps for e in then])
            df, slow_df = pl.collect_all([parts, parts.select([not_plain(c).unique().implode().alias(f"slow:{c}") for c in dirty])])
            distinct |= slow_df.row(0, named=True)
        # (cells new to this batch: their column's codes are incomplete; an empty cell is new only the first time)
        new = {c for c in seen if any(v not in self._keys()[c][0].ids for v in distinct[c])}
        for c in seen:
            self._keys()[c][0].add(distinct[c])
            distinct[c] = [v for v in self._keys()[c][0].ids if v is None or isinstance(v, str)]  # all seen: a superset

        def values(canon: str) -> list:
            return distinct[canon] if canon in keys else [self._keys()[canon][1]]

        def index(canon: str) -> pl.Expr:
            lookup = self._keys()[canon][0]
            if canon in seen and canon not in new:
                return lookup.from_codes(pl.col(f"_code:{canon}"), seen[canon])
            if canon in keys:
                return lookup.index(cell(canon), distinct[canon])
            lookup.add(values(canon))
            return pl.lit(lookup.ids[values(canon)[0]], dtype=pl.UInt32)

        Y, C, K, S, I, F = self.years, self.classified, self.kinds, self.sectors, self.codes, self.fx
        exprs = [index("year").alias("_y"), index("kind").alias("_k"), index("fx_rate").alias("_fx"),
                 index("currency").alias("_pcur"), index("reinvested_profit_currency").alias("_rcur"),
                 self._is_total().alias("_total")]
        # (sector, code) pairs -> classification: every pair of the batch's distinct values, or (if
        # that is many) the pairs its rows hold
        if len(values("sector")) * len(values("industry_code")) <= PAIRS_AT_ONCE:
            pairs = list(itertools.product(values("sector"), values("industry_code")))
        else:
            pairs = [(p["s"], p["i"]) for p in df.select(pl.struct(cell("sector").alias("s"), cell("industry_code").alias("i"))
                                                         .unique()).to_series()]
        S.add(s for s, _ in pairs)
        I.add(i for _, i in pairs)
        classes = [(S.ids[s], I.ids[i]) for s, i in pairs]
        exprs.append(C.pair_index(index("sector"), index("industry_code"), classes).alias("_c"))
        self._note_unknown_sectors(df, classes, index)
        for key, canon in amounts.items():
            value, error = self._amount(canon, distinct.get(f"slow:{canon}") or [])
            exprs += [value.alias(f"_{key}"), error.alias(f"_{key}_err")]
        for col in ("__equity_cny", "__profit_cny"):
            if col in df.columns:
                exprs.append(pl.col(col).cast(pl.String).cast(I128, strict=False))
        perr = [pl.col(c).cast(pl.String).replace("", None) for c in (PARSE_ERROR, LEDGER_ERROR) if c in df.columns]
        if perr:
            exprs.append(pl.coalesce(perr).alias("_perr"))
        if "__fx_source_text" in df.columns:
            exprs.append(pl.col("__fx_source_text").cast(pl.String).alias("_row_src"))
        if self.ledger:  # (its rates are many, a weighted mean each: given as numbers, not looked up as texts)
            exprs += [pl.col("__fx_rate_e8").cast(pl.String).cast(pl.Int64, strict=False).alias("_lfx"),
                      pl.col("__fx_rate_text").cast(pl.String).alias("_lfx_text")]

        years = [Y.ids[v] for v in values("year")]
        # a year's USD rate, if some row may lack an FX rate of its own (an empty or unusable fx_rate)
        if any(F.answers["e8"][F.ids[v]] is None for v in values("fx_rate")):
            self._rate_years(years)
        # (currency, year) -> its rate
        currencies = {self.currencies.ids[v] for canon in ("currency", "reinvested_profit_currency") for v in values(canon)}
        currency_years = list(itertools.product(sorted(currencies), years))
        q = df.lazy().select(exprs).with_columns(
            self.ccy_year.pair_index(pl.col("_pcur"), pl.col("_y"), currency_years).alias("_pc"),
            self.ccy_year.pair_index(pl.col("_rcur"), pl.col("_y"), currency_years).alias("_rc"))
        # the rule for each (policy, classification, kind) present
        p_ids = {Y.answers["pidx"][i] for i in years}
        c_ids = {C.answers["cidx"][C.ids[pair]] for pair in classes}
        k_ids = {K.answers["kidx"][K.ids[v]] for v in values("kind")}
        self.rules.add(itertools.product(sorted(p_ids), sorted(c_ids), sorted(k_ids)))
        q = q.with_columns(Y.get("pidx", "_y").alias("_p"), C.get("cidx", "_c").alias("_ci"), K.get("kidx", "_k").alias("_ki"))
        # (policy, class, kind) -> rule, each index one up (-1, an error, becomes 0)
        rule = dense_lookup([pl.col(c).cast(pl.Int64) + 1 for c in ("_p", "_ci", "_ki")],
                            {(p + 1, c + 1, k + 1): i for (p, c, k), i in self.rules.ids.items()}, bounded=False)
        return q.with_columns(rule.alias("_r"))

    @in_english  # (the cells it writes, errors and sources included, are the same in every language)
    def score(self, df: pl.DataFrame, neutralise: bool = False, lines: pl.Series | None = None,
              starts: Sequence[str] = ALL_STARTS, typed: bool = False) -> Scored:
        """The input columns (formula-like text neutralised if asked) and the result columns, with
        the summary's counts.

        ``lines``: each row's record as it stands in a CSV input (no quotes in it, nothing
        hidden), for CSV output: a record is copied as it is unless a cell of it must be
        neutralised or it has fewer fields than the header, and the results come as CSV text.
        ``starts``: the characters of `FORMULA_STARTS` the lines may hold, and AFTER_BLANKS if one
        may follow blanks (see `formula_starts`); a cell cannot begin with any other.
        ``typed``: the money columns (base_usd, base_cny, gross_cny, incentive_cny) as Decimals of
        their scale (for Parquet, whose writer casts them to their types), not text.
        """
        Y, F, CC, R = self.years, self.fx, self.ccy_year, self.rules
        mode = self.usd_mode[0] if self.usd_mode else "half_up"
        # one lazy query from the indexes to the payout: polars plans the stages together
        q = self._indexes(df)  # (first: it answers the batch's new cells, which the answers gathered below hold)
        own_e8 = pl.coalesce(pl.col("_lfx"), F.get("e8", "_fx")) if self.ledger else F.get("e8", "_fx")  # the row's own rate
        q = q.with_columns(
            pl.coalesce(own_e8, Y.get("usd_e8", "_y")).alias("_e8"), own_e8.is_not_null().alias("_own"),
            CC.get("usd", "_pc").alias("_p_usd"), CC.get("usd", "_rc").alias("_r_usd"),
            R.get("eq", "_r").alias("_eq"), R.get("pr", "_r").alias("_pr"), R.get("converted", "_r").alias("_converted"))

        def to_usd(amount: str, usd: str, idx: str) -> tuple[pl.Expr, pl.Expr]:
            """(USD cents, whether converted they reach MAX_AMOUNT: then the row's error, its cents null)"""
            a = pl.col(amount)
            conv = round_div(a.cast(I128) * CC.get("e8", idx).cast(I128), pl.col("_e8").cast(I128), mode)
            big = (~pl.col(usd) & (conv >= MAX_CENTS)).fill_null(False)
            return pl.when(pl.col(usd) | (a == 0)).then(a).when(~big).then(conv).cast(pl.Int64), big

        paid_usd, paid_big = to_usd("_paid", "_p_usd", "_pc") if self.paid_col == "paid_in" \
            else (pl.col("_paid"), pl.lit(False))  # (paid_in_usd is USD)
        profit_usd, profit_big = to_usd("_profit", "_r_usd", "_rc")
        q = q.with_columns(paid_usd.alias("_paid_usd"), profit_usd.alias("_profit_usd"),
                           paid_big.alias("_paid_big"), profit_big.alias("_profit_big"))
        base = (pl.when(pl.col("_eq")).then(pl.col("_paid_usd").fill_null(0)).otherwise(0)
                + pl.when(pl.col("_pr")).then(pl.col("_profit_usd").fill_null(0)).otherwise(0))
        q = q.with_columns(base.alias("_base"))
        gid = pl.lit(None, dtype=pl.Int32)
        for i in reversed(range(self.max_tiers)):
            gid = pl.when(pl.col("_base") >= R.item("thr", i, "_r", pl.Int64)).then(R.item("gid", i, "_r", pl.Int32)).otherwise(gid)
        base128 = pl.col("_base").cast(I128)
        if self.ledger:
            at_rates = (pl.when(pl.col("_eq")).then(pl.col("__equity_cny")).otherwise(0)
                        + pl.when(pl.col("_pr")).then(pl.col("__profit_cny")).otherwise(0)).cast(I128)
        else:
            at_rates = base128 * pl.col("_e8").cast(I128)
        q = q.with_columns(gid.alias("_gid"), pl.when(pl.col("_converted")).then(at_rates).otherwise(base128 * E8).alias("_bcny"))
        tiers = self.tiers
        rate_e8 = pl.Series([_e8(t.rate) for _, t in tiers], dtype=I128)
        caps = pl.Series([None if t.cap is None else int(t.cap.scaleb(GROSS_SCALE)) for _, t in tiers], dtype=I128)
        g = pl.col("_gid")
        q = q.with_columns((pl.col("_bcny") * pl.lit(rate_e8).gather(g)).fill_null(pl.lit(0, dtype=I128)).alias("_gross"),
                           pl.lit(caps).gather(g).alias("_cap"))
        q = q.with_columns((pl.col("_gross") > pl.col("_cap")).fill_null(False).alias("_capped"))
        paid = pl.when(pl.col("_capped")).then(pl.col("_cap")).otherwise(pl.col("_gross"))
        incentive, self.inc_scale = self._rounded(paid, g)
        flag, text = self._error_exprs(any(c in df.columns for c in (PARSE_ERROR, LEDGER_ERROR)))
        w = q.with_columns(incentive.alias("_inc"), flag.alias("_bad")).collect()
        return self._output(df, w, text, neutralise, lines, starts, typed)

    def _rounded(self, value: pl.Expr, gid: pl.Expr) -> tuple[pl.Expr, int]:
        """The one rounding step, as the policy of the row's tier says; the result at the finest scale used."""
        ways = [(_scale_of(p.rounding.quantum), p.rounding.mode) for p, _ in self.tiers]
        scale = max((s for s, _ in ways), default=2)
        if len(set(ways)) <= 1:
            s, mode = ways[0] if ways else (2, "half_up")
            return round_div(value, 10 ** (GROSS_SCALE - s), mode) * (10 ** (scale - s)), scale
        out = pl.lit(0, dtype=I128)
        way = pl.lit(pl.Series([f"{s}|{m}" for s, m in ways])).gather(gid)
        for s, mode in set(ways):
            rounded = round_div(value, 10 ** (GROSS_SCALE - s), mode) * (10 ** (scale - s))
            out = pl.when(way == f"{s}|{mode}").then(rounded).otherwise(out)
        return out, scale

    def _error_exprs(self, reader_errors: bool) -> tuple[pl.Expr, pl.Expr]:
        """Whether a row has an error, and its text: the reader's, or every problem of its cells,
        or (only then) a missing rate.

        Most rows have none: the flag is cheap (computed with the payout), the text is made only
        for the rows flagged.
        """
        Y, K, C, F, CC = self.years, self.kinds, self.classified, self.fx, self.ccy_year
        missing = pl.col("_paid").is_null() & pl.col("_paid_err").is_null() & pl.col("_profit").is_null()
        paid_other = CC.get("other", "_pc") & (pl.col("_paid").fill_null(0) > 0)
        profit_other = CC.get("other", "_rc") & (pl.col("_profit").fill_null(0) > 0)
        needs_usd = (~pl.col("_p_usd") & (pl.col("_paid").fill_null(0) > 0)) | (~pl.col("_r_usd") & (pl.col("_profit").fill_null(0) > 0))
        no_rate = pl.col("_e8").is_null() & (needs_usd | pl.col("_converted"))
        flags = [Y.has("err", "_y"), K.has("err", "_k"), C.has("err", "_c"), F.has("err", "_fx"), CC.has("err", "_pc"),
                 CC.has("err", "_rc"), pl.col("_paid_err").is_not_null(), missing, pl.col("_loans_err").is_not_null(),
                 pl.col("_profit_err").is_not_null(), pl.col("_paid_big"), pl.col("_profit_big"), no_rate & Y.has("usd_err", "_y"),
                 paid_other & CC.has("rate_err", "_pc"), profit_other & CC.has("rate_err", "_rc")]
        if reader_errors:
            flags.append(pl.col("_perr").is_not_null())
        first = pl.concat_str([
            Y.get("err", "_y"), K.get("err", "_k"), C.get("err", "_c"), pl.col("_paid_err"),
            pl.when(missing).then(pl.lit(said_both(self.shown, self.lang, PAID_MISSING, field=self.paid_col))),
            pl.col("_loans_err"), pl.col("_profit_err"), F.get("err", "_fx"), CC.get("err", "_pc"), CC.get("err", "_rc"),
            pl.when(pl.col("_paid_big")).then(pl.lit(said_both(self.shown, self.lang, converted_too_large, self.paid_col))),
            pl.when(pl.col("_profit_big")).then(pl.lit(said_both(self.shown, self.lang, converted_too_large, "reinvested_profit"))),
        ], separator="; ", ignore_nulls=True)
        second = pl.concat_str([
            pl.when(no_rate).then(Y.get("usd_err", "_y")),
            pl.when(paid_other).then(CC.get("rate_err", "_pc")),
            pl.when(profit_other).then(CC.get("rate_err", "_rc")),
        ], separator="; ", ignore_nulls=True)
        err = pl.when(first != "").then(first).otherwise(second.replace("", None))
        if reader_errors:
            err = pl.coalesce(pl.col("_perr"), err)
        return pl.any_horizontal(flags) & ~pl.col("_total"), err  # (a total row is not scored: no error either)

    def result_aliases(self) -> dict[str, str]:
        """Result column -> its name in the output (prefixed fdi_ where the input already has that name)."""
        taken, aliases = set(self.columns), {}
        for name in RESULT_COLUMNS:
            alias = name
            while alias in taken:  # an input that is itself a scored file already has fdi_ names
                alias = f"fdi_{alias}"
            aliases[name] = alias
            taken.add(alias)
        return aliases

    def output_names(self) -> list[str]:
        return self.inputs + list(self.result_aliases().values())

    def _output(self, df: pl.DataFrame, w: pl.DataFrame, error: pl.Expr, neutralise: bool, lines: pl.Series | None,
                starts: Sequence[str] = ALL_STARTS, typed: bool = False) -> Scored:
        """The rows to write and the summary's counts, from the payout ``w`` (which flags the rows
        with an error in `_bad`; ``error`` is their text): one parallel run of polars."""
        Y, F = self.years, self.fx
        tiers = self.tiers
        raw = lines is not None  # results as CSV text, for a line-by-line copy of the input
        shown_as = neutral if neutralise else (lambda text: text)  # (a policy's label too may begin with =)
        field_of = (lambda text: csv_field(shown_as(text))) if raw else shown_as
        tier_ids = pl.Series([field_of(t.id) for _, t in tiers], dtype=pl.String)
        rate_texts = pl.Series([rate_str(t.rate) for _, t in tiers], dtype=pl.String)
        policy_ids = pl.Series([field_of(p) for p in self.policies], dtype=pl.String)
        # the reason of a tier, capped or not: row 2 * tier + capped
        reason_texts = [t.capped_reason if capped else t.reason for _, t in tiers for capped in (False, True)]
        # and with each class's note in front (note n: rows n * 2 * tiers + ...), where a class has one
        notes = [f"{n}; " if n else "" for n in self.notes]
        reasons = pl.Series([field_of(note + text) for note in notes for text in reason_texts], dtype=pl.String)
        # every base in CNY is a multiple of 10^cny_zeros (a base in cents times a rate with as many
        # trailing zeros, or times 10^8 for the nominal reading), every gross of 10^gross_zeros
        # (times a tier's rate): the texts are made from shorter numbers, with fewer zeros to strip
        rates = [e for e in self.fx.answers["e8"] + Y.answers["usd_e8"] if e]
        cny_zeros = 0 if self.ledger else min(_zeros(e) for e in [E8, *rates])
        gross_zeros = cny_zeros + min((_zeros(_e8(t.rate)) for _, t in tiers if t.rate), default=0)
        total = pl.col("_total")
        g = pl.when(~total).then(pl.col("_gid"))
        ok = ~pl.col("_bad") & ~total
        has_rate = pl.col("_e8").is_not_null()
        row_source = pl.col("_row_src") if "_row_src" in w.columns else pl.lit(ROW_RATE_SOURCE)
        if neutralise:
            row_source = self._neutral_text(row_source)
        shown_source = csv_field_expr(row_source) if raw else row_source
        at = g * 2 + pl.col("_capped").cast(pl.Int32)
        if len(notes) > 1:
            at = at + self.classified.get("nidx", "_c") * len(reason_texts)
        reason = pl.coalesce(pl.lit(reasons).gather(at), self.rules.get("none_reason", "_r", quoted=raw))
        any_total = bool(w["_total"].any())
        if any_total:
            reason = pl.when(total).then(pl.lit(field_of(TOTAL_REASON))).otherwise(reason)
        results = {
            "policy": pl.lit(policy_ids).gather(pl.when(pl.col("_p") >= 0).then(pl.col("_p"))),
            "policy_status": Y.get("status", "_y"),
            "eligible": pl.when(~total).then(g.is_not_null()),
            "tier": pl.lit(tier_ids).gather(g),
            "rate": pl.lit(rate_texts).gather(g),
            "base_usd": (decimal_value if typed else decimal_text)(pl.col("_base"), 2),
            "fx_rate": pl.coalesce(*([pl.col("_lfx_text")] if self.ledger else []), F.get("text", "_fx"), Y.get("usd_text", "_y")),
            "fx_source": pl.when(has_rate).then(pl.when(pl.col("_own")).then(shown_source)
                                                .otherwise(Y.get("usd_src", "_y", quoted=raw))),
            "base_cny": decimal_value(pl.col("_bcny"), CNY_SCALE) if typed
            else decimal_text(*self._fewer_zeros(pl.col("_bcny"), CNY_SCALE, cny_zeros)),
            "gross_cny": decimal_value(pl.col("_gross"), GROSS_SCALE) if typed
            else decimal_text(*self._fewer_zeros(pl.col("_gross"), GROSS_SCALE, gross_zeros)),
            "capped": pl.col("_capped"),
            "incentive_cny": (decimal_value if typed else decimal_text)(pl.col("_inc"), self.inc_scale),
            "reason": reason,
        }
        aliases = self.result_aliases()
        any_error = bool(w["_bad"].any())
        # a row with an error has no results (where there is none, the columns are not copied again)
        out = [(pl.when(ok | (total & pl.lit(name == "reason"))).then(results[name]) if any_error or any_total
                else results[name]).alias(aliases[name]) for name in results]
        # for the summary: small integers (indexes into the answers; see `label`), cheap to group by
        own_rate = pl.col("_own")
        hidden = [
            pl.when(ok).then(g).alias("__tier"),
            pl.when(~total).then(pl.col("_c")).alias("__class"),
            pl.when(~total).then(pl.col("_y")).alias("__year"),
            pl.when(ok & (pl.col("_p") >= 0)).then(pl.col("_p")).alias("__policy"),
            pl.when(ok & has_rate).then(pl.when(own_rate).then(-1).otherwise(pl.col("_y").cast(pl.Int64))).alias("__source"),
            pl.when(ok).then(pl.col("_inc")).otherwise(pl.lit(0, dtype=I128)).alias("__incentive"),
            (ok & pl.col("_capped")).alias("__capped"),
            pl.col("_bad").alias("__is_error"),
            total.alias("__total"),
        ]
        inputs = self.inputs
        scored = w.lazy().select(*out)
        # the summary's counts, grouped on small integers (see `label`), in the same parallel run
        groups = w.lazy().select(*hidden).group_by(*SUMMARY_KEYS).agg(
            pl.len().alias("rows"), pl.col("__is_error").sum().alias("errors"), pl.col("__capped").sum().alias("capped"),
            pl.col("__incentive").sum().alias("incentive"), pl.col("__total").sum().alias("totals"))
        texts = w.lazy().filter(pl.col("_bad")).select(error.alias("text"))  # the few rows with an error: their text
        # a ledger states each project-year's own source (a project-year file's own rate is the fx_rate column):
        # distinct, apart from the groups, which they would multiply by the thousands of arrival days
        sources = w.lazy().filter(ok & has_rate & own_rate).select(row_source.unique().alias("source")) \
            if "_row_src" in w.columns else pl.LazyFrame({"source": []}, schema={"source": pl.String})
        if raw:
            line = LINE  # (a name none of the input's columns has)
            while line in df.columns:
                line += "_"
            shown = df.lazy().with_columns(lines.alias(line)).select(self._redo(inputs, pl.col(line), starts).arg_true().alias("redo"))
        else:
            shown = df.lazy().select([self._neutral(c) if neutralise else named(c) for c in inputs])
        amounts, totals = self._amount_stats(w)
        shown, scored, groups, texts, sources, amounts, totals = pl.collect_all(
            [shown, scored, groups, texts, sources, amounts, totals])
        shown_texts = texts.select(self._neutral_text(pl.col("text")).alias("text")) if neutralise else texts  # (few rows)
        is_error = w["_bad"]

        def scattered(values: pl.Series) -> pl.Series:  # (scatter writes in place: a new series each time)
            empty = pl.repeat(None, len(scored), dtype=pl.String, eager=True)
            return empty.scatter(is_error.arg_true(), values) if len(values) else empty

        errors = scattered(texts["text"])
        shown_errors = scattered(shown_texts.select(csv_field_expr(pl.col("text"))).to_series() if raw else shown_texts["text"])
        if raw:
            redo = shown["redo"]
            if len(redo):  # rebuilt from the cells: none holds a comma, a quote or a line end
                lines = lines.scatter(redo, df[redo].select(
                    pl.concat_str([self._neutral(c).fill_null("") for c in inputs], separator=",")).to_series())
            shown = lines.alias(LINE).to_frame()
        rows = pl.concat([shown, scored.with_columns(shown_errors.alias(aliases["error"]))], how="horizontal")
        return Scored(rows, groups, is_error, errors, self.inc_scale, csv_ready=raw,
                      own_sources=[v for v in sources["source"] if v is not None],
                      totals=totals if len(totals) else None, amounts=amounts.row(0, named=True))

    AMOUNTS = {"paid": None, "loans": "shareholder_loans_usd", "profit": "reinvested_profit"}  # (paid: paid_col)

    def amount_columns(self) -> dict[str, str]:
        """The amount columns present: key (paid, loans, profit) -> canonical name."""
        named = {k: v or self.paid_col for k, v in self.AMOUNTS.items()}
        return {k: v for k, v in named.items() if v in self.m}

    def _amount_stats(self, w: pl.DataFrame) -> tuple[pl.LazyFrame, pl.LazyFrame]:
        """Per amount column, over the rows that are not totals: the sum and the largest (in cents
        at the column's unit), the rows read and those whose cell could not be read; and each
        total row's amounts beside the same sums over the rows above it in the batch."""
        cols = self.amount_columns()
        data = ~pl.col("_total")
        stats = [e for k in cols for e in (
            pl.col(f"_{k}").filter(data).cast(I128).sum().alias(f"sum:{k}"), pl.col(f"_{k}").filter(data).max().alias(f"max:{k}"),
            pl.col(f"_{k}").filter(data).is_not_null().sum().alias(f"n:{k}"),
            pl.col(f"_{k}_err").filter(data).is_not_null().sum().alias(f"bad:{k}"))]
        amounts = w.lazy().select(stats) if stats else pl.LazyFrame({"none": [0]})
        above = [e for k in cols for e in (
            pl.when(data).then(pl.col(f"_{k}")).fill_null(0).cast(I128).cum_sum().alias(f"sum:{k}"),
            (data & pl.col(f"_{k}").is_not_null()).cum_sum().alias(f"n:{k}"),
            (data & pl.col(f"_{k}_err").is_not_null()).cum_sum().alias(f"bad:{k}"),
            pl.col(f"_{k}").alias(f"total:{k}"))]
        if not w["_total"].any():  # (most batches: no running sums)
            return amounts, pl.LazyFrame(schema={"_i": pl.UInt32})
        totals = w.lazy().with_row_index("_i").select("_i", "_total", *above).filter(pl.col("_total")).drop("_total")
        return amounts, totals

    @staticmethod
    def _fewer_zeros(value: pl.Expr, scale: int, zeros: int) -> tuple[pl.Expr, int]:
        """A count of 10^-scale that is a multiple of 10^zeros, as a count of 10^-(scale - zeros) (two decimals kept)."""
        zeros = min(zeros, scale - 2)
        return (value // pl.lit(10**zeros, dtype=I128) if zeros else value), scale - zeros

    @staticmethod
    def _redo(inputs: list[str], line: pl.Expr, starts: Sequence[str] = ALL_STARTS) -> pl.Expr:
        """Rows whose record (``line``) cannot be copied as it is: a cell to neutralise (it begins
        with one of ``starts``, the formula starts the lines may hold), or fewer fields than the
        header (the record is shorter than its cells and commas; polars pads such a row with
        empty cells)."""
        width = pl.sum_horizontal([named(c).cast(pl.String).str.len_bytes().fill_null(0) for c in inputs]) + (len(inputs) - 1)
        redo = line.str.len_bytes() != width
        chars = [c for c in starts if c != AFTER_BLANKS]
        if chars:  # (one literal search is a third of the cost of a search for several)
            inner = [f",{c}" for c in chars]
            redo |= line.str.contains(inner[0], literal=True) if len(inner) == 1 else line.str.contains_any(inner)
            for c in chars:
                redo |= line.str.starts_with(c)
                if AFTER_BLANKS in starts:  # a start after blanks (spaces, NBSP, a BOM): a pattern per start, each a literal to find
                    redo |= line.str.contains(rf"(?:^|,)[{BLANKS}]+{AS_PATTERN[c]}")
        return redo.fill_null(True)

    def label(self, key: str, value):
        """What a summary key's integer stands for: a tier id, a category, a year, a policy id, an FX source."""
        if value is None:
            return None
        if key == "__tier":
            return self.tiers[value][1].id
        if key == "__class":
            return self.classified.answers["category"][value]
        if key == "__year":
            return self.years.answers["year"][value]
        if key == "__policy":
            return list(self.policies)[value]
        if key == "__source":
            return (None if self.ledger else ROW_RATE_SOURCE) if value < 0 else self.years.answers["usd_src"][value]
        return value

    @staticmethod
    def _neutral(column: str) -> pl.Expr:
        """Text a spreadsheet would run as a formula (`FORMULA_STARTS` first, after any blanks) gets a leading quote."""
        return Scorer._neutral_text(named(column).cast(pl.String)).alias(column)

    @staticmethod
    def _neutral_text(text: pl.Expr) -> pl.Expr:
        """`text.neutral` for a column of text."""
        return pl.when(text.str.contains(FORMULA_PATTERN)).then(pl.lit("'") + text).otherwise(text)


def formula_starts(text: bytes, start: int = 0) -> list[str]:
    """The characters of `FORMULA_STARTS` that occur in ``text`` from ``start`` on: a cell of it
    can begin with no other; and AFTER_BLANKS where one may follow blanks (the text holds a byte
    a blank begins with). (A search for a byte is ~0.1 ms per 6 MiB; a search of every record
    for a comma and each of them, ~15 ms; for a start after blanks, by a pattern, as much again.)"""
    found = [c for c in FORMULA_STARTS if text.find(c.encode(), start) != -1]
    if found and any(text.find(hint, start) != -1 for hint in BLANK_HINTS):
        found.append(AFTER_BLANKS)
    return found
