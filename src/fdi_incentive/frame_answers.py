"""The scorer's answers for distinct values (a part of `frame.Scorer`): a year's policy and USD rate, a
kind, a (sector, code) pair's category, an FX cell, a (currency, year) pair's rate, and what the rule
decides for a (policy, category, kind), each by the functions `fdi calc` uses, once per distinct value.

A mixin: the lookups it fills (`years`, `kinds`, `classified`, `fx`, `ccy_year`, `rules`) and the
state it keeps (`policies`, `tiers`, `classes`, `notes`, `shown`) are made by `Scorer.__init__`.
"""

from collections.abc import Callable, Hashable
from decimal import Decimal

import polars as pl

from .errors import FxError, InputError, PolicyError
from .i18n import _
from .industry import UnknownSector, classify, normalise_name
from .fx import check_currency, given_rate_source, parse_rate
from .language import using
from .money import YEARS, parse_year, rate_str
from .policy import KIND_NAMES, LoadedPolicy, Policy, family_versions, policy_for_year
from .rules import TierRow, excluded_by_code, rule, status_reason, version_for
from .scaled import E8, FX_DECIMALS, _e8, _scale_of, _units

KINDS = list(dict.fromkeys(KIND_NAMES.values()))  # kind index -> kind


class Answers:
    """Answers for distinct values, by the functions `fdi calc` uses (see the module's text)."""

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
            lp = self.o.policy or (version_for(family_versions(self.o.family), year) if self.o.family else policy_for_year(year))
            status = lp.policy.status_in(year)  # (a named policy outside its dates pays nothing: status_reason)
        except PolicyError as exc:
            return out | {"err": str(exc)}
        self._use_policy(lp)
        return out | {"pidx": list(self.policies).index(lp.policy.id), "status": status, "why": status_reason(lp.policy, status)}

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

    def _rule(self, key: tuple[int, int, int, int, int]) -> dict:
        """`_decide`, with how the sector was decided (an unknown name, a code that cannot decide)
        in front of the reason, as calc states it."""
        out = self._decide(key)
        note = self.classes[key[1]][2] if key[1] >= 0 else ""
        if note and out["none_reason"]:
            out["none_reason"] = f"{note}; {out['none_reason']}"
        return out

    def _decide(self, key: tuple[int, int, int, int, int]) -> dict:
        """What the policy decides from the year, the classification, the kind, the place group and
        the flags alone (rules.py): which tiers the project could reach, best first, from which base in cents."""
        pidx, cidx, kidx, gix, bits = key
        out = {"eq": False, "pr": False, "converted": False, "spent": False, "none_reason": None, "thr": [], "gid": []}
        if pidx < 0 or cidx < 0 or kidx < 0 or gix < 0:
            return out
        policy = list(self.policies.values())[pidx].policy
        category, code, note = self.classes[cidx]
        r = rule(policy, category, KINDS[kidx], self.o.reading, None, self.group_names[gix] or None, self._flags_of(pidx, bits))
        out |= {"eq": r.counts_equity, "pr": r.counts_profit, "converted": r.converted, "spent": policy.base.measure == "spent"}
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
