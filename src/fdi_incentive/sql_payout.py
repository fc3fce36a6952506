"""The payout layers of the compiled rule (see sql.py): base, tier, conversion, cap, one rounding,
reason; then the output columns, empty on a row with an error. As `frame.Scorer._rule`, `score`
and `_output`, from each policy's own numbers."""

from __future__ import annotations

from sqlglot import exp

from .engine import check_granted_rate
from .errors import InputError
from .frame import _scale_of
from .money import money_fmt
from .sql import BASE, BASE_CNY, INPUT_COLUMNS, Compiler, case, col, dec, lit, lookup, num, truth
from .sql_rule import _cat, _is_null, _layer, _on_policy


def _excluded(p) -> exp.Expression:
    """policy.exclusions.exclude(category, code): by category, or by a code prefix."""
    checks = [truth(col("_f_c"), p.exclusions.categories)]
    for prefix in p.exclusions.codes:
        code = exp.Substring(this=col("_f_xcode"), start=exp.Literal.number(1), length=exp.Literal.number(len(prefix)))
        checks.append(exp.func("COALESCE", exp.EQ(this=code, expression=lit(prefix)), exp.false()))
    return exp.or_(*checks)


def _passes(t, base: exp.Expression) -> exp.Expression:
    amount = num(t.threshold.amount)
    return exp.GT(this=base, expression=amount) if t.threshold.comparator == "gt" else exp.GTE(this=base, expression=amount)


def _applies(t) -> exp.Expression:
    return exp.true() if not t.categories else truth(col("_f_c"), t.categories)


def payout(c: Compiler, q: exp.Select, policies) -> exp.Select:
    o = c.o
    tiers = [(p, t) for p in policies for t in p.tiers]
    gid_of = {(p.id, t.id): i for i, (p, t) in enumerate(tiers)}

    def base(p) -> exp.Expression:
        counts = set(p.base.counts)
        parts = [exp.func("COALESCE", col(n), num(0)) for n, k in (("_f_paid", "equity"), ("_f_profit", "reinvested_profit"))
                 if k in counts]
        total = parts[0] if len(parts) == 1 else exp.Add(this=parts[0], expression=parts[1])
        return exp.cast(total, dec(*BASE))

    q = _layer(q, "l8", {
        "_f_base": _on_policy(c, base),
        "_f_conv": _on_policy(c, lambda p: exp.true() if (o.reading or p.conversion.default) == "converted" else exp.false()),
        "_f_excl": _on_policy(c, _excluded),
        "_f_kok": _on_policy(c, lambda p: truth(col("_f_k"), p.base.kinds)),
    })

    def gid(p) -> exp.Expression:
        ranked = sorted(enumerate(p.tiers), key=lambda it: (it[1].rate, it[0]), reverse=True)  # as engine.choose_tier
        return case([(exp.or_(col("_f_excl"), exp.not_(col("_f_kok"))), exp.null())]
                    + [(exp.and_(_applies(t), _passes(t, col("_f_base"))), exp.Literal.number(gid_of[(p.id, t.id)]))
                       for _, t in ranked])

    converted = c.mul(col("_f_base"), BASE, col("_f_e"), BASE_CNY)
    q = _layer(q, "l9", {
        "_f_gid": _on_policy(c, gid),
        "_f_bcny": case([(col("_f_conv"), converted)], exp.cast(col("_f_base"), dec(*BASE_CNY))),
        "_f_err2": case([(exp.and_(_is_null(col("_f_err1")), col("_f_conv"), _is_null(col("_f_e"))), col("_f_usderr"))]),
    })
    rate_of = {i: (o.rate if o.rate is not None else t.rate) for i, (_, t) in enumerate(tiers)}
    granted_err = {}
    if o.rate is not None:
        for i, (_, t) in enumerate(tiers):
            try:
                check_granted_rate(t, o.rate)
            except InputError as exc:
                granted_err[i] = str(exc)
    caps = {i: num(p.cap.amount, *c.gross) for i, (p, _) in enumerate(tiers) if p.cap.amount is not None}
    q = _layer(q, "l10", {
        "_f_rate": exp.cast(lookup(col("_f_gid"), {i: num(r) for i, r in rate_of.items()}), dec(*c.rate_type)),
        "_f_cap": exp.cast(lookup(col("_f_gid"), caps), dec(*c.gross)) if caps else exp.cast(exp.null(), dec(*c.gross)),
        "_f_gerr": lookup(col("_f_gid"), granted_err) if granted_err else exp.cast(exp.null(), "VARCHAR"),
    })
    gross = case([(_is_null(col("_f_gid")), num(0, *c.gross))], c.mul(col("_f_bcny"), BASE_CNY, col("_f_rate"), c.gross))
    q = _layer(q, "l11", {"_f_gross": exp.cast(gross, dec(*c.gross))})
    q = _layer(q, "l12", {"_f_capped": exp.func("COALESCE", exp.GT(this=col("_f_gross"), expression=col("_f_cap")), exp.false())})
    paid = exp.cast(case([(col("_f_capped"), col("_f_cap"))], col("_f_gross")), dec(*c.gross))
    ways = {(_scale_of(p.rounding.quantum), p.rounding.mode) for p in policies}
    scale = max(max(s for s, _ in ways), 0)
    inc_type = dec(c.gross[0] - c.gross[1] + scale + 1, scale)
    incentive = _on_policy(c, lambda p: exp.cast(c.rounded(paid, c.gross, _scale_of(p.rounding.quantum), p.rounding.mode), inc_type)) \
        if len(ways) > 1 else exp.cast(c.rounded(paid, c.gross, *next(iter(ways))), inc_type)
    q = _layer(q, "l13", {
        "_f_inc": incentive,
        "_f_error": exp.func("COALESCE", col("_f_err1"), col("_f_err2"), col("_f_gerr")),
    })
    return _output(c, q, policies, tiers, inc_type)


def _reasons(c: Compiler, policies, tiers) -> exp.Expression:
    """As `Scorer._output` (a tier's, capped or not) and `Scorer._rule` (why none)."""
    def tier_reason(capped: bool) -> dict:
        return {i: f"{t.label}: base {t.threshold.words} USD {money_fmt(t.threshold.amount)}"
                   + (f"; capped at CNY {money_fmt(p.cap.amount)}" if capped and p.cap.amount is not None else "")
                for i, (p, t) in enumerate(tiers)}

    def none_reason(p) -> exp.Expression:
        lowest = {}
        for category in ("manufacturing", "real_estate", "finance", "quasi_finance", "other"):
            applicable = [t for t in p.tiers if t.applies_to(category)]
            low = min(applicable, key=lambda t: t.threshold.amount, default=None)
            if low is not None:
                lowest[category] = f"no reward: base not {low.threshold.words} USD {money_fmt(low.threshold.amount)}"
        excluded = _cat("excluded: ", exp.func("REPLACE", col("_f_c"), lit("_"), lit("-")), f" ({p.exclusions.citation})")
        return case([(col("_f_excl"), excluded), (exp.not_(col("_f_kok")), lit("kind not rewarded"))], lookup(col("_f_c"), lowest))

    reason = case([(exp.and_(exp.not_(_is_null(col("_f_gid"))), col("_f_capped")), lookup(col("_f_gid"), tier_reason(True))),
                   (exp.not_(_is_null(col("_f_gid"))), lookup(col("_f_gid"), tier_reason(False)))],
                  _on_policy(c, none_reason))
    return case([(_is_null(col("_f_note")), reason)], _cat(col("_f_note"), "; ", reason))  # (a classification's notes lead)


def _output(c: Compiler, q: exp.Select, policies, tiers, inc_type) -> exp.Select:
    ok = _is_null(col("_f_error"))

    def result(e: exp.Expression) -> exp.Expression:
        return case([(ok, e)])

    results = {
        "policy": lookup(col("_f_p"), {i: p.id for i, p in enumerate(policies)}),
        "policy_status": c.status_of_year(col("_f_p"), col("year")),
        "eligible": exp.not_(_is_null(col("_f_gid"))),
        "tier": lookup(col("_f_gid"), {i: t.id for i, (_, t) in enumerate(tiers)}),
        "rate": col("_f_rate"),
        "base_usd": col("_f_base"),
        "base_cny": col("_f_bcny"),
        "gross_cny": col("_f_gross"),
        "capped": col("_f_capped"),
        "incentive_cny": col("_f_inc"),
        "reason": _reasons(c, policies, tiers),
    }
    outputs = [col(n) for n in INPUT_COLUMNS] + [exp.column(n, quoted=True) for n in c.o.keep] + [result(e).as_(n) for n, e in results.items()] + [col("_f_error").as_("error")]
    return exp.select(*outputs).from_(exp.Subquery(this=q, alias=exp.TableAlias(this=exp.to_identifier("scored"))))
