"""One more day of the legacy shop: what the daily run of the pipeline meets.

``apply_next_day`` writes into a demo legacy database (SQLite, DuckDB or SQL Server), in
one transaction, the day after its newest order:

- that day's new orders, a day's share of the demo year's (at least one), each with its
  items, payment and shipment, made by the generator (``LegacyData.order``) for order
  numbers past the last and moved to that day at their generated time of day; a shipment
  just made is ``Pending`` with no tracking number yet;
- status updates on recent orders: as many shipments as the day has orders, among the
  ``Pending`` and ``Shipped`` ones of the last two weeks (oldest first), move on a step
  (a pending one is shipped, a shipped one delivered that day) and their pending payments
  complete; ``updated_at`` is stamped with that day, as the shop's own system does;
- a few deletions: one order in a hundred of the day's count, the oldest of the last month
  whose number the day's key picks, with its items, payment and shipment.

The same database and scale always give the same day. Rows are built by the generator's
public functions, so the day has whatever shape the generator gives the year.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from deltastore.db import connect
from deltastore.dburl import DatabaseURL
from deltastore.errors import ConfigError, TransientError
from deltastore.extract.demo.legacy_data import TABLES, insert_sql, row_adapter, table_ref
from deltastore.extract.demo.legacy_records import LegacyData
from deltastore.extract.demo.rng import Rng
from deltastore.sql_names import quote

_STREAM = 101  # the keyed generator's stream for next-day choices (the year uses 1-7)
RECENT_DAYS = 14
PURGE_WINDOW_DAYS = 30


@dataclass
class DayChanges:
    day: dt.date
    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        tables = sorted(set(self.inserted) | set(self.updated) | set(self.deleted))
        return [f"  {t:<12} +{self.inserted.get(t, 0):,} ~{self.updated.get(t, 0):,} "
                f"-{self.deleted.get(t, 0):,}" for t in tables]


def apply_next_day(url: DatabaseURL, scale: float = 1.0, seed: int = 42) -> DayChanges:
    """Write the day after the newest order into the legacy database at ``url``."""
    conn = connect(url)
    try:
        day = _Day(conn, url.kind, LegacyData(scale, seed))
        changes = day.apply()
        conn.commit()
    except Exception as exc:
        conn.rollback()
        if isinstance(exc, (ConfigError, TransientError)):
            raise
        raise TransientError(f"writing the next day into `{url}` failed: {exc}") from None
    finally:
        conn.close()
    return changes


class _Day:
    def __init__(self, conn: Any, kind: str, data: LegacyData) -> None:
        self.conn, self.kind, self.data = conn, kind, data
        self.names = {name: table_ref(kind, table) for name, table in TABLES.items()}

    def apply(self) -> DayChanges:
        newest, last_order, orders = self._one(
            f"SELECT MAX(order_date), MAX(order_id), COUNT(*) FROM {self.names['orders']}")
        if newest is None:
            raise ConfigError("the legacy database has no orders: generate it first with "
                              "`deltastore demo-data legacy`")
        day = _moment(newest).date() + dt.timedelta(days=1)
        per_day = max(1, round(int(orders) / 365))
        changes = DayChanges(day)
        self._new_orders(changes, day, per_day, int(last_order))
        self._progress(changes, day, per_day)
        self._purge(changes, day, max(1, per_day // 100))
        return changes

    # --- the day's new orders ------------------------------------------------------------

    def _new_orders(self, changes: DayChanges, day: dt.date, count: int, last: int) -> None:
        first_id = 1 + max(last, *(int(self._one(f"SELECT MAX({quote(self.kind, c)}) FROM "
                                                 f"{self.names[t]}")[0] or 0)
                                   for t, c in (("payment", "payment_id"),
                                                ("shipments", "shipment_id"))))
        next_item = 1 + int(self._one(f"SELECT MAX(order_item_id) FROM "
                                      f"{self.names['order_items']}")[0] or 0)
        start = dt.datetime.combine(day, dt.time())
        rows: dict[str, list[tuple[Any, ...]]] = {"orders": [], "order_items": [],
                                                  "payment": [], "shipments": []}
        for i in range(first_id, first_id + count):
            made = self.data.order(i, next_item)
            next_item += len(made.items)
            order_id, customer, ordered, total, _ = made.order
            placed = start + (ordered - dt.datetime.combine(ordered.date(), dt.time()))
            rows["orders"].append((order_id, customer, placed, total, placed))
            rows["order_items"] += made.items
            rows["payment"].append(made.payment)
            shipment_id, _, _, _, carrier, _, _, _ = made.shipment
            rows["shipments"].append((shipment_id, order_id, placed, None, carrier, None,
                                      "Pending", placed))
        for table, values in rows.items():
            adapt = row_adapter(self.kind, TABLES[table])
            self._executemany(insert_sql(self.kind, TABLES[table]), [adapt(r) for r in values])
            changes.inserted[table] = len(values)

    # --- status updates on recent orders -------------------------------------------------

    def _progress(self, changes: DayChanges, day: dt.date, count: int) -> None:
        since = dt.datetime.combine(day - dt.timedelta(days=RECENT_DAYS), dt.time())
        shipments = self._all(
            f"SELECT shipment_id, order_id, LOWER(TRIM(shipment_status)) FROM "
            f"{self.names['shipments']} WHERE shipment_date >= ? AND "
            "LOWER(TRIM(shipment_status)) IN ('pending', 'shipped') "
            "ORDER BY shipment_date, shipment_id", (self._param(since),))[:count]
        moments = [self._param(dt.datetime.combine(day, dt.time(8)) + dt.timedelta(
            minutes=Rng(self.data.seed, _STREAM, int(s[0])).randint(0, 600)))
            for s in shipments]
        delivered = [(moment, moment, int(sid)) for (sid, _, status), moment
                     in zip(shipments, moments, strict=True) if status == "shipped"]
        shipped = [(f"DL{int(sid):012d}", moment, int(sid)) for (sid, _, status), moment
                   in zip(shipments, moments, strict=True) if status == "pending"]
        table = self.names["shipments"]
        self._executemany(f"UPDATE {table} SET shipment_status = 'Delivered', "
                          "delivery_date = ?, updated_at = ? WHERE shipment_id = ?", delivered)
        self._executemany(f"UPDATE {table} SET shipment_status = 'Shipped', "
                          "tracking_number = ?, updated_at = ? WHERE shipment_id = ?", shipped)
        changes.updated["shipments"] = len(shipments)
        pending = self._all(f"SELECT COUNT(*) FROM {self.names['payment']} WHERE "
                            "LOWER(TRIM(transaction_status)) = 'pending'")[0][0]
        for orders in _chunks(sorted(int(s[1]) for s in shipments)):
            self._run(f"UPDATE {self.names['payment']} SET transaction_status = "
                              f"'Completed' WHERE order_id IN ({orders}) AND "
                              "LOWER(TRIM(transaction_status)) = 'pending'")
        still = self._all(f"SELECT COUNT(*) FROM {self.names['payment']} WHERE "
                          "LOWER(TRIM(transaction_status)) = 'pending'")[0][0]
        changes.updated["payment"] = int(pending) - int(still)

    # --- a few deletions -----------------------------------------------------------------

    def _purge(self, changes: DayChanges, day: dt.date, count: int) -> None:
        since = dt.datetime.combine(day - dt.timedelta(days=PURGE_WINDOW_DAYS), dt.time())
        candidates = [int(r[0]) for r in self._all(
            f"SELECT order_id FROM {self.names['orders']} WHERE order_date >= ? AND "
            "order_date < ? ORDER BY order_id",
            (self._param(since), self._param(dt.datetime.combine(day, dt.time()))))]
        rng = Rng(self.data.seed, _STREAM, day.toordinal())
        chosen = sorted({candidates[rng.randint(0, len(candidates) - 1)]
                         for _ in range(count)} if candidates else set())
        for table in ("order_items", "payment", "shipments", "orders"):
            before = int(self._one(f"SELECT COUNT(*) FROM {self.names[table]}")[0])
            for orders in _chunks(chosen):
                self._run(f"DELETE FROM {self.names[table]} WHERE order_id IN ({orders})")
            changes.deleted[table] = before - int(self._one(
                f"SELECT COUNT(*) FROM {self.names[table]}")[0])

    # --- helpers -------------------------------------------------------------------------

    def _param(self, moment: dt.datetime) -> Any:
        # SQLite keeps timestamps as text, written as the generator writes them.
        return moment.isoformat(sep=" ") if self.kind == "sqlite" else moment

    def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        cursor = self.conn.cursor()
        try:
            cursor.execute(sql, params) if params else cursor.execute(sql)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def _run(self, sql: str) -> None:
        """A statement without parameters or rows (order_id has no index in the legacy
        schema: one statement per chunk of ids scans the table once, not once per id)."""
        cursor = self.conn.cursor()
        try:
            cursor.execute(sql)
        finally:
            cursor.close()

    def _one(self, sql: str) -> Any:
        return self._all(sql)[0]

    def _executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        cursor = self.conn.cursor()
        try:
            if self.kind == "mssql":
                cursor.fast_executemany = True
            cursor.executemany(sql, rows)
        finally:
            cursor.close()


def _chunks(ids: list[int], size: int = 1000) -> list[str]:
    """Integer ids as comma-separated lists of at most ``size`` (SQL Server takes at most
    2,100 parameters, so the ids are written into the statement; they are integers)."""
    return [", ".join(str(int(i)) for i in ids[start:start + size])
            for start in range(0, len(ids), size)]


def _moment(value: Any) -> dt.datetime:
    """A timestamp as the database returned it (SQLite: text)."""
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    return dt.datetime.fromisoformat(str(value))
