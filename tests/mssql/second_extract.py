"""The second extract of the SQL Server job reads only what changed since the watermark.

Run by mssql.yml after the first extract (settings from the job's environment: the legacy
database in schema `old_store` with `datetime` timestamps, read by the least-privilege
legacy reader). Two orders are changed with a newer `updated_at`, by the login of
DELTASTORE_TEST_MSSQL_URL (the reader may only read); the extract must read few rows (the
changed ones, plus at most the rows at the old watermark itself) and update exactly those
two. Exit 1 with the reason otherwise.
"""

from __future__ import annotations

import os
import sys

from deltastore.db import connect
from deltastore.dburl import DatabaseURL
from deltastore.extract.load import run_extract
from deltastore.settings import Settings
from deltastore.sql_names import quote

CHANGED = (1, 2)


def main() -> int:
    settings = Settings.from_env()
    orders = f"{quote('mssql', settings.legacy_db_schema)}.[orders]"
    admin = DatabaseURL.parse(os.environ["DELTASTORE_TEST_MSSQL_URL"],
                              "DELTASTORE_TEST_MSSQL_URL")
    legacy = connect(admin.with_password(os.environ.get("DELTASTORE_TEST_MSSQL_PASSWORD")),
                     autocommit=True)
    total = legacy.execute(f"SELECT COUNT(*) FROM {orders}").fetchone()[0]
    legacy.execute(
        f"UPDATE {orders} SET total_price = total_price + 1, updated_at = "
        f"DATEADD(minute, 5, (SELECT MAX(updated_at) FROM {orders})) "
        f"WHERE order_id IN ({', '.join(str(i) for i in CHANGED)})")
    legacy.close()
    results = {r.table: r for r in run_extract(settings, source="legacy-db", progress=print)}
    result = results["old_store.orders"]
    print(f"second extract of old_store.orders: read {result.rows_read} of {total} rows, "
          f"updated {result.updated}, inserted {result.inserted}")
    problems = []
    if result.updated != len(CHANGED) or result.inserted:
        problems.append(f"expected {len(CHANGED)} updated and 0 inserted rows")
    if not len(CHANGED) <= result.rows_read < max(10, total // 10):
        problems.append(f"read {result.rows_read} rows: the watermark did not filter")
    for problem in problems:
        print(f"::error::{problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
