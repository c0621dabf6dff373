"""A column the legacy DB gains lands in the SQL Server warehouse under `evolve`.

Run by mssql.yml after the pipeline runs, with the job's settings (the legacy database in
schema `old_store`, read by the least-privilege reader; the SQL Server warehouse the earlier
extracts loaded, owned by the warehouse login). `loyalty_tier` is added to
`old_store.customers` and filled on every row without touching `updated_at`, as a vendor
would, by the login of DELTASTORE_TEST_MSSQL_URL (the reader may only read). The next
extract must add the raw column (in its load's transaction), fill it on every row and
record the change once in `meta.schema_changes`; the one after must report nothing and
change no row. Exit 1 with the reason otherwise.
"""

from __future__ import annotations

import os
import sys

from deltastore.db import connect
from deltastore.dburl import DatabaseURL
from deltastore.extract.load import run_extract
from deltastore.settings import Settings
from deltastore.sql_names import qualified

COLUMN = "loyalty_tier"


def source_statements(table: str) -> list[str]:
    """What the legacy DB's owner runs: a new nullable column, then values on every row."""
    return [f"ALTER TABLE {table} ADD [{COLUMN}] NVARCHAR(20) NULL",
            f"UPDATE {table} SET [{COLUMN}] = CASE WHEN [customer_id] % 2 = 0 "
            "THEN N'gold' ELSE N'silver' END"]


LANDED_SQL = (f"SELECT COUNT(*), COUNT([{COLUMN}]) FROM [old_store].[customers] "
              "WHERE [_deleted_at] IS NULL")
RECORDED_SQL = ("SELECT [change], [action] FROM [meta].[schema_changes] "
                f"WHERE [table_name] = 'old_store.customers' AND [column_name] = '{COLUMN}'")


def main() -> int:
    settings = Settings.from_env()
    admin = DatabaseURL.parse(os.environ["DELTASTORE_TEST_MSSQL_URL"],
                              "DELTASTORE_TEST_MSSQL_URL")
    legacy = connect(admin.with_password(os.environ.get("DELTASTORE_TEST_MSSQL_PASSWORD")),
                     autocommit=True)
    customers = qualified("mssql", settings.legacy_db_schema, "customers")
    for statement in source_statements(customers):
        legacy.execute(statement)
    total = legacy.execute(f"SELECT COUNT(*) FROM {customers}").fetchone()[0]
    legacy.close()
    first = run_extract(settings, "legacy-db", tables=["customers"], progress=print)
    second = run_extract(settings, "legacy-db", tables=["customers"], progress=print)
    warehouse = connect(settings.warehouse_url, autocommit=True)
    rows, filled = warehouse.execute(LANDED_SQL).fetchone()
    recorded = [tuple(r) for r in warehouse.execute(RECORDED_SQL).fetchall()]
    warehouse.close()
    reported = [c.line() for r in first for c in r.changes]
    print(f"first extract reported {reported}; {filled} of {rows} rows have `{COLUMN}`; "
          f"recorded {recorded}")
    problems = []
    if [(c.column, c.action) for r in first for c in r.changes] != [(COLUMN, "landed")]:
        problems.append(f"the first extract reported {reported}, not `{COLUMN}` landed")
    if (rows, filled) != (total, total):
        problems.append(f"{filled} of {rows} warehouse rows have `{COLUMN}`; the source has "
                        f"{total} rows, all filled")
    if recorded != [("added", "landed")]:
        problems.append(f"meta.schema_changes holds {recorded}, not one `added`/`landed` row")
    again = [(r.inserted, r.updated, r.deleted, r.changes) for r in second]
    if again != [(0, 0, 0, ())]:
        problems.append(f"the second extract changed or reported something: {again}")
    for problem in problems:
        print(f"::error::{problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
