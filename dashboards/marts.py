"""Read the KPI marts the dashboards show from the sync target.

The names, grains and columns are the contract in ``docs/data-contracts.md``. Only plain
``SELECT … FROM analytics.<mart>`` is sent, so the same code reads the DuckDB sync target
and Azure SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deltastore.db import connect
from deltastore.dburl import DatabaseURL
from deltastore.errors import ConfigError, TransientError

SCHEMA = "analytics"

# Columns per KPI mart with their logical types (see deltastore/schemas.py).
KPI_MARTS: dict[str, tuple[tuple[str, str], ...]] = {
    "kpi_pipeline_run": (
        ("run_date", "date"), ("built_at", "timestamp"), ("first_order_date", "date"),
        ("last_order_date", "date"), ("last_loaded_at", "timestamp"), ("on_time_days", "int"),
    ),
    "kpi_customer_summary": (
        ("customers", "int"), ("ordering_customers", "int"), ("orders", "int"),
        ("revenue", "money"), ("average_order_value", "money"),
    ),
    "kpi_customers_by_state": (
        ("state_code", "text"), ("state_name", "text"), ("segment", "text"),
        ("customers", "int"), ("revenue", "money"),
    ),
    "kpi_monthly_revenue": (
        ("order_month", "date"), ("orders", "int"), ("revenue", "money"),
        ("average_order_value", "money"), ("revenue_trend", "money"),
        ("revenue_mom_growth", "float"), ("aov_mom_growth", "float"),
    ),
    "kpi_customer_segments": (
        ("segment", "text"), ("customers", "int"), ("revenue", "money"),
        ("average_order_value", "money"),
    ),
    "kpi_cohort_retention": (
        ("cohort_month", "date"), ("months_since_first_order", "int"), ("cohort_size", "int"),
        ("active_customers", "int"), ("retention_rate", "float"),
    ),
    "kpi_transaction_status": (
        ("transaction_status", "text"), ("payments", "int"), ("amount", "money"),
        ("amount_share", "float"),
    ),
    "kpi_product_performance": (
        ("unified_product_id", "text"), ("source_store", "text"), ("product_id", "int"),
        ("product_name", "text"), ("category", "text"), ("revenue", "money"),
        ("units_sold", "int"), ("average_rating", "float"), ("review_count", "int"),
        ("is_low_rating", "bool"), ("category_revenue_rank", "int"),
    ),
    "kpi_category_performance": (
        ("category", "text"), ("products", "int"), ("revenue", "money"), ("units_sold", "int"),
        ("average_rating", "float"), ("review_count", "int"), ("is_low_rating", "bool"),
    ),
    "kpi_carrier_performance": (
        ("carrier", "text"), ("shipments", "int"), ("finished", "int"), ("delivered", "int"),
        ("success_rate", "float"), ("avg_delivery_days", "float"),
        ("on_time_delivered", "int"), ("on_time_rate", "float"), ("is_best_carrier", "bool"),
    ),
    "kpi_delivery_by_state": (
        ("state_code", "text"), ("state_name", "text"), ("carrier", "text"),
        ("shipment_status", "text"), ("shipments", "int"), ("delivered", "int"),
        ("total_delivery_days", "float"), ("avg_delivery_days", "float"),
    ),
    # Filter marts: month x store x the page's filter dimensions, additive measures.
    "kpi_customer_activity": (
        ("order_month", "date"), ("source_store", "text"), ("segment", "text"),
        ("state_code", "text"), ("orders", "int"), ("revenue", "money"),
        ("new_customers", "int"),
    ),
    "kpi_active_customers": (
        ("order_month", "date"), ("previous_order_month", "date"), ("source_store", "text"),
        ("segment", "text"), ("state_code", "text"), ("customers", "int"),
    ),
    "kpi_cohort_activity": (
        ("cohort_month", "date"), ("months_since_first_order", "int"), ("source_store", "text"),
        ("segment", "text"), ("state_code", "text"), ("active_customers", "int"),
    ),
    "kpi_category_sales": (
        ("order_month", "date"), ("source_store", "text"), ("category", "text"),
        ("order_lines", "int"), ("revenue", "money"), ("units_sold", "int"),
    ),
    "kpi_category_ratings": (
        ("category", "text"), ("source_store", "text"), ("products", "int"),
        ("rated_products", "int"), ("low_rated_products", "int"), ("revenue", "money"),
        ("units_sold", "int"), ("rating_total", "float"), ("review_count", "int"),
    ),
    "kpi_payment_activity": (
        ("order_month", "date"), ("source_store", "text"), ("transaction_status", "text"),
        ("payments", "int"), ("amount", "money"),
    ),
    "kpi_shipment_activity": (
        ("shipment_month", "date"), ("source_store", "text"), ("state_code", "text"),
        ("carrier", "text"), ("shipment_status", "text"), ("shipments", "int"),
        ("finished", "int"), ("delivered", "int"), ("total_delivery_days", "int"),
        ("on_time_delivered", "int"),
    ),
}

Row = dict[str, Any]


@dataclass(frozen=True)
class Marts:
    """The rows of every KPI mart, keyed by mart name, values as the driver returned them."""

    tables: Mapping[str, list[Row]]

    def rows(self, name: str) -> list[Row]:
        return self.tables[name]

    def one(self, name: str) -> Row | None:
        """The single row of a one-row mart, or None when the mart is empty."""
        rows = self.tables[name]
        return rows[0] if rows else None


def read_marts(url: DatabaseURL) -> Marts:
    """Read every KPI mart; a missing mart raises ConfigError saying how to build it."""
    connection = connect(url, read_only=True)
    try:
        cursor = connection.cursor()
        missing = sorted(set(KPI_MARTS) - set(_analytics_tables(cursor)))
        if missing:
            names = ", ".join(f"`{SCHEMA}.{name}`" for name in missing)
            raise ConfigError(
                f"the sync target `{url}` has no {names}; build and publish the marts with "
                "`deltastore run` (or `deltastore build` then `deltastore sync`)"
            )
        tables = {name: _select(cursor, name, columns) for name, columns in KPI_MARTS.items()}
    finally:
        connection.close()
    return Marts(tables)


def _analytics_tables(cursor: Any) -> list[str]:
    cursor.execute(
        # Upper case: a case-sensitive SQL Server database resolves these names as written.
        "select TABLE_NAME from INFORMATION_SCHEMA.TABLES where TABLE_SCHEMA = ?", [SCHEMA]
    )
    return [row[0] for row in cursor.fetchall()]


def _select(cursor: Any, name: str, columns: tuple[tuple[str, str], ...]) -> list[Row]:
    names = [column for column, _ in columns]
    try:
        cursor.execute(f"select {', '.join(names)} from {SCHEMA}.{name}")
        fetched = cursor.fetchall()
    except Exception as exc:  # driver errors differ per database; name the mart and the fix
        raise TransientError(
            f"cannot read `{SCHEMA}.{name}` (columns {', '.join(names)}): {exc}; check that the "
            "marts match docs/data-contracts.md and rerun `deltastore sync`"
        ) from None
    return [dict(zip(names, row, strict=True)) for row in fetched]
