"""The data tests of an incremental model read only the rows written since its whole table
last passed them (dbt/macros/incremental/verification.sql, transform/verification.py).

Real `deltastore build`s of the real project, by the CLI in this process, on a copy of the
session's demo warehouse. Raw rows change the way the extract changes them (new values, a
later ``_loaded_at``). What the tests must still catch: a bad row written today, a bad row
written on a day whose build failed, an order deleted under a payment that did not change;
what they read in full: a model built whole, another project. What they no longer catch
is a row edited in a mart behind the build's back, and `--verify-whole-tables` does.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pytest

from deltastore.workflows import cli

if TYPE_CHECKING:  # the fixture's type; conftest modules are not importable packages
    from conftest import BuiltWarehouse

# Every test that reads the orders or the payments is built with them ("buildable"
# indirect selection): only then are they verified.
SELECT = "dim_customers fct_order_customers fct_order_items fct_payments fct_shipments"
STATUS_TEST = "accepted_values_fct_payments_transaction_status"
TO_ORDERS_TEST = "relationships_fct_payments_unified_order_id"


class Warehouse:
    def __init__(self, path: Path) -> None:
        self.path = path

    def sql(self, statement: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.path)) as con:
            return con.execute(statement, params or []).fetchall()

    def build(self, *args: str) -> int:
        return cli.main(["build", "--select", SELECT, *args])

    def results(self) -> dict[str, dict[str, Any]]:
        """The last build's tests, by name without their hash suffix."""
        data = json.loads((self.path.parent / "dbt" / "target" / "run_results.json")
                          .read_text())
        return {r["unique_id"].split(".")[2]: r for r in data["results"]
                if r["unique_id"].startswith("test.")}

    def test(self, prefix: str) -> dict[str, Any]:
        found = [r for name, r in self.results().items() if name.startswith(prefix)]
        assert len(found) == 1, prefix
        return found[0]

    def change_payment(self, payment_id: int, status: str) -> None:
        """The extract's way: new values and a later _loaded_at."""
        self.sql("update old_store.payment set transaction_status = ?, _loaded_at = "
                 "(select max(_loaded_at) from old_store.payment) + interval 1 second "
                 "where payment_id = ?", [status, payment_id])

    def verified(self) -> set[str]:
        return {r[0] for r in self.sql("select model from meta.dbt_verified_models")}

    def waiting_keys(self, model: str) -> int:
        return self.sql("select count(*) from meta.dbt_unverified_keys where model = ?",
                        [model])[0][0]


@pytest.fixture
def warehouse(demo_warehouse: BuiltWarehouse, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(demo_warehouse.path, data / demo_warehouse.path.name)
    monkeypatch.setenv("DELTASTORE_DATA_DIR", str(data))
    monkeypatch.setenv("DELTASTORE_RUN_DATE", demo_warehouse.run_date.isoformat())
    monkeypatch.setenv("DELTASTORE_DUCKDB_THREADS", "2")
    return Warehouse(data / demo_warehouse.path.name)


def _scoped(result: dict[str, Any]) -> bool:
    return "dbt_unverified_keys" in result["compiled_code"]


def test_tests_read_the_rows_written_since_they_last_passed(warehouse: Warehouse) -> None:
    payments = [r[0] for r in warehouse.sql(
        "select payment_id from old_store.payment where _deleted_at is null "
        "and transaction_status = 'Completed' order by payment_id limit 2")]
    bad, edited = payments

    # The first build of the session's warehouse by `deltastore build`: whole tables.
    assert warehouse.build() == 0
    assert not _scoped(warehouse.test(STATUS_TEST))
    assert {"fct_payments", "fct_order_customers"} <= warehouse.verified()
    assert warehouse.waiting_keys("fct_payments") == 0

    # A bad status loaded today fails the test, which read the payments written today only.
    warehouse.change_payment(bad, "Refunded twice")
    assert warehouse.build() != 0
    status = warehouse.test(STATUS_TEST)
    assert status["status"] == "fail" and status["failures"] == 1 and _scoped(status)
    assert warehouse.waiting_keys("fct_payments") >= 1

    # Nothing new the next day: the failed day's rows are still read, and still fail.
    assert warehouse.build() != 0
    assert warehouse.test(STATUS_TEST)["failures"] == 1

    # Fixed at the source: the build passes and forgets the keys. A status edited in the
    # mart itself, outside any build, is not among the rows read: the assumption the
    # incremental models make. The check of whole tables finds it.
    warehouse.change_payment(bad, "Completed")
    warehouse.sql("update analytics.fct_payments set transaction_status = 'Edited by hand' "
                  "where payment_id = ?", [edited])
    assert warehouse.build() == 0
    assert warehouse.waiting_keys("fct_payments") == 0
    assert warehouse.build("--verify-whole-tables") != 0
    status = warehouse.test(STATUS_TEST)
    assert not _scoped(status) and status["failures"] == 1


def test_a_deleted_order_is_checked_against_payments_that_did_not_change(
        warehouse: Warehouse) -> None:
    assert warehouse.build() == 0
    order, = warehouse.sql(
        "select p.unified_order_id from analytics.fct_payments p "
        "where p.unified_order_id is not null order by p.payment_id limit 1")[0]
    # As the orders' incremental run deletes a key: the row goes, the key is listed.
    warehouse.sql("delete from analytics.fct_order_customers where unified_order_id = ?",
                  [order])
    warehouse.sql("insert into meta.dbt_unverified_keys values "
                  "('fct_order_customers', ?, 'by the test')", [order])
    assert warehouse.build() != 0
    to_orders = warehouse.test(TO_ORDERS_TEST)
    assert _scoped(to_orders) and to_orders["status"] == "fail" and to_orders["failures"] == 1


def test_a_model_built_whole_or_another_project_is_tested_whole(
        warehouse: Warehouse) -> None:
    assert warehouse.build() == 0
    assert warehouse.build() == 0
    assert _scoped(warehouse.test(STATUS_TEST))

    # --full-refresh: the post-hook forgets the verification inside the model's transaction
    assert warehouse.build("--full-refresh") == 0
    assert not _scoped(warehouse.test(STATUS_TEST))
    assert warehouse.build() == 0
    assert _scoped(warehouse.test(STATUS_TEST))

    # other vars (as other project files) are another project: its tests read every row
    assert warehouse.build("--vars", '{"on_time_days": 6}') == 0
    assert not _scoped(warehouse.test(STATUS_TEST))


def test_the_daily_build_verifies_whole_tables_when_asked(
        warehouse: Warehouse, capsys: pytest.CaptureFixture[str]) -> None:
    """`--changed-only --verify-whole-tables`: every test of the incremental models runs,
    whole, on a day that changed nothing."""
    assert cli.main(["build"]) == 0  # every node recorded, which --changed-only reads
    edited = warehouse.sql("select payment_id from analytics.fct_payments "
                           "order by payment_id limit 1")[0][0]
    warehouse.sql("update analytics.fct_payments set transaction_status = 'Edited by hand' "
                  "where payment_id = ?", [edited])
    capsys.readouterr()
    assert cli.main(["build", "--changed-only"]) == 0
    assert "nothing to build" in capsys.readouterr().out  # the edit goes unseen
    assert cli.main(["build", "--changed-only", "--verify-whole-tables"]) != 0
    assert "because it tests an incremental model" in capsys.readouterr().out
    status = warehouse.test(STATUS_TEST)
    assert not _scoped(status) and status["failures"] == 1
    data = json.loads((warehouse.path.parent / "dbt" / "target" / "run_results.json")
                      .read_text())
    kinds = {r["unique_id"].split(".")[0] for r in data["results"]}
    assert kinds == {"test", "operation"}  # the tests and the hooks: no model was rebuilt


def test_the_daily_build_reads_whole_tables_again_after_a_week(
        warehouse: Warehouse, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """DELTASTORE_VERIFY_WHOLE_TABLES_DAYS (7 by default): once the last whole test is that
    old, the daily build tests whole tables by itself and records when."""
    assert cli.main(["build"]) == 0  # the first recorded tests: whole tables, now
    warehouse.sql("update analytics.fct_payments set transaction_status = 'Edited by hand' "
                  "where payment_id = (select min(payment_id) from analytics.fct_payments)")
    warehouse.sql("update meta.dbt_verified_models set whole_at = whole_at - interval 6 day")
    capsys.readouterr()
    assert cli.main(["build", "--changed-only"]) == 0  # six days: not yet
    assert "read whole tables" not in capsys.readouterr().out
    warehouse.sql("update meta.dbt_verified_models set whole_at = whole_at - interval 2 day")
    monkeypatch.setenv("DELTASTORE_VERIFY_WHOLE_TABLES_DAYS", "0")  # 0: only when asked
    assert cli.main(["build", "--changed-only"]) == 0
    monkeypatch.delenv("DELTASTORE_VERIFY_WHOLE_TABLES_DAYS")
    assert cli.main(["build", "--changed-only"]) != 0
    out = capsys.readouterr().out
    assert "tests last read whole tables on " in out and ", 8 days ago: this build's tests" in out
    assert warehouse.test(STATUS_TEST)["failures"] == 1
    # fixed by hand, the next daily build reads whole tables again and records it
    warehouse.sql("update analytics.fct_payments set transaction_status = 'Completed' "
                  "where transaction_status = 'Edited by hand'")
    assert cli.main(["build", "--changed-only"]) == 0
    tested_whole = warehouse.sql("select min(whole_at) from meta.dbt_verified_models")[0][0]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    assert now - dt.timedelta(hours=1) < tested_whole <= now
    capsys.readouterr()
    assert cli.main(["build", "--changed-only"]) == 0
    assert "nothing to build" in capsys.readouterr().out
