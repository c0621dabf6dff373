"""Identifiers written into SQL text: one quoting rule per database kind.

SQL Server brackets a name (``]`` doubled); DuckDB takes standard double quotes (``"``
doubled). SQLite takes backticks (`` ` `` doubled): it reads a double-quoted name that is no
column as a string literal, so ``SELECT "price"`` from a table whose ``price`` was renamed
returns the text `price` in every row; a backticked name is always a name, and a missing
one is an error (sqlite.org/quirks.html, "Double-quoted String Literals Are Accepted").
Every statement the pipeline builds quotes its names here, so a name can never end the
quoting early; ``literal`` does the same for text written into a statement as a string.
"""

from __future__ import annotations

from deltastore.schemas import Table


def quote(kind: str, name: str) -> str:
    """``name`` as a quoted identifier for a database kind (``mssql``, ``duckdb``, ``sqlite``)."""
    if kind == "mssql":
        return "[" + name.replace("]", "]]") + "]"
    if kind == "sqlite":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def literal(text: str, national: bool = False) -> str:
    """``text`` as a SQL string literal (``'`` doubled); ``national``: T-SQL's ``N'…'``."""
    return ("N" if national else "") + "'" + text.replace("'", "''") + "'"


def qualified(kind: str, *names: str | None) -> str:
    """Dotted, quoted name from the outermost part in: ``catalog, schema, table`` or
    ``schema, table``; a None part (no catalog) is left out."""
    return ".".join(quote(kind, name) for name in names if name is not None)


def insert_values_sql(kind: str, table: Table) -> str:
    """``INSERT`` of one row into every column of ``table``, with ``?`` parameters."""
    names = ", ".join(quote(kind, c) for c in table.column_names)
    marks = ", ".join("?" for _ in table.columns)
    return f"INSERT INTO {qualified(kind, table.schema, table.name)} ({names}) VALUES ({marks})"
