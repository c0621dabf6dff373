"""A sync killed with SIGKILL at any point leaves the target equal to the last whole publish,
and the next sync finishes the job without publishing everything again.

Each sync runs in its own process (as in an Argo pod); the hook (sync/publish.py, SyncHook)
kills that process at the chosen point with signal 9, the way the kernel's OOM killer or a
node failure ends a pod: no exception handler, no cleanup, DuckDB files left mid-write.
"""

from __future__ import annotations

import json

import duckdb
import pytest
from killed_sync import kill_sync_at
from published import contents, record_passing_build
from shop_data import DAY, KEYS, PROJECT, change

from deltastore.settings import Settings
from deltastore.sync import sync_marts
from deltastore.transform.lineage import ProjectNode

# (stage, table, whether the target holds the new marts once the sync is killed there)
POINTS = [
    ("planned", "fct_lines", False),   # diffs and snapshots half made in the warehouse
    ("recorded", "", False),           # the pending publish recorded, nothing on the target
    ("swap", "fct_lines", False),      # inside the publish transaction
    ("committed", "", True),           # the target committed, the record not promoted
    ("promoted", "", True),            # the record promoted, staged tables not dropped
]


def _killed_sync(shop: Settings, stage: str, table: str, batched: bool) -> None:
    kill_sync_at(stage, table, {"DELTASTORE_DATA_DIR": str(shop.data_dir),
                                "DELTASTORE_BATCH_SIZE": "7"}, batched)


@pytest.mark.parametrize(("stage", "table", "published"),
                         POINTS + [("shadow-loaded", "fct_orders", False)])
@pytest.mark.parametrize("batched", [False, True])
def test_a_killed_sync_leaves_the_last_whole_publish(shop: Settings, stage: str,
                                                     table: str, published: bool,
                                                     batched: bool) -> None:
    sync_marts(shop, echo=lambda _: None, batched=batched)
    before = contents(shop.sync_target_url.path)
    change(shop, *DAY)
    if stage == "shadow-loaded":  # a new mart: its shadow is loaded before the transaction
        change(shop, "create table analytics.fct_orders_2 as select * "
                          "from analytics.fct_orders")
        record_passing_build(shop, [*PROJECT, ProjectNode("model.deltastore.fct_orders_2",
                                                          "model", True)], KEYS, "inv-2")
        table = "fct_orders_2"
    after = contents(shop.warehouse_url.path)
    _killed_sync(shop, stage, table, batched)
    # DuckDB shadows wait in `analytics` under a suffix (sync/statements.py) until the next
    # sync drops them; the marts are what readers see.
    marts = {name: rows for name, rows in contents(shop.sync_target_url.path).items()
             if not name.endswith(("__sync_shadow", "__sync_old"))}
    assert marts == (after if published else before)

    lines: list[str] = []
    results = sync_marts(shop, echo=lines.append, batched=batched)
    assert contents(shop.sync_target_url.path) == after
    # The next sync goes on from the record: never everything again.
    assert not any(line.startswith("sync: publishing every mart in full") for line in lines)
    assert ("completing its record" in "\n".join(lines)) == (stage == "committed")
    if published:
        assert {r.action for r in results} == {"keep"}
    # And the record stays right for the day after.
    change(shop, "update analytics.fct_orders set amount = amount * 2 where order_id < 20")
    results = sync_marts(shop, echo=lines.append, batched=batched)
    assert {r.table: r.action for r in results}["fct_orders"] == "delta"
    assert contents(shop.sync_target_url.path) == contents(shop.warehouse_url.path)
    with duckdb.connect(str(shop.warehouse_url.path), read_only=True) as con:
        statuses = json.dumps(con.execute("select status, count(*) from meta_sync.publishes "
                                          "group by all order by 1").fetchall())
    assert "pending" not in statuses
