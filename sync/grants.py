"""What the sync's login must hold on a SQL Server / Azure SQL target, as data.

``deltastore doctor`` and the sync itself (before it touches anything) check each of these
with HAS_PERMS_BY_NAME and print the GRANT that is missing; docs/sql-server/sync-target.sql
grants exactly these (tests/sync/test_grants.py keeps the two equal). Change this list when
the sync's statements change.

Why these, from Microsoft's documentation of each statement the sync sends:
- CREATE TABLE of a shadow in ``analytics_sync_stage``: "CREATE TABLE permission in the
  database and ALTER permission on the schema in which the table is being created";
- INSERT into it, SELECT for its checksum and the published row counts, DROP of leftovers:
  INSERT / SELECT on the table, ALTER on its schema;
- ``ALTER SCHEMA analytics_sync_retired TRANSFER analytics.<t>`` and ``ALTER SCHEMA analytics
  TRANSFER analytics_sync_stage.<t>``: "CONTROL permission on the securable (not schema) and
  ALTER permission on the target schema" (ALTER SCHEMA, Permissions). A table created in a
  schema the login does not own belongs to the schema's owner, so only CONTROL on the
  schema, which covers every table in it whoever owns it, lets the next sync move it again.
- an incremental publish (sync/publish.py): DELETE and INSERT on the published tables in
  ``analytics``, CREATE TABLE of the changed rows' stages and of the publish marker in
  ``analytics_sync_stage``, ALTER TABLE … ADD CONSTRAINT (a shadow's primary key) there;
- the catalog views the swap check reads (sync/dependents.py) show what the login may see:
  CONTROL on ``analytics`` covers its tables; ``sp_getapplock`` needs only ``public``.
CONTROL on the three schemas implies all of the above inside them; the login gets nothing
outside them but CREATE TABLE, which by itself creates nothing without ALTER on a schema.
The schemas are created by the script (owned by dbo), so the sync never needs CREATE SCHEMA.
"""

from __future__ import annotations

from deltastore.preflight import Grant
from deltastore.sync.statements import MART_SCHEMA, RETIRED_SCHEMA, STAGE_SCHEMA

SYNC_TARGET_GRANTS: tuple[Grant, ...] = (
    Grant("CREATE TABLE", "DATABASE", None,
          f"CREATE TABLE of each shadow in `{STAGE_SCHEMA}`"),
    Grant("CONTROL", "SCHEMA", MART_SCHEMA,
          f"DELETE and INSERT of changed rows in `{MART_SCHEMA}`; ALTER SCHEMA … TRANSFER "
          "of new marts; SELECT for row counts and checksums"),
    Grant("CONTROL", "SCHEMA", STAGE_SCHEMA,
          "the shadows and changed rows: CREATE, INSERT, SELECT, TRANSFER out, DROP; "
          "the publish marker"),
    Grant("CONTROL", "SCHEMA", RETIRED_SCHEMA,
          "the replaced tables: TRANSFER in, DROP after the swap"),
)

# The read-only BI login of the documented script: the published marts and nothing else
# (never a shadow or a replaced table, which live in the two other schemas).
BI_READER_GRANTS: tuple[Grant, ...] = (
    Grant("SELECT", "SCHEMA", MART_SCHEMA, "dashboards and BI tools read the marts"),
)

SCHEMAS = (MART_SCHEMA, STAGE_SCHEMA, RETIRED_SCHEMA)
