"""A read-only BI login that keeps querying the published marts while a sync runs.

Run by mssql.yml in the background during the second `deltastore sync`; stops when the file
named by --stop exists. Every round lists the tables the login sees in `analytics` and
counts the rows of each. It fails (exit 1) if any query errors, if it ever sees a shadow or
staging table, or if it ran fewer than --min-rounds rounds: BI must see the old marts or the
new ones, never an error or a half-built table.
Usage: python tests/mssql/bi_reader.py --stop "$RUNNER_TEMP/sync-done" --min-rounds 5 [--empty-ok]
(connection from DELTASTORE_TEST_BI_URL and DELTASTORE_TEST_BI_PASSWORD).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from deltastore.db import connect
from deltastore.dburl import DatabaseURL

LIST_TABLES = ("SELECT TABLE_SCHEMA, TABLE_NAME FROM INFORMATION_SCHEMA.TABLES "
               "WHERE TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_SCHEMA, TABLE_NAME")


def one_round(connection: object, empty_ok: bool = False) -> list[str]:
    """Problems seen in one pass over every table the login can see (none at all is one,
    unless ``empty_ok``: the first sync, before anything was published)."""
    problems = []
    rows = connection.execute(LIST_TABLES).fetchall()  # type: ignore[attr-defined]
    for schema, name in rows:
        if schema != "analytics" or "__sync" in name or "__dbt" in name:
            problems.append(f"BI login sees `{schema}.{name}`")
            continue
        connection.execute(  # type: ignore[attr-defined]
            f"SELECT COUNT_BIG(*) FROM [analytics].[{name.replace(']', ']]')}]").fetchone()
    if not rows and not empty_ok:
        problems.append("BI login sees no table in `analytics`")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stop", type=Path, required=True)
    parser.add_argument("--min-rounds", type=int, default=5)
    parser.add_argument("--empty-ok", action="store_true",
                        help="the first sync: nothing is published before its swap")
    args = parser.parse_args(argv)
    url = DatabaseURL.parse(os.environ["DELTASTORE_TEST_BI_URL"], "DELTASTORE_TEST_BI_URL")
    url = url.with_password(os.environ.get("DELTASTORE_TEST_BI_PASSWORD"))
    connection = connect(url, autocommit=True)
    rounds, problems = 0, []
    while not args.stop.exists():
        try:
            problems += one_round(connection, args.empty_ok)
        except Exception as exc:  # every failure counts; the reader keeps going
            problems.append(f"query failed: {exc}")
        rounds += 1
        time.sleep(0.05)
    connection.close()
    print(f"BI reader: {rounds} rounds during the sync, {len(problems)} problems")
    for problem in sorted(set(problems))[:20]:
        print(f"::error::{problem}")
    return 1 if problems or rounds < args.min_rounds else 0


if __name__ == "__main__":
    sys.exit(main())
