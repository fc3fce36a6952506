"""An input column by its exact name.

polars reads a column name given as text as a pattern where it can: ``"*"`` is every column and
``"^…$"`` a regular expression, so a sheet with a column headed ``*`` would have every column's
cells copied into it. Every expression over a column the user named goes through `named`."""


def named(name: str):
    """The column called ``name``, exactly (never read as a wildcard or a pattern): a polars expression."""
    import polars.selectors as cs  # (here, not at import: `fdi calc` never loads polars)

    return cs.by_name(name)
