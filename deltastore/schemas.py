"""The raw tables: one definition shared by the demo generators, readers, writers and dbt.

Logical column types (writers map them to each database):
``int`` (64-bit integer), ``text``, ``money`` (decimal(12,2)), ``float`` (double),
``date``, ``timestamp`` (no time zone, UTC), ``bool``.
Every raw table in the warehouse also has the load metadata columns in ``LOAD_COLUMNS``.
"""

from __future__ import annotations

from dataclasses import dataclass

LOAD_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_loaded_at", "timestamp"),   # when this version of the row was written (UTC)
    ("_batch_id", "text"),         # the extract run that wrote it
    ("_deleted_at", "timestamp"),  # set when the row vanished from a full-snapshot source
)


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    columns: tuple[tuple[str, str], ...]
    primary_key: tuple[str, ...]
    # Column used for incremental reads; None means the table is copied in full each run.
    watermark: str | None = None

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.columns]

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"


NEW_STORE = "new_store"
OLD_STORE = "old_store"

# The new web store (FakeStore API), flattened. Passwords from /users are never landed.
NEW_STORE_TABLES: tuple[Table, ...] = (
    Table(NEW_STORE, "products", (
        ("id", "int"), ("title", "text"), ("price", "money"), ("description", "text"),
        ("category", "text"), ("image", "text"), ("rating_rate", "float"),
        ("rating_count", "int"),
    ), ("id",)),
    Table(NEW_STORE, "users", (
        ("id", "int"), ("email", "text"), ("username", "text"), ("first_name", "text"),
        ("last_name", "text"), ("phone", "text"), ("city", "text"), ("street", "text"),
        ("street_number", "int"), ("zipcode", "text"), ("lat", "text"), ("long", "text"),
    ), ("id",)),
    Table(NEW_STORE, "carts", (
        ("id", "int"), ("user_id", "int"), ("date", "timestamp"),
    ), ("id",)),
    # One row per product line of a cart; a product listed twice in one cart is summed.
    Table(NEW_STORE, "cart_items", (
        ("cart_id", "int"), ("product_id", "int"), ("quantity", "int"),
    ), ("cart_id", "product_id")),
)

# The old store's SQL Server database, same table and column names.
OLD_STORE_TABLES: tuple[Table, ...] = (
    Table(OLD_STORE, "customers", (
        ("customer_id", "int"), ("first_name", "text"), ("last_name", "text"), ("email", "text"),
        ("phone_number", "text"), ("address", "text"), ("created_at", "timestamp"),
        ("updated_at", "timestamp"),
    ), ("customer_id",), "updated_at"),
    Table(OLD_STORE, "products", (
        ("product_id", "int"), ("product_name", "text"), ("category", "text"),
        ("price", "money"), ("supplier_id", "int"), ("updated_at", "timestamp"),
    ), ("product_id",), "updated_at"),
    Table(OLD_STORE, "suppliers", (
        ("supplier_id", "int"), ("contact_name", "text"), ("phone_number", "text"),
        ("email", "text"), ("address", "text"),
    ), ("supplier_id",)),
    Table(OLD_STORE, "orders", (
        ("order_id", "int"), ("customer_id", "int"), ("order_date", "timestamp"),
        ("total_price", "money"), ("updated_at", "timestamp"),
    ), ("order_id",), "updated_at"),
    Table(OLD_STORE, "order_items", (
        ("order_item_id", "int"), ("order_id", "int"), ("product_id", "int"),
        ("quantity", "int"), ("price_at_purchase", "money"),
    ), ("order_item_id",)),
    Table(OLD_STORE, "payment", (
        ("payment_id", "int"), ("order_id", "int"), ("payment_method", "text"),
        ("amount", "money"), ("transaction_status", "text"),
    ), ("payment_id",)),
    Table(OLD_STORE, "reviews", (
        ("review_id", "int"), ("product_id", "int"), ("customer_id", "int"), ("rating", "int"),
        ("review_text", "text"), ("review_date", "timestamp"),
    ), ("review_id",)),
    Table(OLD_STORE, "shipments", (
        ("shipment_id", "int"), ("order_id", "int"), ("shipment_date", "timestamp"),
        ("delivery_date", "timestamp"), ("carrier", "text"), ("tracking_number", "text"),
        ("shipment_status", "text"), ("updated_at", "timestamp"),
    ), ("shipment_id",), "updated_at"),
)

ALL_TABLES: tuple[Table, ...] = NEW_STORE_TABLES + OLD_STORE_TABLES

# Bookkeeping tables in the warehouse, schema ``meta``.
META = "meta"
# The sync's record of what it published (sync/state.py), in the warehouse.
META_SYNC = "meta_sync"
LOAD_STATE = Table(META, "load_state", (
    ("batch_id", "text"), ("source", "text"), ("table_name", "text"),
    ("watermark", "text"), ("rows_read", "int"), ("rows_inserted", "int"),
    ("rows_updated", "int"), ("rows_deleted", "int"), ("rows_rejected", "int"),
    ("started_at", "timestamp"), ("seconds", "float"), ("status", "text"),
), ("batch_id", "table_name"))
REJECTS = Table(META, "rejects", (
    ("batch_id", "text"), ("source", "text"), ("table_name", "text"), ("record_key", "text"),
    ("reason", "text"), ("payload", "text"), ("rejected_at", "timestamp"),
), ())
# One row per `deltastore build` and one per node of it: the sync gate and the SLO report
# read them, since steps on Kubernetes share the warehouse but no files.
DBT_BUILDS = Table(META, "dbt_builds", (
    ("invocation_id", "text"), ("command", "text"), ("generated_at", "timestamp"),
    ("run_date", "text"), ("success", "bool"),
    ("failed_nodes", "text"),  # JSON list of `unique_id (status)`
    ("recorded_at", "timestamp"),
    # The dbt project's files, hashed (transform/retry.py): `--retry-failed` trusts a build
    # of the same project only. Added later: older warehouses get it by ALTER TABLE.
    ("project_hash", "text"),
    # What it was built from (transform/changed.py, JSON): `--changed-only` builds only the
    # nodes whose inputs changed since. Added later, as project_hash.
    ("inputs", "text"),
), ("invocation_id",))
DBT_BUILD_NODES = Table(META, "dbt_build_nodes", (
    ("invocation_id", "text"), ("unique_id", "text"), ("resource_type", "text"),
    ("status", "text"), ("seconds", "float"), ("message", "text"),
), ())

# Every node of the dbt project as of the last build, flagged when it feeds a published
# mart (transform/lineage.py): the gate asks for the latest status of each of those.
DBT_PROJECT_NODES = Table(META, "dbt_project_nodes", (
    ("unique_id", "text"), ("resource_type", "text"), ("feeds_marts", "bool"),
    ("recorded_at", "timestamp"),
), ("unique_id",))

# Each mart's key columns as of the last build (a JSON list), proven by its data tests
# (transform/lineage.py, mart_keys): the sync's incremental publish matches rows by them.
DBT_MART_KEYS = Table(META, "dbt_mart_keys", (
    ("mart", "text"), ("key_columns", "text"), ("recorded_at", "timestamp"),
), ("mart",))

# The table each mart builds in schema analytics as of the last build, with its node
# (transform/lineage.py, mart_tables): the sync publishes these tables and no other.
DBT_MART_TABLES = Table(META, "dbt_mart_tables", (
    ("mart", "text"), ("unique_id", "text"), ("recorded_at", "timestamp"),
), ("mart",))

# Every change of a source's shape the extract found (extract/drift.py), each recorded once:
# what changed, what DELTASTORE_SCHEMA_CHANGES said and what the extract did about it.
SCHEMA_CHANGES = Table(META, "schema_changes", (
    ("detected_at", "timestamp"), ("run_id", "text"), ("source", "text"),
    ("table_name", "text"), ("column_name", "text"),
    ("change", "text"),     # added | missing | retyped | nullability
    ("old_type", "text"), ("new_type", "text"),
    ("policy", "text"),     # evolve | freeze | ignore
    ("action", "text"),     # landed | not landed | stopped | accepted
    ("detail", "text"),
), ())
# The legacy tables' columns as the source's catalog last declared them, saved with each
# load: a change of type or nullability is measured against them.
SOURCE_COLUMNS = Table(META, "source_columns", (
    ("table_name", "text"), ("column_name", "text"), ("data_type", "text"),
    ("nullable", "bool"), ("seen_at", "timestamp"),
), ("table_name", "column_name"))
# The bookkeeping tables every extract writes to.
EXTRACT_META_TABLES: tuple[Table, ...] = (LOAD_STATE, REJECTS, SCHEMA_CHANGES, SOURCE_COLUMNS)

# Free text without a length bound: descriptions, reviews, addresses, and the rejected
# records kept whole. SQL Server stores these as NVARCHAR(MAX); any other text column as
# NVARCHAR(4000), where a longer value is a data error naming the row.
FREE_TEXT: frozenset[tuple[str, str, str]] = frozenset({
    (NEW_STORE, "products", "title"), (NEW_STORE, "products", "description"),
    (NEW_STORE, "products", "image"), (NEW_STORE, "users", "street"),
    (OLD_STORE, "customers", "address"), (OLD_STORE, "suppliers", "address"),
    (OLD_STORE, "products", "product_name"), (OLD_STORE, "reviews", "review_text"),
    (META, "rejects", "reason"), (META, "rejects", "payload"),
    (META, "schema_changes", "detail"),  # names every column of the table
})


def table(schema: str, name: str) -> Table:
    """Look a raw table up by schema and name."""
    for t in ALL_TABLES + EXTRACT_META_TABLES + (DBT_BUILDS, DBT_BUILD_NODES,
                                                 DBT_PROJECT_NODES, DBT_MART_KEYS):
        if t.schema == schema and t.name == name:
            return t
    raise KeyError(f"{schema}.{name}")
