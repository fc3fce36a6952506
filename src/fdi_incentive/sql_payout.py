"""The compiled SQL's last layers (see sql.py): the rule joined from fdi_rule (rules.py's rows),
then the arithmetic: base, the first tier that passes, conversion, cap, one rounding; then the
output columns, empty on a row with an error."""

from __future__ import annotations

from sqlglot import exp

from .reference import Shapes
from .scaled import _scale_of
from .sql_base import (BASE, BASE_CNY, INPUT_COLUMNS, Arith, _cat, case, col, dec, is_null, layer, lit, num, ref)
from .sql_periods import PAID, parts_paid, payer_column, shares

NO_SHAPES = Shapes()


def _pick(tiers: int, bands: bool = False, tested: str = "_f_base") -> exp.Expression:
    """The first tier of the rule whose threshold the base passes (over: strict; at least: inclusive) and,
    for a band, whose upper bound it stays below, or NULL. (``tested``: what the thresholds are tested
    on, where it is not the base: the amount paid in, where the base is the amount spent.)"""
    base = col(tested)
    pairs = []
    for i in range(1, tiers + 1):
        threshold = col(f"t{i}_threshold")
        passes = case([(col(f"t{i}_inclusive"), exp.GTE(this=base, expression=threshold))], exp.GT(this=base, expression=threshold))
        if bands:
            below = col(f"t{i}_below")
            passes = exp.and_(passes, exp.or_(is_null(below), exp.LT(this=base, expression=below)))
        pairs.append((exp.and_(exp.not_(is_null(threshold)), passes), exp.Literal.number(i)))
    return case([(exp.or_(col("_f_excl"), exp.not_(col("kind_ok"))), exp.null()), *pairs])


def _of_tier(field: str, tiers: int, cast: exp.DataType | str | None = None) -> exp.Expression:
    """The picked tier's ``field``."""
    node = case([(exp.EQ(this=col("_f_gid"), expression=exp.Literal.number(i)), col(f"t{i}_{field}")) for i in range(1, tiers + 1)])
    return exp.cast(node, cast) if cast is not None else node


def tier_fields(shapes: Shapes) -> list[str]:
    """A tier's columns in fdi_rule (t1_tier, t1_threshold ...), the new shapes' where the run has them."""
    fields = ["tier", "threshold", "inclusive", "rate", "rate_error", "cap", "reason", "capped_reason"]
    fields += ["below"] if shapes.bands else []
    fields += ["period_cap", "period_from", "period_to", "period_reason"] if shapes.period else []
    return fields + [f"p{k}_{f}" for k in range(1, shapes.parts + 1) for f in ("payer", "rate")]


def payout(q: exp.Select, *, tiers: int, rate_type: tuple[int, int], gross: tuple[int, int],
           modes: tuple, arith: Arith, shapes: Shapes = NO_SHAPES, order: str | None = None) -> exp.Select:
    shaped = shapes != NO_SHAPES and (shapes.columns or shapes.place or shapes.flags or shapes.status)
    errs = "_f_errs" if shaped else "_f_err1"  # (the first errors: the cells', and the new shapes' where read)
    shut = shaped and (shapes.place or shapes.status)  # (why a row pays nothing before any tier: `_f_shutr`)
    rule_columns = ["excluded", "excluded_reason", "kind_ok", "none_reason", "counts_equity", "counts_profit", "converted",
                    "quantum", "rounding"] + [f"t{i}_{f}" for i in range(1, tiers + 1) for f in tier_fields(shapes)]
    on = exp.and_(exp.EQ(this=ref("r", "policy"), expression=ref("m1", "_f_p")),
                  exp.EQ(this=ref("r", "category"), expression=ref("m1", "_f_c")),
                  exp.EQ(this=ref("r", "kind"), expression=ref("m1", "_f_k")),
                  *([exp.EQ(this=ref("r", "grp"), expression=ref("m1", "_f_grp"))] if shapes.groups else []),
                  *([exp.EQ(this=ref("r", "flags"), expression=ref("m1", "_f_flags"))] if shapes.flags else []))
    # a code excluded by a policy: the code's own prefixes of 1, 3, 4 and 5 characters (section, division, group, class)
    prefixes = [(f"x{n}", exp.and_(exp.EQ(this=ref(f"x{n}", "policy"), expression=ref("m1", "_f_p")),
                                   exp.EQ(this=ref(f"x{n}", "code"), expression=exp.Substring(
                                       this=ref("m1", "_f_xcode"), start=exp.Literal.number(1), length=exp.Literal.number(n)))))
                for n in (1, 3, 4, 5)]
    q = layer(q, "m1", {}, [("fdi_rule", "r", on, {c: c for c in rule_columns}),
                            *(("fdi_excluded_code", a, cond, {"code": f"_f_{a}"}) for a, cond in prefixes)])
    counted = [case([(col("counts_equity"), exp.func("COALESCE", col("_f_paid"), num(0)))], num(0)),
               case([(col("counts_profit"), exp.func("COALESCE", col("_f_profit"), num(0)))], num(0))]
    excluded = exp.or_(exp.func("COALESCE", col("excluded"), exp.false()),
                       *(exp.not_(is_null(col(f"_f_{a}"))) for a, _ in prefixes),
                       *([exp.not_(is_null(col("_f_shutr")))] if shut else []))
    base = exp.Add(this=counted[0], expression=counted[1])
    tested = {}
    if shapes.spent:  # (a base of the amount spent, where the row gives it; the thresholds are tested on what is paid in)
        tested = {"_f_tested": exp.cast(base.copy(), dec(*BASE))}
        base = case([(exp.and_(exp.func("COALESCE", col("_f_spentb"), exp.false()), exp.not_(is_null(col("_f_spent")))),
                      col("_f_spent"))], base)
    q = layer(q, "m2", {"_f_base": exp.cast(base, dec(*BASE)), "_f_excl": excluded, **tested})
    converted = arith.mul(col("_f_base"), BASE, col("_f_e"), BASE_CNY)
    bcny = case([(col("converted"), converted)], exp.cast(col("_f_base"), dec(*BASE_CNY)))
    q = layer(q, "m3", {
        "_f_gid": _pick(tiers, shapes.bands, "_f_tested" if shapes.spent else "_f_base"),
        "_f_bcny": bcny,
        "_f_err2": case([(exp.and_(is_null(col(errs)), col("converted"), is_null(col("_f_e"))), col("_f_usderr"))]),
    })
    more = {}
    if shapes.period:
        more.update({"_f_pcap": _of_tier("period_cap", tiers, dec(*gross)), "_f_pfrom": _of_tier("period_from", tiers),
                     "_f_pto": _of_tier("period_to", tiers), "_f_preas": _of_tier("period_reason", tiers)})
    for k in range(1, shapes.parts + 1):
        more.update({f"_f_y{k}": _of_tier(f"p{k}_payer", tiers), f"_f_r{k}": _of_tier(f"p{k}_rate", tiers, dec(*rate_type))})
    q = layer(q, "m4", {"_f_rate": _of_tier("rate", tiers, dec(*rate_type)), "_f_cap": _of_tier("cap", tiers, dec(*gross)),
                        "_f_gerr": _of_tier("rate_error", tiers), "_f_tier": _of_tier("tier", tiers), **more})
    product = case([(is_null(col("_f_gid")), num(0, *gross))], arith.mul(col("_f_bcny"), BASE_CNY, col("_f_rate"), gross))
    q = layer(q, "m5", {"_f_gross": exp.cast(product, dec(*gross))})
    q = layer(q, "m6", {"_f_capped": exp.func("COALESCE", exp.GT(this=col("_f_gross"), expression=col("_f_cap")), exp.false())})
    paid = exp.cast(case([(col("_f_capped"), col("_f_cap"))], col("_f_gross")), dec(*gross))
    scale = max(max(_scale_of(q_) for q_, _ in modes), 0) if modes else 2
    inc_type = dec(gross[0] - gross[1] + scale + 1, scale)
    ways = [(exp.and_(exp.EQ(this=col("quantum"), expression=num(quantum)), exp.EQ(this=col("rounding"), expression=lit(mode))),
             exp.cast(arith.rounded(paid, gross, _scale_of(quantum), mode), inc_type)) for quantum, mode in modes]
    incentive = ways[0][1] if len(ways) == 1 else case(ways)

    def rounded(v: exp.Expression) -> exp.Expression:  # (one rounding, the rule's quantum and mode)
        each = [(w, exp.cast(arith.rounded(v, gross, _scale_of(quantum), mode), inc_type)) for (w, _), (quantum, mode) in zip(ways, modes)]
        return each[0][1] if len(each) == 1 else case(each)

    q = layer(q, "m7", {"_f_inc": incentive,
                        "_f_error": exp.func("COALESCE", col(errs), col("_f_err2"), col("_f_gerr")),
                        **(shares(shapes, arith, gross, rounded) if shapes.parts else {})})
    if shapes.parts or shapes.period:
        q = parts_paid(q, shapes, inc_type, order)
    return q


def _reason(tiers: int, shapes: Shapes = NO_SHAPES) -> exp.Expression:
    """A tier's reason (capped or not; limited by a period's total), or why none applies; a classification's
    notes lead."""
    picked = case([(col("_f_capped"), _of_tier("capped_reason", tiers))], _of_tier("reason", tiers))
    if shapes.period:
        picked = case([(col("_f_pcapped"), _cat(picked, col("_f_preas")))], picked)
    reason = case([(exp.not_(is_null(col("_f_gid"))), picked), (col("_f_excl"), col("excluded_reason"))], col("none_reason"))
    reason = case([(is_null(col("_f_note")), reason)], _cat(col("_f_note"), "; ", reason))
    if shapes.place or shapes.status:  # (a year outside a named policy's dates, a place outside or excluded: said alone)
        reason = case([(exp.not_(is_null(col("_f_shutr"))), col("_f_shutr"))], reason)
    return reason


def output(q: exp.Select, keep: tuple[str, ...], tiers: int, shapes: Shapes = NO_SHAPES) -> exp.Select:
    ok = is_null(col("_f_error"))
    results = {
        "policy": col("_f_p"),
        "policy_status": col("_f_status"),
        "eligible": exp.not_(is_null(col("_f_gid"))),
        "tier": col("_f_tier"),
        "rate": col("_f_rate"),
        "base_usd": col("_f_base"),
        "base_cny": col("_f_bcny"),
        "gross_cny": col("_f_gross"),
        "capped": col("_f_capped"),
        "incentive_cny": col(PAID) if shapes.parts or shapes.period else col("_f_inc"),
        "reason": _reason(tiers, shapes),
    }
    # the new shapes' columns after incentive_cny, as fdi batch writes them: each payer's part, the place group
    more = {payer_column(p): col(f"_f_payer{i}") for i, p in enumerate(shapes.payers)}
    more.update({"location_group": col("_f_lgrp")} if shapes.groups else {})
    at = list(results).index("incentive_cny") + 1
    results = dict([*list(results.items())[:at], *more.items(), *list(results.items())[at:]])
    outputs = [col(n) for n in (*INPUT_COLUMNS, *shapes.columns)] + [exp.column(n, quoted=True) for n in keep] \
        + [case([(ok, e)]).as_(exp.to_identifier(n)) for n, e in results.items()] + [col("_f_error").as_("error")]
    return exp.select(*outputs).from_(exp.Subquery(this=q, alias=exp.TableAlias(this=exp.to_identifier("scored"))))
