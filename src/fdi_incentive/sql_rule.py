"""The rule as nested SELECTs (see sql.py): each layer adds the columns the next one needs, so
no engine computes a sub-expression twice inside a CASE. Steps and texts follow frame.py:
`Scorer._year`, `_kind`, `_class` (industry.classify), `_fx`, `_parse_amount`, `_rule`,
`score` and `_error_exprs`.
"""

from __future__ import annotations

from sqlglot import exp

from . import industry
from .money import FX_RATE_DECIMALS, MAX_AMOUNT, MAX_FX_RATE, MIN_FX_RATE, money_fmt, rate_str
from .policy import KIND_NAMES
from .sql import BASE, FIELD, FX, INPUT_COLUMNS, Compiler, case, col, dec, lit, lookup, num, truth
from .sql_text import WHITESPACE as WS
from .sql_text import decimal_text, normalise_name, py_repr, regexp_replace, strip

AMOUNT = (BASE[0] - 1, 2)  # one amount: below MAX_AMOUNT, to the cent (16, 2)


def _layer(inner: exp.Expression, alias: str, columns: dict[str, exp.Expression]) -> exp.Select:
    """SELECT *, <columns> FROM (inner) AS alias."""
    return exp.select(exp.Star(), *(e.as_(n) for n, e in columns.items())).from_(exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(alias))))


def _is_null(e: exp.Expression) -> exp.Expression:
    return exp.Is(this=e, expression=exp.null())


def _given(e: exp.Expression) -> exp.Expression:
    return exp.and_(exp.not_(_is_null(e)), exp.NEQ(this=e, expression=lit("")))


def _cat(*parts) -> exp.Expression:
    """Texts joined with ||: NULL if any part is."""
    out = parts[0] if isinstance(parts[0], exp.Expression) else lit(parts[0])
    for p in parts[1:]:
        out = exp.DPipe(this=out, expression=p if isinstance(p, exp.Expression) else lit(p))
    return out


def _invalid(field: str, shown: exp.Expression, expected: str) -> exp.Expression:
    """InputError's text: `field: 'value' is not valid; expected ...` with the value's repr."""
    if isinstance(expected, str):
        return _cat(f"{field}: ", shown, f" is not valid; expected {expected}")
    return _cat(f"{field}: ", shown, " is not valid; expected ", expected)


def _join(parts: list[exp.Expression]) -> exp.Expression:
    """The non-NULL texts joined by '; ', or NULL (as polars' concat_str with ignore_nulls)."""
    joined = _cat(*[exp.Coalesce(this=_cat("; ", p), expressions=[lit("")]) for p in parts])
    return exp.Nullif(this=exp.Substring(this=joined, start=exp.Literal.number(3)), expression=lit(""))


def _amount(c: Compiler, name: str) -> tuple[exp.Expression, exp.Expression]:
    """(the amount as DECIMAL(16, 2) or NULL, its error or NULL), as `money.parse_amount`."""
    x = col(name)
    frac = exp.Sub(this=x, expression=exp.Floor(this=x))
    not_cents = exp.NEQ(this=frac, expression=exp.cast(frac, dec(3, 2)))
    shown = _cat("'", decimal_text(x), "'")
    field = FIELD[name]
    negative = exp.LT(this=x, expression=num(0))
    huge = exp.GTE(this=x, expression=num(MAX_AMOUNT))
    err = case([(negative, _invalid(field, shown, "an amount of zero or more")),
                (huge, _invalid(field, shown, f"an amount below {money_fmt(MAX_AMOUNT)}")),
                (not_cents, _invalid(field, shown, "an amount to the cent (at most two decimal places)"))])
    value = case([(negative, exp.null()), (huge, exp.null()), (not_cents, exp.null())], exp.cast(x, dec(*AMOUNT)))
    return value, err


def _fx(c: Compiler) -> tuple[exp.Expression, exp.Expression]:
    """The row's own rate as DECIMAL(12, 8) or NULL, and its error, as `money.parse_rate`."""
    x = col("fx_rate")
    shown = _cat("'", decimal_text(x), "'")
    not_positive = exp.LTE(this=x, expression=num(0))
    huge = exp.GTE(this=x, expression=num(MAX_FX_RATE))
    too_fine = exp.NEQ(this=x, expression=exp.cast(x, dec(*FX)))
    err = case([(not_positive, _invalid("fx_rate", shown, "a positive number of CNY per unit, such as 7.1")),
                (huge, _invalid("fx_rate", shown, f"a rate below {rate_str(MAX_FX_RATE)}")),
                (too_fine, _invalid("fx_rate", shown, f"a rate of at least {rate_str(MIN_FX_RATE)}, with at most "
                                                      f"{FX_RATE_DECIMALS} decimals"))])
    return case([(not_positive, exp.null()), (huge, exp.null()), (too_fine, exp.null())], exp.cast(x, dec(*FX))), err


def rule_layers(c: Compiler) -> exp.Select:
    o, policies = c.o, [lp.policy for lp in c.policies]
    pidx, year_err = c.policy_of_year(col("year"))
    usd, usd_err = c.usd_rate(col("year"))
    paid, paid_err = _amount(c, "paid_in_usd")
    loans, loans_err = _amount(c, "shareholder_loans_usd")
    profit, profit_err = _amount(c, "reinvested_profit_usd")
    fx, fx_err = _fx(c)
    q = exp.select(*(col(n) for n in INPUT_COLUMNS), *(exp.column(n, quoted=True) for n in o.keep)).from_(exp.to_table(o.table))
    q = _layer(q, "l1", {
        "_f_p": pidx, "_f_yerr": year_err, "_f_usd": usd, "_f_usderr": usd_err,
        "_f_paid": paid, "_f_paiderr": paid_err, "_f_loanserr": loans_err, "_f_profit": profit, "_f_profiterr": profit_err,
        "_f_fx": fx, "_f_fxerr": fx_err,
        "_f_sec": strip(exp.cast(col("sector"), "VARCHAR")), "_f_cod": strip(exp.cast(col("industry_code"), "VARCHAR")),
        "_f_kin": strip(exp.cast(col("kind"), "VARCHAR")),
    })
    # kind, sector name, the code's letter and digits (industry.normalise_code)
    kind = case([(exp.not_(_given(col("_f_kin"))), lit("new"))], lookup(normalise_name(col("_f_kin")), dict(KIND_NAMES)))
    raw = exp.Upper(this=regexp_replace(col("_f_cod"), f"[{WS}.-]", ""))
    q = _layer(q, "l2", {
        "_f_k": kind,
        # a sector name (industry.sector_meaning): one of ours, else a GB/T 4754-2017 section or division name in Chinese
        "_f_byname": exp.Coalesce(this=lookup(normalise_name(col("_f_sec")), dict(industry.SECTOR_NAMES)), expressions=[
            lookup(regexp_replace(col("_f_sec"), f"[{WS}、,，]+", ""),
                   {k: industry.category_of_code(code)[0] for k, code in industry.gbt_names().items()})]),
        "_f_raw": raw, "_f_e": exp.Coalesce(this=col("_f_fx"), expressions=[col("_f_usd")]),
    })
    code_ok = exp.and_(exp.NEQ(this=col("_f_raw"), expression=lit("")),
                       exp.RegexpLike(this=col("_f_raw"), expression=lit("^[A-T]?([0-9]{2,4})?$")))
    letter = case([(exp.and_(code_ok, exp.RegexpLike(this=col("_f_raw"), expression=lit("^[A-T]"))),
                    exp.Substring(this=col("_f_raw"), start=exp.Literal.number(1), length=exp.Literal.number(1)))])
    q = _layer(q, "l3", {"_f_cok": code_ok, "_f_let": letter})
    digits = case([(_is_null(col("_f_let")), col("_f_raw"))], exp.Substring(this=col("_f_raw"), start=exp.Literal.number(2)))
    q = _layer(q, "l4", {"_f_dig": digits})
    div = exp.Substring(this=col("_f_dig"), start=exp.Literal.number(1), length=exp.Literal.number(2))
    divisions = industry.divisions()
    q = _layer(q, "l5", {"_f_div": div, "_f_dsec": lookup(div, {d: v[0] for d, v in divisions.items()})})
    shown_code = py_repr(col("_f_cod"))
    sections = sorted(industry.sections())
    has_digits = exp.NEQ(this=col("_f_dig"), expression=lit(""))
    expected = case([
        (exp.not_(col("_f_cok")), lit("a GB/T 4754-2017 code such as C, 36, C3670, K7010 or 7212")),
        (exp.and_(exp.not_(_is_null(col("_f_let"))), exp.not_(truth(col("_f_let"), sections))),
         lit(f"a section letter from {sections[0]} to {sections[-1]}")),
        (exp.and_(has_digits, _is_null(col("_f_dsec"))), lit("a code whose first two digits are a GB/T 4754-2017 division (01-97)")),
        (exp.and_(has_digits, exp.not_(_is_null(col("_f_let"))), exp.NEQ(this=col("_f_let"), expression=col("_f_dsec"))),
         _cat("division ", col("_f_div"), " (", lookup(col("_f_div"), {d: v[2] for d, v in divisions.items()}),
              ") to sit in section ", col("_f_dsec"), ", not ", col("_f_let"))),
    ])
    code_err = case([(exp.not_(_is_null(expected)), _invalid("industry_code", shown_code, expected))])
    section = exp.Coalesce(this=col("_f_dsec"), expressions=[col("_f_let")])
    four = exp.EQ(this=exp.Length(this=col("_f_dig")), expression=exp.Literal.number(4))
    by_code = case([(exp.and_(four, truth(col("_f_dig"), sorted(industry.QUASI_FINANCE_CLASSES))), lit("quasi_finance"))],
                   lookup(section, dict(industry.SECTION_CATEGORY), lit("other")))
    q = _layer(q, "l6", {"_f_cerr": code_err, "_f_code": _cat(section, col("_f_dig")), "_f_bycode": by_code,
                         "_f_amb": exp.and_(four, truth(col("_f_dig"), sorted(industry.AMBIGUOUS_CLASSES)))})
    sec_given, cod_given = _given(col("_f_sec")), _given(col("_f_cod"))
    finance = ["finance", "quasi_finance"]
    agree = exp.or_(exp.EQ(this=col("_f_byname"), expression=col("_f_bycode")), col("_f_amb"),
                    exp.and_(truth(col("_f_byname"), finance), truth(col("_f_bycode"), finance)))
    shown_sector = py_repr(col("_f_sec"))
    sector_expected = case([
        (exp.and_(_is_null(col("_f_byname")), exp.not_(cod_given)), lit(industry.unknown_sector_text())),
        (exp.and_(cod_given, _is_null(col("_f_cerr")), exp.not_(_is_null(col("_f_byname"))), exp.not_(agree)),
         _cat("a sector that agrees with industry code ", col("_f_code"), " (",
              exp.func("REPLACE", col("_f_bycode"), lit("_"), lit("-")), ")")),
    ])
    class_err = case([
        (exp.and_(exp.not_(sec_given), exp.not_(cod_given)), lit("sector: missing; expected a sector name or a GB/T 4754-2017 industry code")),
        (exp.and_(sec_given, _is_null(col("_f_byname")), exp.not_(cod_given)), _invalid("sector", shown_sector, industry.unknown_sector_text())),
        (exp.and_(cod_given, exp.not_(_is_null(col("_f_cerr")))), col("_f_cerr")),
        (exp.and_(sec_given, exp.not_(_is_null(sector_expected))), _invalid("sector", shown_sector, sector_expected)),
    ])
    kind_err = case([(_is_null(col("_f_k")), _invalid("kind", py_repr(exp.cast(col("kind"), "VARCHAR")), "one of new, capital-increase"))])
    missing = case([(exp.and_(_is_null(col("paid_in_usd")), _is_null(col("_f_profit"))),
                     lit("paid_in_usd: missing; expected the foreign capital paid in during the year"))])
    first = _join([col("_f_yerr"), kind_err, class_err, col("_f_paiderr"), missing, col("_f_loanserr"), col("_f_profiterr"), col("_f_fxerr")])
    q = _layer(q, "l7", {"_f_err1": first,
                         "_f_c": case([(exp.and_(sec_given, exp.not_(_is_null(col("_f_byname")))), col("_f_byname"))], col("_f_bycode")),
                         "_f_note": _class_notes(sec_given, cod_given),
                         "_f_xcode": case([(cod_given, col("_f_code"))])})
    return _payout(c, q, policies)




def _class_notes(sec_given: exp.Expression, cod_given: exp.Expression) -> exp.Expression:
    """The notes `industry.classify` makes of a sector and a code (NULL for none), as batch's reason leads with them."""
    four = exp.EQ(this=exp.Length(this=col("_f_dig")), expression=exp.Literal.number(4))
    quasi = exp.and_(four, truth(col("_f_dig"), sorted(industry.QUASI_FINANCE_CLASSES)))
    by_code = case([(quasi, _cat(col("_f_code"), ": class ", col("_f_dig"), " is where quasi-finance (类金融) organisations sit")),
                    (col("_f_amb"), lookup(col("_f_dig"), dict(industry.AMBIGUOUS_CLASSES)))])
    known = exp.not_(_is_null(col("_f_byname")))
    decides = _cat("sector '", col("_f_sec"), "' is not a sector name we know: the industry code ", col("_f_code"), " decides")
    return case([
        (exp.not_(cod_given), exp.null()),
        (exp.and_(sec_given, exp.not_(known)),
         case([(_is_null(by_code), decides)], _cat(decides, "; ", by_code))),
        (exp.and_(sec_given, col("_f_amb")), _cat("the sector given ('", col("_f_sec"), "') decides: ",
                                                  lookup(col("_f_dig"), dict(industry.AMBIGUOUS_CLASSES)))),
    ], by_code)


def _on_policy(c: Compiler, make) -> exp.Expression:
    """CASE over the row's policy of what ``make(policy)`` gives for each."""
    if len(c.policies) == 1:
        return make(c.policies[0].policy)
    return case([(exp.EQ(this=col("_f_p"), expression=exp.Literal.number(i)), make(lp.policy)) for i, lp in enumerate(c.policies)])


def _payout(c: Compiler, q: exp.Select, policies) -> exp.Select:
    from .sql_payout import payout

    return payout(c, q, policies)
