"""Rows the demo does not have, written into a legacy database the same way on both sides of
the SQL Server job's comparison (the SQL Server legacy DB, and the DuckDB reference run's
SQLite file), so the marts can be compared value by value.

- ``first`` (before the first pipeline run): a review longer than NVARCHAR(4000) holds, with
  text beyond Latin-1 (it must load whole: review MAJOR 4), and a customer that differs from
  customer 1 only by case (on a case-sensitive warehouse it stays a customer of its own, as
  in DuckDB).
- ``second`` (before the second run): customer 2's first name changes case only, with a
  newer ``updated_at``; the incremental extract reads it and the merge must write it
  (review MAJOR 5: a case-insensitive comparison missed it).

Usage: python tests/mssql/legacy_changes.py first|second URL [--password-env NAME]
(a login allowed to write the legacy tables, its password in the environment variable NAME,
never on the command line; the legacy schema from DELTASTORE_LEGACY_DB_SCHEMA for SQL
Server).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from typing import Any

from deltastore.db import connect
from deltastore.dburl import DatabaseURL
from deltastore.extract.sources.legacy_db import source_table
from deltastore.schemas import table

CUSTOMERS = table("old_store", "customers")
REVIEWS = table("old_store", "reviews")
# 5,700 characters, accents and a dash outside Latin-1's 256.
LONG_REVIEW = "Très bon produit — solide, léger et bien fini. " * 120


def _one(connection: Any, sql: str, params: tuple[Any, ...] = ()) -> Any:
    cursor = connection.cursor()
    cursor.execute(sql, params)
    row = cursor.fetchone()
    cursor.close()
    return row


def _insert(connection: Any, name: str, columns: list[str], row: tuple[Any, ...]) -> None:
    marks = ", ".join("?" for _ in columns)
    cursor = connection.cursor()
    cursor.execute(f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})", row)
    cursor.close()


def first(connection: Any, kind: str, schema: str) -> None:
    customers = source_table(kind, CUSTOMERS, schema)
    reviews = source_table(kind, REVIEWS, schema)
    columns = CUSTOMERS.column_names
    original = _one(connection, f"SELECT {', '.join(columns)} FROM {customers} "
                                "WHERE customer_id = 1")
    new_id = int(_one(connection, f"SELECT MAX(customer_id) FROM {customers}")[0]) + 1
    twin = dict(zip(columns, original, strict=True))
    twin["customer_id"] = new_id
    for column in ("first_name", "last_name", "address"):
        twin[column] = twin[column].swapcase()
    _insert(connection, customers, columns, tuple(twin[c] for c in columns))
    review = _one(connection, f"SELECT {', '.join(REVIEWS.column_names)} FROM {reviews} "
                              "WHERE review_id = 1")
    review_id = int(_one(connection, f"SELECT MAX(review_id) FROM {reviews}")[0]) + 1
    _insert(connection, reviews, REVIEWS.column_names,
            (review_id, review[1], review[2], 5, LONG_REVIEW, review[5]))


def second(connection: Any, kind: str, schema: str) -> None:
    customers = source_table(kind, CUSTOMERS, schema)
    name, = _one(connection, f"SELECT first_name FROM {customers} WHERE customer_id = 2")
    newest, = _one(connection, f"SELECT MAX(updated_at) FROM {customers}")
    moment = newest if isinstance(newest, dt.datetime) else dt.datetime.fromisoformat(newest)
    later = moment.replace(microsecond=0) + dt.timedelta(minutes=5)
    # SQLite keeps the demo's text layout, which it compares as text.
    stamp: Any = later if kind == "mssql" else later.isoformat(sep=" ")
    cursor = connection.cursor()
    cursor.execute(f"UPDATE {customers} SET first_name = ?, updated_at = ? "
                   "WHERE customer_id = 2", (name.swapcase(), stamp))
    cursor.close()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phase", choices=("first", "second"))
    parser.add_argument("url")
    parser.add_argument("--password-env", default=None)
    args = parser.parse_args(argv)
    phase = args.phase
    url = DatabaseURL.parse(args.url, "URL")
    if args.password_env:
        url = url.with_password(os.environ.get(args.password_env))
    schema = os.environ.get("DELTASTORE_LEGACY_DB_SCHEMA", "dbo")
    connection = connect(url, autocommit=True)
    try:
        {"first": first, "second": second}[phase](connection, url.kind, schema)
    finally:
        connection.close()
    print(f"legacy changes `{phase}` written to `{url}`")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
