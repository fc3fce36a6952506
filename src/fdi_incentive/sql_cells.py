"""The compiled SQL's first layers (see sql.py): each cell read as `fdi batch` reads it, with the
same error texts, and classified by joining the reference tables (reference.py): the year's
policy and rate, the kind, the sector name, the code's division, section and class.

Each layer is a nested SELECT adding the columns the next one needs, so no engine computes a
sub-expression twice inside a CASE.
"""

from __future__ import annotations

from sqlglot import exp

from . import industry
from .money import FX_RATE_DECIMALS, MAX_AMOUNT, MAX_FX_RATE, MIN_FX_RATE, YEARS, money_fmt, rate_str
from .sql_base import AMOUNT, FIELD, FX, INPUT_COLUMNS, _cat, case, col, dec, given, is_null, layer, lit, num, ref
from .sql_text import WHITESPACE as WS
from .sql_text import decimal_text, escaped, head, normalise_name, quoted_text, regexp_replace, repr_of, strip


# the values a message quotes (their repr, cut as text.quoted cuts it): the kind as given, the sector and code stripped
QUOTED = {"kin": exp.cast(col("kind"), "VARCHAR"), "sec": col("_f_sec"), "cod": col("_f_cod")}


def _quoted(name: str) -> exp.Expression:
    return quoted_text(col(f"_f_r{name}"), col(f"_f_n{name}"))


def _invalid(field: str, shown: exp.Expression, expected: str | exp.Expression) -> exp.Expression:
    """InputError's text: `field: 'value' is not valid; expected ...` with the value's repr."""
    return _cat(f"{field}: ", shown, " is not valid; expected ", expected)


def join_errors(parts: list[exp.Expression]) -> exp.Expression:
    """The non-NULL texts joined by '; ', or NULL (as polars' concat_str with ignore_nulls)."""
    joined = _cat(*[exp.Coalesce(this=_cat("; ", p), expressions=[lit("")]) for p in parts])
    return exp.Nullif(this=exp.Substring(this=joined, start=exp.Literal.number(3)), expression=lit(""))


def _amount(name: str) -> tuple[exp.Expression, exp.Expression]:
    """(the amount as DECIMAL(16, 2) or NULL, its error or NULL), as `money.parse_amount`."""
    x = col(name)
    frac = exp.Sub(this=x, expression=exp.Floor(this=x))
    not_cents = exp.NEQ(this=frac, expression=exp.cast(frac, dec(3, 2)))
    shown = _cat("'", decimal_text(x), "'")
    field = FIELD[name]
    negative = exp.LT(this=x, expression=num(0))
    huge = exp.GTE(this=x, expression=num(MAX_AMOUNT))
    err = case([(negative, _invalid(field, shown, lit("an amount of zero or more"))),
                (huge, _invalid(field, shown, lit(f"an amount below {money_fmt(MAX_AMOUNT)}"))),
                (not_cents, _invalid(field, shown, lit("an amount to the cent (at most two decimal places)")))])
    value = case([(negative, exp.null()), (huge, exp.null()), (not_cents, exp.null())], exp.cast(x, dec(*AMOUNT)))
    return value, err


def _fx() -> tuple[exp.Expression, exp.Expression]:
    """The row's own rate as DECIMAL(12, 8) or NULL, and its error, as `money.parse_rate`."""
    x = col("fx_rate")
    shown = _cat("'", decimal_text(x), "'")
    not_positive = exp.LTE(this=x, expression=num(0))
    huge = exp.GTE(this=x, expression=num(MAX_FX_RATE))
    too_fine = exp.NEQ(this=x, expression=exp.cast(x, dec(*FX)))
    err = case([(not_positive, _invalid("fx_rate", shown, lit("a positive number of CNY per unit, such as 7.1"))),
                (huge, _invalid("fx_rate", shown, lit(f"a rate below {rate_str(MAX_FX_RATE)}"))),
                (too_fine, _invalid("fx_rate", shown, lit(f"a rate of at least {rate_str(MIN_FX_RATE)}, with at most "
                                                          f"{FX_RATE_DECIMALS} decimals")))])
    return case([(not_positive, exp.null()), (huge, exp.null()), (too_fine, exp.null())], exp.cast(x, dec(*FX))), err


def _year_error() -> exp.Expression:
    """The year's error, as `money.parse_year` and `policy_for_year` give it (the latter from fdi_year)."""
    year = col("year")
    shown = _cat("year: '", exp.cast(year, "VARCHAR"), "' is not valid; expected ")
    return case([
        (is_null(year), lit("year: missing; expected a calendar year such as 2024")),
        (exp.not_(exp.Between(this=year, low=exp.Literal.number(1000), high=exp.Literal.number(9999))),
         _cat(shown, lit("a calendar year such as 2024 (or 2024年)"))),
        (exp.not_(exp.Between(this=year, low=exp.Literal.number(YEARS.start), high=exp.Literal.number(YEARS.stop - 1))),
         _cat(shown, lit(f"a year from {YEARS.start} to {YEARS.stop - 1}"))),
    ], col("_f_yerr0"))


def cells(source: exp.Expression, keep: tuple[str, ...], columns: tuple[str, ...] = (),
          year_columns: dict[str, str] | None = None) -> exp.Select:
    """From the input table to each row's typed values, category, code and the errors of its cells.
    ``columns``: the table's optional columns (reference.OPTIONAL_COLUMNS, read by sql_shapes.py);
    ``year_columns``: more columns of fdi_year to join, each with the name it takes."""
    paid, paid_err = _amount("paid_in_usd")
    _loans, loans_err = _amount("shareholder_loans_usd")
    profit, profit_err = _amount("reinvested_profit_usd")
    fx, fx_err = _fx()
    q = exp.select(*(col(n) for n in (*INPUT_COLUMNS, *columns)), *(exp.column(n, quoted=True) for n in keep)).from_(source)
    sec, cod, kin = (strip(exp.cast(col(n), "VARCHAR")) for n in ("sector", "industry_code", "kind"))
    q = layer(q, "l1", {
        "_f_paid": paid, "_f_paiderr": paid_err, "_f_loanserr": loans_err, "_f_profit": profit,
        "_f_profiterr": profit_err, "_f_fx": fx, "_f_fxerr": fx_err, "_f_sec": sec, "_f_cod": cod, "_f_kin": kin,
    }, [("fdi_year", "y", exp.EQ(this=ref("y", "year"), expression=ref("l1", "year")),
         {"policy": "_f_p", "policy_status": "_f_status", "usd_rate": "_f_usd", "usd_error": "_f_usderr",
          "year_error": "_f_yerr0", **(year_columns or {})})])
    # the keys the sector name and the kind are looked up by; the code's letters and digits (industry.normalise_code)
    q = layer(q, "l2", {
        "_f_yerr": _year_error(), "_f_kkey": normalise_name(col("_f_kin")), "_f_nkey": normalise_name(col("_f_sec")),
        "_f_gkey": regexp_replace(col("_f_sec"), f"[{WS}、,，]+", ""),
        "_f_raw": exp.Upper(this=regexp_replace(col("_f_cod"), f"[{WS}.-]", "")),
        "_f_e": exp.Coalesce(this=col("_f_fx"), expressions=[col("_f_usd")]),
        # what a message quotes of the kind (as given), the sector and the code (stripped): see `_quoted`
        **{f"_f_h{n}": head(v) for n, v in QUOTED.items()}, **{f"_f_n{n}": exp.Length(this=v) for n, v in QUOTED.items()},
    })
    code_ok = exp.and_(exp.NEQ(this=col("_f_raw"), expression=lit("")),
                       exp.RegexpLike(this=col("_f_raw"), expression=lit("^[A-T]?([0-9]{2,4})?$")))
    letter = case([(exp.and_(code_ok, exp.RegexpLike(this=col("_f_raw"), expression=lit("^[A-T]"))),
                    exp.Substring(this=col("_f_raw"), start=exp.Literal.number(1), length=exp.Literal.number(1)))])
    named = {"category": "_f_byname1", "code": "_f_named1"}
    q = layer(q, "l3", {"_f_cok": code_ok, "_f_let": letter}, [
        ("fdi_kind", "kn", exp.EQ(this=ref("kn", "kind_key"), expression=ref("l3", "_f_kkey")), {"kind": "_f_kfound"}),
        ("fdi_sector_name", "n1", exp.and_(exp.EQ(this=ref("n1", "key_kind"), expression=lit("name")),
                                           exp.EQ(this=ref("n1", "name_key"), expression=ref("l3", "_f_nkey"))), named),
        ("fdi_sector_name", "n2", exp.and_(exp.EQ(this=ref("n2", "key_kind"), expression=lit("gbt")),
                                           exp.EQ(this=ref("n2", "name_key"), expression=ref("l3", "_f_gkey"))),
         {"category": "_f_byname2", "code": "_f_named2"}),
    ])
    digits = case([(is_null(col("_f_let")), col("_f_raw"))], exp.Substring(this=col("_f_raw"), start=exp.Literal.number(2)))
    kind = case([(exp.not_(given(col("_f_kin"))), lit("new"))], col("_f_kfound"))
    q = layer(q, "l4", {"_f_dig": digits, "_f_k": kind,
                        "_f_byname": exp.Coalesce(this=col("_f_byname1"), expressions=[col("_f_byname2")]),
                        "_f_named": exp.Coalesce(this=col("_f_named1"), expressions=[col("_f_named2")])})
    div = exp.Substring(this=col("_f_dig"), start=exp.Literal.number(1), length=exp.Literal.number(2))
    four = exp.EQ(this=exp.Length(this=col("_f_dig")), expression=exp.Literal.number(4))
    # a value's escapes, only where a message may quote it: a kind we do not know, a sector we do not know or
    # given with a code, a code (the few rows with an error; the others skip the work)
    quoted_when = {"kin": is_null(col("_f_k")), "sec": exp.or_(is_null(col("_f_byname")), given(col("_f_cod"))),
                   "cod": given(col("_f_cod"))}
    q = layer(q, "l5", {"_f_div": div, "_f_four": four,
                        **{f"_f_e{n}": case([(quoted_when[n], escaped(col(f"_f_h{n}")))]) for n in QUOTED}})
    q = layer(q, "l5r", {f"_f_r{n}": repr_of(col(f"_f_e{n}")) for n in QUOTED})
    q = layer(q, "l6", {}, [
        ("fdi_division", "d", exp.EQ(this=ref("d", "division"), expression=ref("l6", "_f_div")),
         {"section": "_f_dsec", "name": "_f_dname"}),
        ("fdi_class", "cl", exp.and_(ref("l6", "_f_four"), exp.EQ(this=ref("cl", "class"), expression=ref("l6", "_f_dig"))),
         {"category": "_f_clcat", "note": "_f_clnote", "ambiguous": "_f_amb0"}),
    ])
    q = layer(q, "l7", {"_f_sect": exp.Coalesce(this=col("_f_dsec"), expressions=[col("_f_let")])}, [])
    q = layer(q, "l8", {}, [("fdi_section", "se", exp.EQ(this=ref("se", "section"), expression=ref("l8", "_f_sect")),
                             {"category": "_f_secat"})])
    return _classified(q)


def _classified(q: exp.Select) -> exp.Select:
    """The code's error and category, the sector's, their agreement, the notes, the first errors."""
    shown_code = _quoted("cod")
    sections = sorted(industry.sections())
    has_digits = exp.NEQ(this=col("_f_dig"), expression=lit(""))
    expected = case([
        (exp.not_(col("_f_cok")), lit("a GB/T 4754-2017 code such as C, 36, C3670, K7010 or 7212")),
        (exp.and_(exp.not_(is_null(col("_f_let"))), is_null(col("_f_secat"))),
         lit(f"a section letter from {sections[0]} to {sections[-1]}")),
        (exp.and_(has_digits, is_null(col("_f_dsec"))), lit("a code whose first two digits are a GB/T 4754-2017 division (01-97)")),
        (exp.and_(has_digits, exp.not_(is_null(col("_f_let"))), exp.NEQ(this=col("_f_let"), expression=col("_f_dsec"))),
         _cat("division ", col("_f_div"), " (", col("_f_dname"), ") to sit in section ", col("_f_dsec"), ", not ", col("_f_let"))),
    ])
    amb = exp.Coalesce(this=col("_f_amb0"), expressions=[exp.false()])
    by_code = case([(exp.and_(exp.not_(is_null(col("_f_clcat"))), exp.not_(amb)), col("_f_clcat"))],
                   exp.Coalesce(this=col("_f_secat"), expressions=[lit("other")]))
    q = layer(q, "l9", {"_f_cerr": case([(exp.not_(is_null(expected)), _invalid("industry_code", shown_code, expected))]),
                        "_f_code": _cat(col("_f_sect"), col("_f_dig")), "_f_bycode": by_code, "_f_amb": amb})
    sec_given, cod_given = given(col("_f_sec")), given(col("_f_cod"))
    finance = [lit("finance"), lit("quasi_finance")]
    agree = exp.or_(exp.EQ(this=col("_f_byname"), expression=col("_f_bycode")), col("_f_amb"),
                    exp.and_(exp.In(this=col("_f_byname"), expressions=finance), exp.In(this=col("_f_bycode"), expressions=finance)))
    shown_sector = _quoted("sec")
    sector_expected = case([
        (exp.and_(is_null(col("_f_byname")), exp.not_(cod_given)), lit(industry.unknown_sector_text())),
        (exp.and_(cod_given, is_null(col("_f_cerr")), exp.not_(is_null(col("_f_byname"))), exp.not_(agree)),
         _cat("a sector that agrees with industry code ", col("_f_code"), " (",
              exp.func("REPLACE", col("_f_bycode"), lit("_"), lit("-")), ")")),
    ])
    class_err = case([
        (exp.and_(exp.not_(sec_given), exp.not_(cod_given)), lit("sector: missing; expected a sector name or a GB/T 4754-2017 industry code")),
        (exp.and_(cod_given, exp.not_(is_null(col("_f_cerr")))), col("_f_cerr")),
        (exp.and_(sec_given, exp.not_(is_null(sector_expected))), _invalid("sector", shown_sector, sector_expected)),
    ])
    kind_err = case([(is_null(col("_f_k")), _invalid("kind", _quoted("kin"), lit("one of new, capital-increase")))])
    missing = case([(exp.and_(is_null(col("paid_in_usd")), is_null(col("_f_profit"))),
                     lit("paid_in_usd: missing; expected the foreign capital paid in during the year"))])
    first = join_errors([col("_f_yerr"), kind_err, class_err, col("_f_paiderr"), missing, col("_f_loanserr"), col("_f_profiterr"),
                         col("_f_fxerr")])
    category = case([(exp.and_(sec_given, exp.not_(is_null(col("_f_byname")))), col("_f_byname"))], col("_f_bycode"))
    # the code a policy's excluded codes are tested against: the code given, else the one a sector name names
    xcode = case([(cod_given, col("_f_code"))], col("_f_named"))
    return layer(q, "l10", {"_f_err1": first, "_f_c": category, "_f_note": _class_notes(sec_given, cod_given), "_f_xcode": xcode})


def _class_notes(sec_given: exp.Expression, cod_given: exp.Expression) -> exp.Expression:
    """The notes `industry.classify` makes of a sector and a code (NULL for none), as batch's reason leads with them."""
    quasi = exp.and_(exp.not_(is_null(col("_f_clnote"))), exp.not_(col("_f_amb")))
    by_code = case([(quasi, _cat(col("_f_code"), ": ", col("_f_clnote"))), (col("_f_amb"), col("_f_clnote"))])
    known = exp.not_(is_null(col("_f_byname")))
    decides = _cat("sector '", col("_f_sec"), "' is not a sector name we know: the industry code ", col("_f_code"), " decides")
    return case([
        (exp.not_(cod_given), exp.null()),
        (exp.and_(sec_given, exp.not_(known)), case([(is_null(by_code), decides)], _cat(decides, "; ", by_code))),
        (exp.and_(sec_given, col("_f_amb")), _cat("the sector given ('", col("_f_sec"), "') decides: ", col("_f_clnote"))),
    ], by_code)
