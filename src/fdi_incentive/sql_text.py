"""Text in the compiled SQL as Python treats it: whitespace stripped as `str.strip()` strips it,
names normalised as `industry.normalise_name`, values quoted as `repr()` quotes them (the
error texts of `fdi batch` show a cell's repr), decimals written as `fdi batch` reads them.

Patterns hold no backslash (Spark's and BigQuery's literals would take it as an escape):
the whitespace class lists Python's whitespace characters themselves.
"""

from __future__ import annotations

import sys

from sqlglot import exp

from .text import QUOTED_AT_MOST

# every character Python's str.strip() and re's \s treat as whitespace
WHITESPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
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


def _repr(x: exp.Expression) -> exp.Expression:
    """repr() of a text: quoted with ' (or " when it holds ' and no "), escapes as repr writes them."""
    escaped: exp.Expression = x
    for c in ESCAPED:
        escaped = exp.func("REPLACE", escaped, Text(c), Text(_escape(c)))
    has_single = exp.Like(this=x, expression=Text("%'%"))
    has_double = exp.Like(this=x, expression=Text('%"%'))
    double = exp.DPipe(this=exp.DPipe(this=Text('"'), expression=escaped), expression=Text('"'))
    single = exp.DPipe(this=exp.DPipe(this=Text("'"), expression=exp.func("REPLACE", escaped, Text("'"), Text("\\'"))),
                       expression=Text("'"))
    return exp.Case().when(exp.and_(has_single, exp.not_(has_double)), double).else_(single)


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


def py_repr(x: exp.Expression, at_most: int = QUOTED_AT_MOST) -> exp.Expression:
    """text.quoted: a value's repr, cut to ``at_most`` characters with how many more there were."""
    length = exp.Length(this=x)
    head = exp.Substring(this=x, start=exp.Literal.number(1), length=exp.Literal.number(at_most))
    r = _repr(x)
    return exp.Case().when(exp.GT(this=length, expression=exp.Literal.number(at_most)),
                           _cat(_repr(head), _more(exp.Sub(this=length, expression=exp.Literal.number(at_most))))) \
        .when(exp.GT(this=exp.Length(this=r), expression=exp.Literal.number(at_most + 2)),
              _cat(exp.Substring(this=r, start=exp.Literal.number(1), length=exp.Literal.number(at_most)),
                   _more(exp.Sub(this=exp.Length(this=r), expression=exp.Literal.number(at_most))))).else_(r)


def decimal_text(x: exp.Expression) -> exp.Expression:
    """A DECIMAL as plain text without trailing zeros ('-5.5', '100', '0'): the cell `fdi batch` would read."""
    text = exp.cast(x, "VARCHAR")
    return exp.Case().when(exp.Like(this=text, expression=Text("%.%")), regexp_replace(text, "[.]?0+$", "")).else_(text)
