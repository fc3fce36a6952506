"""The scorer's part for the shapes of other jurisdictions' rules (a part of `frame.Scorer`): a row's
place as its policy sees it, its flags, a base of the amount spent, bands, parts paid by different
governments and a cap over a period of years summed over a project's rows in year order.

The decisions are calc's: the place by `placing.where`, the tiers by `rules.rule` (per place group
and flags); only the arithmetic is written here, in exact integers as the rest of the batch.

A mixin: `Scorer.__init__` makes the lookups (`locations`, `flag_cells`, `wheres`) and the state
(`group_names`, `period_paid`).
"""

from __future__ import annotations

import polars as pl

from . import placing
from .errors import InputError
from .money import parse_flag
from .rules import FLAGS, flag_mask
from .scaled import I128, _e8

FLAG_COLUMNS = FLAGS  # high_tech, hnte, priority: a row's bits 1, 2, 4


class Shapes:
    """Answers and arithmetic for places, flags, spent bases, bands, parts and period caps."""

    # --- answers for distinct cells ------------------------------------------------------------

    def _location(self, cell: str | None) -> dict:
        """A location cell -> its GB/T 2260 code, or its error (calc's resolver)."""
        if cell is None or not cell.strip():
            return {"code": None, "err": None}
        try:
            return {"code": placing.resolve(cell).code, "err": None}
        except InputError as exc:
            return {"code": None, "err": str(exc)}

    def _flag(self, name: str, cell: str | None) -> dict:
        try:
            return {"bit": (1 << FLAGS.index(name)) if parse_flag(cell, name) else 0, "err": None}
        except InputError as exc:
            return {"bit": 0, "err": str(exc)}

    def _group_index(self, group: str) -> int:
        if group not in self.group_names:
            self.group_names.append(group)
        return self.group_names.index(group)

    def _where(self, key: tuple[int, int]) -> dict:
        """(year answer, location answer) -> the place as the year's policy sees it: in (and its
        group), excluded or outside with the reason, or the row's error."""
        out = {"state": "in", "gix": 0, "err": None, "reason": None}
        pidx = self.years.answers["pidx"][key[0]]
        code, err = self.locations.answers["code"][key[1]], self.locations.answers["err"][key[1]]
        if pidx < 0 or err is not None:
            return out | {"gix": -1}
        policy = list(self.policies.values())[pidx].policy
        try:
            w = placing.where(policy, placing.resolve(code) if code else None)
        except InputError as exc:
            return out | {"gix": -1, "err": str(exc)}
        if w is None:
            return out | {"gix": self._group_index("")}
        if w.state == "outside":
            return out | {"state": "outside", "gix": -1, "reason": f"outside the area of {policy.id}"}
        if w.state == "excluded":
            area = policy.place
            return out | {"state": "excluded", "gix": -1, "reason": f"excluded: place ({area.citation or area.reading})"}
        return out | {"gix": self._group_index(w.group or "")}

    def _flags_of(self, pidx: int, bits: int) -> frozenset[str]:
        policy = list(self.policies.values())[pidx].policy
        bits &= flag_mask(policy)
        return frozenset(f for i, f in enumerate(FLAGS) if bits & (1 << i))

    # --- arithmetic ---------------------------------------------------------------------------

    def _tier_series(self):
        """Per tier (gid): its band's upper bound in cents, its period cap at the payout's scale and
        years, and its parts' rates x 10^8 (a list per part position)."""
        tiers = self.tiers
        below = pl.Series([None if t.below is None else int(t.below.scaleb(2)) for _, t in tiers], dtype=pl.Int64)
        width = max((len(t.parts) for _, t in tiers), default=0)
        parts = [pl.Series([_e8(t.parts[k][1]) if k < len(t.parts) else None for _, t in tiers], dtype=I128) for k in range(width)]
        payers = list(dict.fromkeys(t.parts[k][0] for _, t in tiers for k in range(len(t.parts))))
        slot = [pl.Series([t.parts[k][0] if k < len(t.parts) else None for _, t in tiers], dtype=pl.String) for k in range(width)]
        return below, parts, slot, payers

    def _pick_tier(self, base: pl.Expr, below: pl.Series) -> pl.Expr:
        """The first tier of the row's rule that its base passes (the threshold, and below the band's top)."""
        R = self.rules
        gid = pl.lit(None, dtype=pl.Int32)
        for i in reversed(range(self.max_tiers)):
            g_i = R.item("gid", i, "_r", pl.Int32)
            top = pl.lit(below).gather(g_i)
            passes = (base >= R.item("thr", i, "_r", pl.Int64)) & (top.is_null() | (base < top))
            gid = pl.when(passes).then(g_i).otherwise(gid)
        return gid

    def _parts_paid(self, bcny: pl.Expr, room: pl.Expr, parts: list[pl.Series], g: pl.Expr) -> tuple[list[pl.Expr], pl.Expr]:
        """Each part rounded once, paid in order within ``room`` (null: no cap); and their sum."""
        paid, left, total = [], room, pl.lit(0, dtype=I128)
        for series in parts:
            rate = pl.lit(series).gather(g)
            each, _ = self._rounded(bcny * rate, g)
            each = pl.when(rate.is_null()).then(None).otherwise(
                pl.when(left.is_null()).then(each).otherwise(pl.min_horizontal(each, left)))
            paid.append(each)
            left = left - each.fill_null(0)
            total = total + each.fill_null(0)
        return paid, total

    def _period(self, w: pl.DataFrame, parts: list[pl.Series], project: str | None) -> pl.DataFrame:
        """A cap over a period: over the rows of one project under a policy with a period cap, from the
        first year of its period caps, in year order (then row order), as calc counts a project's
        years: each row's payout counts toward what the project got; a row whose own tier has a
        period cap gets at most what its cap leaves (`_inc` lowered, `_pcapped` set), its parts
        refilled in order. Carried from batch to batch (`period_paid`)."""
        tiers = self.tiers
        if all(t.period_cap is None for _, t in tiers):
            return w.with_columns(pl.lit(False).alias("_pcapped"))
        starts = {}  # policy index -> the first year of its period caps
        for pidx, lp in enumerate(self.policies.values()):
            years = [t.period_cap.from_ for t in lp.policy.tiers if t.period_cap]
            if years:
                starts[pidx] = min(years)
        cap = pl.Series([None if t.period_cap is None else int(t.period_cap.scaleb(self.inc_scale)) for _, t in tiers], dtype=I128)
        first = pl.Series([t.period[0] if t.period else None for _, t in tiers], dtype=pl.Int32)
        last = pl.Series([t.period[1] if t.period else None for _, t in tiers], dtype=pl.Int32)
        self.period_batches = getattr(self, "period_batches", 0) + 1  # (a row without a project is one of its own)
        w = w.with_columns(pl.int_range(pl.len()).alias("_row"), self.years.get("year", "_y").alias("_year"))
        key = pl.col("_proj").fill_null(pl.concat_str(pl.lit(f"\0row{self.period_batches}:"), pl.col("_row").cast(pl.String)))
        start = pl.col("_pol").replace_strict(starts, default=None, return_dtype=pl.Int32)
        w = w.with_columns(key.alias("_pkey"), ((pl.col("_year") >= start) & pl.col("_bad").not_()).fill_null(False).alias("_pin"),
                           pl.lit(cap).gather(pl.col("_gid")).alias("_pcap"), pl.lit(first).gather(pl.col("_gid")).alias("_pfrom"),
                           pl.lit(last).gather(pl.col("_gid")).alias("_pto"))
        rows = w.filter(pl.col("_pin")).sort(["_pkey", "_pol", "_year", "_row"]).select(
            "_row", "_pkey", "_pol", "_year", "_inc", "_pcap", "_pfrom", "_pto")
        pays, lates = [], []
        for r, k, pol, year, amount, pcap, pfrom, pto in rows.iter_rows():
            seen_year, before = self.period_paid.get((k, pol), (None, 0))
            lates.append(seen_year is not None and year < seen_year)
            pay = amount or 0
            if pcap is not None and pfrom <= year <= pto:
                pay = min(pay, max(pcap - before, 0))
            pays.append(pay)
            self.period_paid[(k, pol)] = (year, before + pay)
        paid = pl.DataFrame({"_row": rows["_row"], "_pay": pl.Series(pays, dtype=I128), "_late": pl.Series(lates, dtype=pl.Boolean)})
        w = w.join(paid, on="_row", how="left")
        capped = (pl.col("_pay").is_not_null() & (pl.col("_pay") < pl.col("_inc"))).fill_null(False)
        w = w.with_columns(capped.alias("_pcapped"), pl.coalesce(pl.col("_pay"), pl.col("_inc")).alias("_inc"))
        if parts:
            left = pl.when(pl.col("_pcapped")).then(pl.col("_inc"))
            refilled = []
            for k in range(len(parts)):
                each = pl.col(f"_part{k}")
                each = pl.when(left.is_null() | each.is_null()).then(each).otherwise(pl.min_horizontal(each, left))
                refilled.append(each.alias(f"_part{k}"))
                left = left - each.fill_null(0)
            w = w.with_columns(refilled)
        return w
