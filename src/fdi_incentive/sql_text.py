"""Text in the compiled SQL as Python treats it: whitespace stripped as `str.strip()` strips it,
names normalised as `industry.normalise_name`, values quoted as `repr()` quotes them (the
error texts of `fdi batch` show a cell's repr), decimals written as `fdi batch` reads them.

Patterns hold no backslash (Spark's and BigQuery's literals would take it as an escape):
the whitespace class lists Python's whitespace characters themselves.
"""

from __future__ import annotations

import sys

from sqlglot import exp

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


def py_repr(x: exp.Expression) -> exp.Expression:
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


def decimal_text(x: exp.Expression) -> exp.Expression:
    """A DECIMAL as plain text without trailing zeros ('-5.5', '100', '0'): the cell `fdi batch` would read."""
    text = exp.cast(x, "VARCHAR")
    return exp.Case().when(exp.Like(this=text, expression=Text("%.%")), regexp_replace(text, "[.]?0+$", "")).else_(text)
