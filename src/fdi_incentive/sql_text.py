"""Text in the compiled SQL as Python treats it: whitespace stripped as `str.strip()` strips it,
names normalised as `industry.normalise_name`, values quoted as `repr()` quotes them (the
error texts of `fdi batch` show a cell's repr), decimals written as `fdi batch` reads them.

Patterns hold no backslash (Spark's and BigQuery's literals would take it as an escape):
the whitespace class lists Python's whitespace characters themselves.
"""

from __future__ import annotations


from sqlglot import exp

from .text import QUOTED_AT_MOST

# every character Python's str.strip() and re's \s treat as whitespace
# (listed, not found by scanning every code point at import: tests/test_sql.py checks it against str.isspace)
WHITESPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
# characters repr() writes as an escape (besides the quote): the backslash and Python's whitespace but the space
# (other non-printable characters, rare in a sheet's cells, appear as themselves)
ESCAPED = ["\\"] + [c for c in WHITESPACE if not c.isprintable()]


def Text(value) -> exp.Expression:  # noqa: N802  (a literal, as sqlglot writes it in each dialect)
    return exp.null() if value is None else exp.Literal.string(value)


def regexp_replace(x: exp.Expression, pattern: str, replacement: str) -> exp.Expression:
    """Every match replaced (sqlglot adds the 'g' flag where a dialect replaces the first only)."""
    return exp.RegexpReplace(this=x, expression=Text(pattern), replacement=Text(replacement))


def strip(x: exp.Expression) -> exp.Expression:
    """Python's str.strip(): leading and trailing whitespace, Unicode's included."""
    return regexp_replace(x, f"^[{WHITESPACE}]+|[{WHITESPACE}]+$", "")


def normalise_name(stripped: exp.Expression) -> exp.Expression:
    """industry.normalise_name of already stripped text: lower case, runs of whitespace, - and _ as one _."""
    return regexp_replace(exp.Lower(this=stripped), f"[{WHITESPACE}_-]+", "_")


def _escape(c: str) -> str:
    if c == "\\":
        return "\\\\"
    if c in "\t\n\r":
        return {"\t": "\\t", "\n": "\\n", "\r": "\\r"}[c]
    return f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}"


def escaped(x: exp.Expression) -> exp.Expression:
    """The escapes repr() writes in a text (the backslash, and whitespace that is not printable):
    computed once in a layer of its own (see `quoted_text`); text without them is left as it is."""
    chain: exp.Expression = x
    for c in ESCAPED:
        chain = exp.func("REPLACE", chain, Text(c), Text(_escape(c)))
    rare = "".join(c for c in ESCAPED if c != "\\")
    needs = exp.or_(exp.GT(this=exp.StrPosition(this=x, substr=Text("\\")), expression=exp.Literal.number(0)),
                    exp.RegexpLike(this=x, expression=Text(f"[{rare}]")))
    return exp.Case().when(needs, chain).else_(x)


def repr_of(escaped_text: exp.Expression) -> exp.Expression:
    """repr() of a text from its `escaped` form: quoted with ' (or " when it holds ' and no "); computed
    once in a layer of its own (see `quoted_text`)."""
    x = escaped_text
    has_single = exp.GT(this=exp.StrPosition(this=x, substr=Text("'")), expression=exp.Literal.number(0))
    has_double = exp.GT(this=exp.StrPosition(this=x, substr=Text('"')), expression=exp.Literal.number(0))
    double = exp.DPipe(this=exp.DPipe(this=Text('"'), expression=x), expression=Text('"'))
    single = exp.DPipe(this=exp.DPipe(this=Text("'"), expression=exp.func("REPLACE", x, Text("'"), Text("\\'"))),
                       expression=Text("'"))
    return exp.Case().when(exp.and_(has_single, exp.not_(has_double)), double).else_(single)


def quoted_text(rep: exp.Expression, length: exp.Expression, at_most: int = QUOTED_AT_MOST) -> exp.Expression:
    """text.quoted of a value: ``rep`` is `repr_of` its first ``at_most`` characters, ``length`` its length."""
    return exp.Case().when(exp.GT(this=length, expression=exp.Literal.number(at_most)),
                           _cat(rep, _more(exp.Sub(this=length, expression=exp.Literal.number(at_most))))) \
        .when(exp.GT(this=exp.Length(this=rep), expression=exp.Literal.number(at_most + 2)),
              _cat(exp.Substring(this=rep, start=exp.Literal.number(1), length=exp.Literal.number(at_most)),
                   _more(exp.Sub(this=exp.Length(this=rep), expression=exp.Literal.number(at_most))))).else_(rep)


def head(x: exp.Expression, at_most: int = QUOTED_AT_MOST) -> exp.Expression:
    """The first ``at_most`` characters: all that a message quotes of a value."""
    return exp.Substring(this=x, start=exp.Literal.number(1), length=exp.Literal.number(at_most))


def _more(n: exp.Expression) -> exp.Expression:
    """'… (1,234 more characters)' for a count below a million, grouped as Python's {:,} groups it."""
    text = exp.cast(exp.Paren(this=n), "VARCHAR")
    cut = exp.Sub(this=exp.Length(this=text), expression=exp.Literal.number(3))
    grouped = exp.Case().when(exp.GT(this=exp.Length(this=text), expression=exp.Literal.number(3)),
                              _cat(exp.Substring(this=text, start=exp.Literal.number(1), length=cut), Text(","),
                                   exp.Substring(this=text, start=exp.Add(this=cut, expression=exp.Literal.number(1))))) \
        .else_(text)
    return _cat(Text("… ("), grouped, Text(" more characters)"))


def _cat(*parts: exp.Expression) -> exp.Expression:
    out = parts[0]
    for p in parts[1:]:
        out = exp.DPipe(this=out, expression=p)
    return out


def decimal_text(x: exp.Expression) -> exp.Expression:
    """A DECIMAL as plain text without trailing zeros ('-5.5', '100', '0'): the cell `fdi batch` would read."""
    text = exp.cast(x, "VARCHAR")
    return exp.Case().when(exp.Like(this=text, expression=Text("%.%")), regexp_replace(text, "[.]?0+$", "")).else_(text)
