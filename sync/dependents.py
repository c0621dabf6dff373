"""SQL Server: what a swap would lose or trip over, checked before anything is copied.

A mart whose rows change keeps its table (sync/plan.py), but a new table replaces it when
its columns change. ``ALTER SCHEMA … TRANSFER`` then drops the permissions on the table
("All permissions associated with the securable will be dropped when the securable is
moved to the new schema", ALTER SCHEMA, Remarks), and the replaced table goes with its
masks, sensitivity classifications and the indexes someone added; schema-bound views,
row-level security predicates and foreign keys that reference it stop the transfer or the
drop altogether. ``check_swappable`` lists all of these for the tables about to be
swapped and refuses (exit 2) with what to do, before the first shadow is loaded; with
``--force`` it publishes anyway when nothing blocks, and says what was dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from deltastore.errors import ConfigError
from deltastore.sync.statements import MART_SCHEMA

# (kind, whether it blocks the swap, query part with @id = the table's object id)
CHECKS: tuple[tuple[str, bool, str], ...] = (
    ("schema-bound view or function", True,
     "SELECT OBJECT_SCHEMA_NAME(d.referencing_id) + N'.' + OBJECT_NAME(d.referencing_id) "
     "FROM sys.sql_expression_dependencies AS d "
     "WHERE d.referenced_id = @id AND d.is_schema_bound_reference = 1"),
    ("row-level security policy", True,
     "SELECT OBJECT_SCHEMA_NAME(p.object_id) + N'.' + OBJECT_NAME(p.object_id) "
     "FROM sys.security_predicates AS p WHERE p.target_object_id = @id"),
    ("foreign key referencing it", True,
     "SELECT OBJECT_SCHEMA_NAME(f.parent_object_id) + N'.' + f.name "
     "FROM sys.foreign_keys AS f WHERE f.referenced_object_id = @id"),
    ("permission", False,
     "SELECT p.state_desc + N' ' + p.permission_name + COALESCE(N' (' + COL_NAME(p.major_id, "
     "p.minor_id) + N')', N'') + N' TO ' + USER_NAME(p.grantee_principal_id) "
     "FROM sys.database_permissions AS p WHERE p.class = 1 AND p.major_id = @id"),
    ("masked column", False,
     "SELECT c.name + N' ' + c.masking_function FROM sys.masked_columns AS c "
     "WHERE c.object_id = @id"),
    ("sensitivity classification", False,
     "SELECT COL_NAME(s.major_id, s.minor_id) + N' ' + COALESCE(CAST(s.label AS NVARCHAR(128)), "
     "N'') FROM sys.sensitivity_classifications AS s WHERE s.class = 1 AND s.major_id = @id"),
    ("index", False,
     "SELECT i.name FROM sys.indexes AS i WHERE i.object_id = @id AND i.type > 0 "
     "AND i.is_primary_key = 0"),
)


def dependents_sql() -> str:
    """One batch: every dependent of the table named by its one parameter, as (kind, name)."""
    parts = [f"SELECT N'{kind}' AS kind, x.name FROM ({query}) AS x(name)"
             for kind, _, query in CHECKS]
    return ("SET NOCOUNT ON; DECLARE @id INT = OBJECT_ID(?); "
            + " UNION ALL ".join(parts))


def check_swappable(target: Any, tables: Sequence[str], force: bool,
                    echo: Callable[[str], object]) -> None:
    """Refuse to swap tables that carry what a swap drops (unless ``force``) or cannot move."""
    blocking = {kind for kind, blocks, _ in CHECKS if blocks}
    blocked: list[str] = []
    lost: list[str] = []
    for table in tables:
        found = target.execute(dependents_sql(), (f"{MART_SCHEMA}.{table}",)).fetchall()
        target.commit()
        for kind, name in found:
            text = f"`{MART_SCHEMA}.{table}`: {kind} `{name}`"
            (blocked if kind in blocking else lost).append(text)
    if blocked:
        raise ConfigError(
            "these published marts changed columns and must be replaced, but "
            + "; ".join(blocked) + " stop(s) the swap. Drop them, run `deltastore sync`, "
            "and create them again (docs/sql-server.md, Publishing)")
    if lost and not force:
        raise ConfigError(
            "these published marts changed columns and must be replaced, which drops "
            + "; ".join(lost) + ". Nothing was copied. Apply them again after the sync "
            "(run `deltastore sync --force`, then re-create them), or grant on the schema "
            "instead (docs/sql-server.md, Publishing)")
    if lost:
        echo("sync: replacing marts whose columns changed drops (--force): " + "; ".join(lost))
