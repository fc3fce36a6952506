"""The compiled SQL's arithmetic for parts and caps over a period (see sql.py, sql_payout.py), there
only where a run's rules have them:

* parts: each part's share of the converted base, rounded once; under the cap their sum is held to
  the rounded cap, the parts paid in the order the text lists them: part k gets
  min(S_k, room) - min(S_k-1, room), S_k the sum of the first k shares;
* a cap over a period: over the rows of one project (a row without project_id is a project of its
  own) under one policy, in year order, from the first year of the policy's period caps, with A
  each row's amount: a row whose tier has a period cap over its year is paid min(cumsum(A), cap) -
  min(cumsum(A) before it, cap), a window SUM (what calc pays, which holds each year to what the
  years before left); where that is less than A the parts are paid within it, in order again.
"""

from __future__ import annotations

from sqlglot import exp

from .reference import Shapes
from .sql_base import BASE_CNY, Arith, case, col, dec, is_null, layer, lit, num

PAID = "_f_payout"  # the row's payout after every cap


def payer_column(payer: str) -> str:
    return f"incentive_{payer}_cny"


def shares(shapes: Shapes, arith: Arith, gross: tuple[int, int], rounded) -> dict[str, exp.Expression]:
    """Each part's share of the converted base, rounded once (NULL where the tier has no such part),
    and the cap rounded (the room the parts share when it binds)."""
    out = {f"_f_s{k}": rounded(arith.mul(col("_f_bcny"), BASE_CNY, col(f"_f_r{k}"), gross)) for k in range(1, shapes.parts + 1)}
    out["_f_rcap"] = rounded(col("_f_cap"))
    return out


def _least(a: exp.Expression, b: exp.Expression, t: exp.DataType) -> exp.Expression:
    """The smaller of two non-NULL values (LEAST skips NULLs in some engines and not in others)."""
    return exp.cast(case([(exp.LT(this=a.copy(), expression=b.copy()), a)], b), t.copy())


def parts_paid(q: exp.Select, shapes: Shapes, inc_type: exp.DataType, order: str | None) -> exp.Select:
    """The amount each row is paid after the parts' shares and the caps over a period, and each payer's part."""
    p, s = (int(e.this.name) for e in inc_type.expressions)
    amt = dec(p + 4, s)  # (room for a project's sum over its years)
    K = shapes.parts
    if K:
        cum = {k: exp.cast(_sum([exp.func("COALESCE", col(f"_f_s{j}"), num(0)) for j in range(1, k + 1)]), amt) for k in range(1, K + 1)}
        q = layer(q, "m8", {f"_f_c{k}": v for k, v in cum.items()})
        amount = case([(is_null(col("_f_r1")), exp.cast(col("_f_inc"), amt)),
                       (col("_f_capped"), _least(col(f"_f_c{K}"), exp.cast(col("_f_rcap"), amt), amt))], col(f"_f_c{K}"))
    else:
        amount = exp.cast(col("_f_inc"), amt)
    if shapes.period:
        applies = exp.and_(exp.not_(is_null(col("_f_pcap"))), is_null(col("_f_error")),
                           exp.Between(this=col("year"), low=col("_f_pfrom"), high=col("_f_pto")))
        project = exp.Nullif(this=exp.cast(col("project_id"), "VARCHAR"), expression=lit(""))
        q = layer(q, "m9", {"_f_amt": amount, "_f_papp": exp.func("COALESCE", applies, exp.false()), "_f_pk": project})
        # (every payout of the project under the policy from the first year of its period caps counts toward the
        # total, as calc counts them: the closed form above is then what calc pays, year by year)
        counts = exp.and_(is_null(col("_f_error")), exp.GTE(this=col("year"), expression=col("_f_pstart")))
        q = layer(q, "m10", {"_f_pa": case([(counts, col("_f_amt"))], num(0, *amt_type(amt)))})
        ordered = [exp.Ordered(this=col("year"), nulls_first=True)]
        if order:
            ordered.append(exp.Ordered(this=exp.column(order, quoted=True), nulls_first=True))
        window = exp.Window(this=exp.Sum(this=col("_f_pa")), partition_by=[col("_f_pk"), col("_f_p")],
                            order=exp.Order(expressions=ordered),
                            spec=exp.WindowSpec(kind="ROWS", start="UNBOUNDED", start_side="PRECEDING", end="CURRENT ROW"))
        # (a row without project_id is a project of its own: nothing before it)
        q = layer(q, "m11", {"_f_cum": exp.cast(case([(is_null(col("_f_pk")), col("_f_pa"))], window), amt)})
        cap = exp.cast(col("_f_pcap"), amt)
        before = exp.cast(exp.Sub(this=col("_f_cum"), expression=col("_f_pa")), amt)
        pay = exp.cast(exp.Sub(this=_least(col("_f_cum"), cap, amt), expression=_least(before, cap.copy(), amt)), amt)
        q = layer(q, "m12", {"_f_pay": case([(col("_f_papp"), pay)])})
        capped = exp.and_(col("_f_papp"), exp.LT(this=col("_f_pay"), expression=col("_f_amt")))
        q = layer(q, "m13", {"_f_pcapped": exp.func("COALESCE", capped, exp.false()),
                             PAID: case([(col("_f_papp"), col("_f_pay"))], col("_f_amt"))})
        room = case([(col("_f_pcapped"), col("_f_pay")), (col("_f_capped"), exp.cast(col("_f_rcap"), amt))]) if K else None
    else:
        q = layer(q, "m9", {PAID: amount})
        room = case([(col("_f_capped"), exp.cast(col("_f_rcap"), amt))]) if K else None
    if not K:
        return q
    q = layer(q, "m14", {"_f_room": room})
    paid = {}
    for k in range(1, K + 1):
        before = col(f"_f_c{k - 1}") if k > 1 else num(0)
        within = exp.cast(exp.Sub(this=_least(col(f"_f_c{k}"), col("_f_room"), amt),
                                  expression=_least(before, col("_f_room"), amt)), amt)
        paid[f"_f_q{k}"] = case([(is_null(col(f"_f_s{k}")), exp.null()), (is_null(col("_f_room")), exp.cast(col(f"_f_s{k}"), amt))], within)
    q = layer(q, "m15", paid)
    payers = {}
    for i, payer in enumerate(shapes.payers):
        mine = case([(exp.EQ(this=col(f"_f_y{k}"), expression=lit(payer)), col(f"_f_q{k}")) for k in range(1, K + 1)])
        payers[f"_f_payer{i}"] = exp.cast(exp.func("COALESCE", mine, num(0, 1, 0)), inc_type.copy())
    return layer(q, "m16", payers)


def amt_type(t: exp.DataType) -> tuple[int, int]:
    return tuple(int(e.this.name) for e in t.expressions)  # type: ignore[return-value]


def _sum(values: list[exp.Expression]) -> exp.Expression:
    out = values[0]
    for v in values[1:]:
        out = exp.Add(this=out, expression=v)
    return out
