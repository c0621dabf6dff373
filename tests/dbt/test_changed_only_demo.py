"""The daily build of the real project (`deltastore build --changed-only`, what the
pipeline's dbt-build step runs) gives the same marts as a build of every node, day after day.

The real chain: the demo legacy database (SQLite) and the demo store on loopback, extracted
by the real extract, which records each load in `meta.load_state`; the real CLI builds and
records each build. Each day, a copy of the warehouse as the extract left it builds every
node, and every row of every mart must be the same as the daily build's.
"""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from recorded_builds import names, recorded

from deltastore.dburl import DatabaseURL
from deltastore.extract.demo import DEMO_END_DATE
from deltastore.extract.demo.legacy_data import generate_legacy_db
from deltastore.extract.demo.next_day import apply_next_day
from deltastore.extract.demo.store_server import DemoStore
from deltastore.extract.load import run_extract
from deltastore.settings import Settings
from deltastore.workflows import cli

LEGACY_SCALE, STORE_SCALE = 0.05, 0.02  # as the session's demo warehouse (conftest.py)
RUN_DATE = DEMO_END_DATE

# The marts' columns that say when they were built, not what they hold.
BUILD_TIME = {"kpi_pipeline_run": "built_at"}


@pytest.fixture
def daily(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A warehouse extracted and built once, the CLI pointed at it; yields the legacy DB."""
    legacy = tmp_path / "legacy.db"
    generate_legacy_db(DatabaseURL.parse(f"sqlite://{legacy}", "legacy"), scale=LEGACY_SCALE)
    with DemoStore(scale=STORE_SCALE) as store:
        for key, value in {"DELTASTORE_DATA_DIR": str(tmp_path / "daily"),
                           "DELTASTORE_STORE_API_URL": store.url,
                           "DELTASTORE_LEGACY_DB_URL": f"sqlite://{legacy}",
                           "DELTASTORE_RUN_DATE": RUN_DATE.isoformat()}.items():
            monkeypatch.setenv(key, value)
        monkeypatch.setattr(cli, "COMMAND_MODULES", ("deltastore.workflows.commands.dbt",))
        run_extract(Settings.from_env())
        assert cli.main(["build"]) == 0
        yield legacy


def marts(warehouse: Path) -> dict[str, list[tuple[object, ...]]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = [t for (t,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'analytics' "
            "and table_type = 'BASE TABLE' order by 1").fetchall()]
        out = {}
        for table in tables:
            columns = [c for (c,) in con.execute(
                "select column_name from information_schema.columns where table_schema = "
                "'analytics' and table_name = ? order by ordinal_position", [table]).fetchall()
                if c != BUILD_TIME.get(table)]
            listed = ", ".join(f'"{c}"' for c in columns)
            out[table] = con.execute(f"select {listed} from analytics.{table} order by all"
                                     ).fetchall()
        return out


def day(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, run_date: dt.date) -> set[str]:
    """Extract, then build the day both ways; the marts must match. The nodes built daily."""
    run_extract(Settings.from_env(), source="legacy-db")
    warehouse = Settings.from_env().warehouse_url.path
    assert warehouse is not None
    everything = tmp_path / f"everything-{len(list(tmp_path.glob('everything-*')))}"
    everything.mkdir()
    shutil.copy(warehouse, everything / warehouse.name)
    assert cli.main(["build", "--changed-only", "--run-date", run_date.isoformat()]) == 0
    built = names(recorded().nodes)
    with monkeypatch.context() as env:
        env.setenv("DELTASTORE_DATA_DIR", str(everything))
        assert cli.main(["build", "--run-date", run_date.isoformat()]) == 0
    daily_marts, all_marts = marts(warehouse), marts(everything / warehouse.name)
    assert len(daily_marts) >= 20 and daily_marts.keys() == all_marts.keys()
    for table, rows in all_marts.items():
        assert daily_marts[table] == rows, f"{run_date}: `{table}` differs from a full build"
    return built


@pytest.mark.slow
def test_the_daily_build_equals_a_build_of_everything_day_after_day(
        daily: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    # A day of orders, payments and shipments: customers and the web store rest.
    apply_next_day(DatabaseURL.parse(f"sqlite://{daily}", "legacy"), scale=LEGACY_SCALE)
    first = RUN_DATE + dt.timedelta(days=1)
    built = day(monkeypatch, tmp_path, first)
    assert {"model.deltastore.fct_payments", "model.deltastore.fct_shipments",
            "snapshot.deltastore.shipments_snapshot"} <= built
    assert not {"snapshot.deltastore.customers_snapshot", "model.deltastore.dim_customers",
                "model.deltastore.stg_new_store__products"} & built
    # Unit tests run on given rows, and the project's give their date too (overrides of the
    # var run_date): a new day's data and date run none of them.
    assert "model.deltastore.kpi_active_customers" in built
    assert not {uid for uid in built if uid.startswith("unit_test.")}

    # A customer moves: their snapshot, dimension and what reads it.
    with sqlite3.connect(daily) as con:
        con.execute("update customers set address = '9 Elm St, Salem, OR', "
                    "updated_at = '2026-01-02 09:00:00' where customer_id = "
                    "(select min(customer_id) from customers)")
    built = day(monkeypatch, tmp_path, first)
    assert {"snapshot.deltastore.customers_snapshot", "model.deltastore.dim_customers"} <= built
    assert not {"snapshot.deltastore.shipments_snapshot", "model.deltastore.fct_products"} & built
    assert not {uid for uid in built if uid.startswith("unit_test.")}   # the same date

    # Nothing new, the same day: nothing is built.
    capsys.readouterr()
    assert cli.main(["build", "--changed-only", "--run-date", first.isoformat()]) == 0
    assert "nothing to build" in capsys.readouterr().out
