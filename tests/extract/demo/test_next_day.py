"""One more day of the demo legacy shop (extract/demo/next_day.py) on real databases."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import duckdb
import pytest

from deltastore.dburl import DatabaseURL
from deltastore.errors import ConfigError
from deltastore.extract.demo.legacy_data import generate_legacy_db
from deltastore.extract.demo.next_day import apply_next_day
from deltastore.workflows.cli import main

SCALE = 0.05


def _rows(url: DatabaseURL, sql: str) -> list[tuple]:
    assert url.path is not None
    if url.kind == "sqlite":
        with sqlite3.connect(url.path) as con:
            return con.execute(sql).fetchall()
    with duckdb.connect(str(url.path), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.parametrize("kind", ["sqlite", "duckdb"])
def test_a_day_of_orders_status_updates_and_deletions(tmp_path: Path, kind: str) -> None:
    url = DatabaseURL.parse(f"{kind}://{tmp_path / ('legacy.' + kind)}", "legacy")
    generate_legacy_db(url, scale=SCALE, workers=1)
    before = {t: _rows(url, f"select count(*) from {t}")[0][0]
              for t in ("orders", "order_items", "payment", "shipments")}
    per_day = round(before["orders"] / 365)
    # The day moves on the oldest pending or shipped parcels of the last two weeks.
    moving = dict(_rows(url, "select shipment_id, lower(trim(shipment_status)) from shipments "
                             "where shipment_date >= '2025-12-18' and "
                             "lower(trim(shipment_status)) in ('pending', 'shipped') "
                             f"order by shipment_date, shipment_id limit {per_day}"))

    day = apply_next_day(url, scale=SCALE)
    assert day.day == dt.date(2026, 1, 1)
    assert day.inserted["orders"] == day.inserted["payment"] == per_day
    new = _rows(url, "select o.order_id, count(distinct i.order_item_id), count(distinct "
                     "p.payment_id), max(s.shipment_status), max(s.tracking_number) "
                     "from orders o join order_items i using (order_id) join payment p "
                     "using (order_id) join shipments s using (order_id) "
                     "where o.order_date >= '2026-01-01' group by o.order_id")
    assert len(new) == per_day
    assert all(items >= 1 and payments == 1 and status == "Pending" and tracking is None
               for _, items, payments, status, tracking in new)
    assert day.updated["shipments"] == per_day
    assert sum(day.deleted.values()) >= 2 and day.deleted["orders"] >= 1
    moved = {sid: (status, str(delivered)[:10], tracking) for sid, status, delivered, tracking
             in _rows(url, "select shipment_id, shipment_status, delivery_date, "
                           "tracking_number from shipments where shipment_id in "
                           f"({', '.join(map(str, moving))})")}
    for sid, was in moving.items():
        if sid not in moved:
            continue  # purged with its order
        status, delivered, tracking = moved[sid]
        if was == "shipped":
            assert (status, delivered) == ("Delivered", "2026-01-01")
        else:
            assert status == "Shipped" and tracking == f"DL{sid:012d}"
    after = {t: _rows(url, f"select count(*) from {t}")[0][0] for t in before}
    for table in before:
        assert after[table] == (before[table] + day.inserted[table]
                                - day.deleted.get(table, 0)), table

    following = apply_next_day(url, scale=SCALE)
    assert following.day == dt.date(2026, 1, 2)


def test_the_same_database_gets_the_same_day(tmp_path: Path) -> None:
    days = []
    for name in ("a.db", "b.db"):
        url = DatabaseURL.parse(f"sqlite://{tmp_path / name}", "legacy")
        generate_legacy_db(url, scale=SCALE, workers=1)
        apply_next_day(url, scale=SCALE)
        days.append({t: _rows(url, f"select * from {t} order by 1")
                     for t in ("orders", "order_items", "payment", "shipments")})
    assert days[0] == days[1]


def test_the_cli_writes_the_next_day_and_refuses_an_empty_database(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DELTASTORE_DATA_DIR", str(tmp_path))
    assert main(["demo-data", "legacy", "--scale", str(SCALE)]) == 0
    assert main(["demo-data", "next-day", "--scale", str(SCALE)]) == 0
    out = capsys.readouterr().out
    assert "day 2026-01-01 written in" in out and "  orders       +" in out
    empty = tmp_path / "empty.db"
    with sqlite3.connect(empty) as con:
        con.execute("create table orders (order_id int, order_date text)")
    with pytest.raises(ConfigError, match="has no orders"):
        apply_next_day(DatabaseURL.parse(f"sqlite://{empty}", "legacy"), scale=SCALE)
