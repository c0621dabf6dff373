"""Which incremental models a build's tests verified, and the hash they passed under
(transform/verification.py), on manifests and run results in dbt's own shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from deltastore.settings import Settings
from deltastore.transform.build_log import record_build
from deltastore.transform.verification import verification_hash, verified_models


def _model(name: str, strategy: str | None, alias: str | None = None) -> dict[str, Any]:
    config: dict[str, Any] = {"materialized": "incremental" if strategy else "table"}
    if strategy:
        config["incremental_strategy"] = strategy
    return {"resource_type": "model", "name": name, "alias": alias or name, "config": config}


def _test(*parents: str) -> dict[str, Any]:
    return {"resource_type": "test", "depends_on": {"nodes": list(parents)}}


MANIFEST = {"nodes": {
    "model.p.fct_orders": _model("fct_orders", "delete_affected"),
    "model.p.fct_lines": _model("fct_lines", "delete_affected", alias="fct_order_lines"),
    "model.p.fct_notes": _model("fct_notes", "delete_affected"),
    "model.p.fct_merged": _model("fct_merged", "merge"),
    "model.p.dim_products": _model("dim_products", None),
    "test.p.unique_orders": _test("model.p.fct_orders"),
    "test.p.lines_to_orders": _test("model.p.fct_lines", "model.p.fct_orders"),
    "test.p.unique_lines": _test("model.p.fct_lines"),
    "test.p.lines_to_products": _test("model.p.fct_lines", "model.p.dim_products"),
    "test.p.unique_merged": _test("model.p.fct_merged"),
}}


def _results(**statuses: str) -> dict[str, Any]:
    return {"results": [{"unique_id": f"test.p.{name}", "status": status}
                        for name, status in statuses.items()]}


def test_a_model_is_verified_when_every_test_that_reads_it_passed() -> None:
    passed = _results(unique_orders="pass", lines_to_orders="pass", unique_lines="pass",
                      lines_to_products="pass", unique_merged="pass")
    # by table name (the alias), delete_affected models only; one with no test has nothing
    # left to verify
    assert verified_models(MANIFEST, passed) == ["fct_notes", "fct_order_lines", "fct_orders"]


def test_a_failure_warning_or_test_not_run_keeps_the_rows_to_read_again() -> None:
    # the relationship from the lines reads the orders too: its failure keeps both
    assert verified_models(MANIFEST, _results(
        unique_orders="pass", lines_to_orders="fail", unique_lines="pass",
        lines_to_products="pass")) == ["fct_notes"]
    assert verified_models(MANIFEST, _results(
        unique_orders="pass", lines_to_orders="pass", unique_lines="warn",
        lines_to_products="pass")) == ["fct_notes", "fct_orders"]
    # a build that selected the orders' own test only
    assert verified_models(MANIFEST, _results(unique_orders="pass")) == ["fct_notes"]
    assert verified_models(MANIFEST, _results(
        unique_orders="skipped", lines_to_orders="pass")) == ["fct_notes"]


def test_the_hash_follows_project_files_and_vars_but_not_the_run_date() -> None:
    base = verification_hash("files-1", {"run_date": "2026-01-02"})
    assert len(base) == 64 and int(base, 16) >= 0
    assert verification_hash("files-1") == base == verification_hash(
        "files-1", {"run_date": "2026-03-01"})
    assert verification_hash("files-2") != base
    assert verification_hash("files-1", {"on_time_days": 6}) != base


def test_recording_the_build_forgets_the_verified_models_keys_only(tmp_path: Path) -> None:
    settings = Settings.from_env({"DELTASTORE_DATA_DIR": str(tmp_path / "data")})

    def results(invocation: str) -> dict[str, Any]:
        return {"metadata": {"invocation_id": invocation,
                             "generated_at": "2026-03-01T04:05:06Z"},
                "args": {"which": "build"},
                "results": [{"unique_id": "model.p.fct_orders", "status": "success",
                             "execution_time": 1.0}]}

    # before dbt made the tables (a build recorded without its on-run-start): nothing to do
    record_build(settings, results("b1"), verified=(["fct_orders"], "h1", False))
    assert settings.warehouse_url.path is not None
    with duckdb.connect(str(settings.warehouse_url.path)) as con:
        # as dbt/macros/incremental/verification.sql makes and fills them
        con.execute("create table meta.dbt_unverified_keys "
                    "(model varchar, key_text varchar, invocation_id varchar)")
        con.execute("create table meta.dbt_verified_models (model varchar, project_hash "
                    "varchar, invocation_id varchar, verified_at timestamp, whole_at timestamp)")
        con.execute("insert into meta.dbt_unverified_keys values ('fct_orders', '1', 'b1'), "
                    "('fct_orders', '2', 'b2'), ('fct_lines', '1', 'b2')")
        con.execute("insert into meta.dbt_verified_models values ('fct_orders', 'h1', 'b0', "
                    "timestamp '2026-01-01', timestamp '2026-01-01'), ('fct_lines', 'h0', "
                    "'b0', timestamp '2026-01-01', timestamp '2026-01-01')")

    def verified() -> list[tuple[Any, ...]]:
        with duckdb.connect(str(settings.warehouse_url.path), read_only=True) as con:
            return con.execute("select model, project_hash, invocation_id, "
                               "whole_at = timestamp '2026-01-01' from meta.dbt_verified_models "
                               "order by model").fetchall()

    # under the same hash its tests read only the keys: when they last read all stays
    record_build(settings, results("b2"), verified=(["fct_orders"], "h1", False))
    with duckdb.connect(str(settings.warehouse_url.path), read_only=True) as con:
        assert con.execute("select model, key_text from meta.dbt_unverified_keys").fetchall() \
            == [("fct_lines", "1")]
    assert verified() == [("fct_lines", "h0", "b0", True), ("fct_orders", "h1", "b2", True)]
    # asked for whole tables, or verified under another hash for the first time: read whole
    record_build(settings, results("b3"), verified=(["fct_orders"], "h1", True))
    record_build(settings, results("b4"), verified=(["fct_lines"], "h1", False))
    assert verified() == [("fct_lines", "h1", "b4", False), ("fct_orders", "h1", "b3", False)]
