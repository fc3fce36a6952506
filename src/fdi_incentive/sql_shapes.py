"""The compiled SQL's layers for the new shapes of rule (see sql.py), each there only where a run
needs it (`reference.Shapes`): the optional input columns read as `fdi batch` reads them (location,
the flags high_tech, hnte and priority, spent_usd), the project's place as each policy sees it
(the most precise code the policy lists over it: district, city, province), the flags the policy
asks about, and why a row pays nothing before any tier is tried (a year outside a named policy's
dates, a place outside the area or excluded).

The columns they add, read by sql_payout.py: `_f_errs` (the row's first errors), `_f_grp` (the
place group), `_f_flags` (the flags, masked), `_f_spent` (the amount spent), `_f_shutr` (why
nothing is paid, before any tier) and `_f_lgrp` (the location_group output).
"""

from __future__ import annotations

from sqlglot import exp

from .money import _NO, _YES
from .reference import Shapes
from .rules import FLAGS
from .sql_base import _cat, case, col, given, is_null, layer, lit, ref
from .sql_cells import _amount, _invalid, join_errors
from .sql_text import WHITESPACE as WS
from .sql_text import escaped, head, quoted_text, regexp_replace, repr_of, strip

# a flag's cell as money.parse_flag reads it (stripped, lower case; empty is no), with its error's words
TRUE_WORDS = tuple(sorted(_YES))
FALSE_WORDS = tuple(sorted(_NO))
FLAG_EXPECTED = "yes or no: true/false, 1/0, yes/no, 是/否"
# full-width letters and digits, read as ASCII (as the place resolver reads them)
_WIDE = "".join(chr(c) for c in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)])
_NARROW = "".join(chr(c - 0xFEE0) for c in map(ord, _WIDE))


def year_columns(shapes: Shapes) -> dict[str, str]:
    """The columns of fdi_year the new shapes read, each with the name it takes in the query."""
    names = {}
    if shapes.status:
        names["status_reason"] = "_f_sreason"
    if shapes.flags:
        names["flag_mask"] = "_f_mask"
    if shapes.spent:
        names["spent_base"] = "_f_spentb"
    if shapes.period:
        names["period_from"] = "_f_pstart"
    if shapes.place:
        names.update(place="_f_hasplace", place_others="_f_others", place_missing="_f_pmissing", place_vague="_f_pvague",
                     place_any="_f_pany")
    return names


def _words(v: exp.Expression, words) -> exp.Expression:
    return exp.In(this=v, expressions=[lit(w) for w in words])


def shaped(q: exp.Select, shapes: Shapes, quoted_words: dict[str, str]) -> exp.Select:
    """The layers of the new shapes over `sql_cells.cells`' rows (their `_f_err1`, `_f_p`, the fdi_year
    columns of `year_columns`)."""
    cols = shapes.columns
    flags = [f for f in FLAGS if f in cols]
    errors: list[exp.Expression] = [col("_f_err1")]
    first: dict[str, exp.Expression] = {}
    raw = {"loc": exp.cast(col("location"), "VARCHAR")} if shapes.names else {}
    raw.update({f"fl{i}": exp.cast(exp.column(f), "VARCHAR") for i, f in enumerate(flags)})
    for i, f in enumerate(flags):
        first[f"_f_fv{i}"] = exp.Lower(this=strip(raw[f"fl{i}"]))
    if "spent_usd" in cols:
        first["_f_spent"], first["_f_spenterr"] = _amount("spent_usd")
    if shapes.names:
        first["_f_loc"] = strip(raw["loc"])
        first["_f_lkey0"] = exp.func("TRANSLATE", regexp_replace(raw["loc"], f"[{WS}]+", ""), lit(_WIDE), lit(_NARROW))
    # what a message quotes of a value (its repr, cut as text.quoted cuts it): three layers, as sql_cells quotes
    first.update({f"_f_h{n}": head(v) for n, v in raw.items()})
    first.update({f"_f_n{n}": exp.Length(this=v) for n, v in raw.items()})
    q = layer(q, "s1", first)
    if raw:
        q = layer(q, "s2", {f"_f_e{n}": escaped(col(f"_f_h{n}")) for n in raw})
        q = layer(q, "s3", {f"_f_r{n}": repr_of(col(f"_f_e{n}")) for n in raw})
    more: dict[str, exp.Expression] = {}
    for i, f in enumerate(flags):
        v = col(f"_f_fv{i}")
        ok = exp.or_(is_null(v), exp.EQ(this=v, expression=lit("")), _words(v, TRUE_WORDS), _words(v, FALSE_WORDS))
        more[f"_f_ferr{i}"] = case([(exp.not_(ok), _invalid(f, quoted_text(col(f"_f_rfl{i}"), col(f"_f_nfl{i}")), lit(FLAG_EXPECTED)))])
        more[f"_f_fon{i}"] = exp.func("COALESCE", _words(v, TRUE_WORDS), exp.false())
        errors.append(col(f"_f_ferr{i}"))
    if shapes.names:
        english = exp.RegexpLike(this=col("_f_lkey0"), expression=lit("^[A-Za-z][A-Za-z.'’-]*$"))
        more["_f_lkey"] = case([(english, regexp_replace(exp.Lower(this=col("_f_lkey0")), "[^a-z]", ""))], col("_f_lkey0"))
        more["_f_lgiven"] = given(col("_f_loc"))
    if "spent_usd" in cols:
        errors.append(col("_f_spenterr"))
    joins = []
    if shapes.names:
        joins.append(("fdi_place_name", "pn", exp.EQ(this=ref("pn", "name"), expression=ref("s4", "_f_lkey")),
                      {"code": "_f_lcode", "error": "_f_lerr0"}))
    q = layer(q, "s4", more, joins)
    if shapes.flags:
        bits = [case([(col(f"_f_fon{flags.index(f)}"), exp.Literal.number(1 << i))], exp.Literal.number(0))
                for i, f in enumerate(FLAGS) if f in flags]
        total = bits[0] if bits else exp.Literal.number(0)
        for b in bits[1:]:
            total = exp.Add(this=total, expression=b)
        masked = exp.BitwiseAnd(this=exp.Paren(this=total), expression=exp.func("COALESCE", col("_f_mask"), exp.Literal.number(0)))
    if shapes.names:
        shown = quoted_text(col("_f_rloc"), col("_f_nloc"))
        all_digits = exp.RegexpLike(this=col("_f_lkey"), expression=lit("^[0-9]+$"))
        loc_err = case([(exp.or_(exp.not_(col("_f_lgiven")), exp.and_(exp.not_(is_null(col("_f_lcode"))), is_null(col("_f_lerr0")))),
                         exp.null()),
                        (exp.not_(is_null(col("_f_lerr0"))), _invalid("location", shown, col("_f_lerr0"))),
                        (all_digits, _invalid("location", shown, lit(quoted_words["code"])))],
                       _invalid("location", shown, lit(quoted_words["place"])))
        errors.append(col("_f_lerr"))
        code = col("_f_lcode")
        at = [code, _cat(exp.Substring(this=code, start=exp.Literal.number(1), length=exp.Literal.number(4)), "00"),
              _cat(exp.Substring(this=code, start=exp.Literal.number(1), length=exp.Literal.number(2)), "0000")]
        q = layer(q, "s5", {"_f_lerr": loc_err, **({"_f_flags": masked} if shapes.flags else {}),
                            "_f_lc2": at[1], "_f_lc3": at[2]},
                  [(("fdi_place", f"pl{i}", exp.and_(exp.EQ(this=ref(f"pl{i}", "policy"), expression=ref("s5", "_f_p")),
                                                    exp.EQ(this=ref(f"pl{i}", "code"), expression=ref("s5", c))),
                     {"state": f"_f_st{i}", "grp": f"_f_gr{i}", "reason": f"_f_rs{i}"}))
                   for i, c in ((1, "_f_lcode"), (2, "_f_lc2"), (3, "_f_lc3"))]
                  + ([("fdi_place_code", "pc", exp.EQ(this=ref("pc", "code"), expression=ref("s5", "_f_lcode")), {"name": "_f_lname"})]
                     if shapes.groups else []))
        pick = [(exp.not_(is_null(col(f"_f_st{i}"))), i) for i in (1, 2, 3)]
        state = case([(c, col(f"_f_st{i}")) for c, i in pick], lit("outside"))
        group = case([(c, col(f"_f_gr{i}")) for c, i in pick], lit(""))
        why = case([(c, col(f"_f_rs{i}")) for c, i in pick])
        q = layer(q, "s6", {"_f_pstate": state, "_f_pgroup": group, "_f_preason": why})
    elif shapes.flags:
        q = layer(q, "s5", {"_f_flags": masked})
    if shapes.place:
        q = _placed(q, shapes, errors)
    else:
        q = layer(q, "s7", {"_f_errs": join_errors(errors),
                            **({"_f_shutr": col("_f_sreason")} if shapes.status else {})})
    return q


def _placed(q: exp.Select, shapes: Shapes, errors: list[exp.Expression]) -> exp.Select:
    """The place as the year's policy sees it (placing.where): its group, whether it is outside or
    excluded, and the policy's errors (no place given where the threshold depends on it; a place in
    none of the groups)."""
    has = exp.func("COALESCE", col("_f_hasplace"), exp.false())
    given_ = exp.and_(col("_f_lgiven"), is_null(col("_f_lerr"))) if shapes.names else exp.false()
    state = case([(exp.not_(has), lit("in")), (exp.not_(given_), lit("in"))], col("_f_pstate") if shapes.names else lit("in"))
    group = case([(exp.not_(has), lit("")), (exp.not_(given_), col("_f_others"))], col("_f_pgroup") if shapes.names else lit(""))
    missing = case([(exp.and_(has, exp.not_(col("_f_lgiven")) if shapes.names else exp.true()), col("_f_pmissing"))])
    vague = exp.null()
    if shapes.names and shapes.groups:
        vague = case([(exp.and_(has, given_, exp.EQ(this=col("_f_pstate"), expression=lit("in")),
                                exp.EQ(this=col("_f_pgroup"), expression=lit("")), exp.not_(is_null(col("_f_pvague")))),
                       _invalid("location", _cat("'", col("_f_lname"), "'"), col("_f_pvague")))])
    q = layer(q, "s7", {"_f_state": state, "_f_pgrp": group, "_f_perr": exp.func("COALESCE", missing, vague)})
    shut = [(exp.not_(is_null(col("_f_sreason"))), col("_f_sreason"))] if shapes.status else []
    shut += [(exp.EQ(this=col("_f_state"), expression=lit("outside")), _cat("outside the area of ", col("_f_p")))]
    if shapes.names:
        shut += [(exp.EQ(this=col("_f_state"), expression=lit("excluded")), col("_f_preason"))]
    inside = exp.EQ(this=col("_f_state"), expression=lit("in"))
    # (the policy's error of a place, as the year's error of a rate, where the cells have none)
    return layer(q, "s8", {"_f_errs": exp.func("COALESCE", join_errors(errors), col("_f_perr")), "_f_shutr": case(shut),
                           # (the rule of the place's group; where the place pays nothing, a rule of the policy's that
                           # says what counts toward the base)
                           "_f_grp": case([(inside, col("_f_pgrp"))], exp.func("COALESCE", col("_f_pany"), lit(""))),
                           "_f_lgrp": case([(exp.and_(inside.copy(), exp.NEQ(this=col("_f_pgrp"), expression=lit(""))), col("_f_pgrp"))])})
