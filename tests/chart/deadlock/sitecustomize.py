"""Fault injection for one pod of tests/chart/test_argo_execution.py: with this folder on
PYTHONPATH, the `deltastore build` in that pod fails to create the mart named by
DEADLOCK_ON_MODEL as SQL Server fails a deadlock victim (error 1205), at dbt's adapter
boundary (SQLConnectionManager.add_query, which dbt-duckdb and dbt-sqlserver both use).
Python imports `sitecustomize` from the path at start-up (the `site` module)."""

from __future__ import annotations

import os
import re

from dbt.adapters.sql.connections import SQLConnectionManager
from dbt_common.exceptions import DbtDatabaseError

# dbt's statement (after its `/* {...} */` query comment) that writes the model's table:
# the table's (or its temporary copy's) creation, or an incremental model's strategy
# deleting the keys it replaces.
_CREATE = re.compile(r'\b(create\s+(or\s+replace\s+)?(temp(orary)?\s+)?table|delete\s+from)'
                     rf'\s+\S*"{os.environ["DEADLOCK_ON_MODEL"]}(__dbt_tmp\d*)?"', re.IGNORECASE)
# SQL Server's message for error 1205 (sys.messages).
DEADLOCK = ("Transaction (Process ID 52) was deadlocked on lock resources with another "
            "process and has been chosen as the deadlock victim. Rerun the transaction.")
_add_query = SQLConnectionManager.add_query


def _deadlocking_add_query(self, sql, *args, **kwargs):  # type: ignore[no-untyped-def]
    if _CREATE.search(sql):
        raise DbtDatabaseError(DEADLOCK)
    return _add_query(self, sql, *args, **kwargs)


SQLConnectionManager.add_query = _deadlocking_add_query  # type: ignore[method-assign]
