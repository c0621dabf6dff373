"""`deltastore build` names the tables and views that no node of the project builds any
more (dbt never drops them): the lineage rule on a manifest, then real builds of the mini
project (tests/transform/dbt_mini_project) by the real CLI."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from deltastore.transform.lineage import orphan_relations
from deltastore.workflows import cli


def test_orphans_are_the_relations_of_the_project_s_schemas_no_node_builds() -> None:
    def node(kind: str, schema: str, materialized: str, alias: str | None = None
             ) -> dict[str, object]:
        return {"resource_type": kind, "schema": schema, "alias": alias,
                "config": {"materialized": materialized}}

    manifest = {"nodes": {
        "model.p.stg_a": node("model", "staging", "view"),
        "model.p.fct_b": node("model", "analytics", "table", alias="fct_orders"),
        "model.p.inline": node("model", "intermediate", "ephemeral"),
        "seed.p.codes": node("seed", "seeds", "seed"),
        "test.p.t": node("test", "dbt_test__audit", "test"),
    }}
    warehouse = [("staging", "stg_a"), ("ANALYTICS", "FCT_ORDERS"), ("analytics", "fct_b"),
                 ("analytics", "fct_orders__dbt_tmp"), ("seeds", "codes"),
                 ("intermediate", "inline"), ("old_store", "orders"), ("meta", "dbt_builds"),
                 ("dbt_test__audit", "t")]
    # `intermediate` holds no relation of the project (its one model is ephemeral), and
    # raw, meta and test-audit schemas are not the project's: none of theirs is named.
    assert orphan_relations(manifest, warehouse) == [("analytics", "fct_b")]


def test_a_build_names_what_a_removed_model_left_behind(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    extra = project / "models" / "marts" / "fct_extra.sql"
    extra.write_text("select 1 as id\n")
    assert cli.main(["build"]) == 0
    assert "built by no node" not in capsys.readouterr().out

    extra.unlink()
    warehouse = project.parent / "data" / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table analytics.dim_customers__dbt_tmp as select 1 as id")
        con.execute('create table analytics."FCT_Legacy" as select 1 as id')
    assert cli.main(["build"]) == 0
    out = capsys.readouterr().out
    assert ("build: `analytics.fct_extra` is built by no node of the dbt project (a model, "
            "seed or snapshot removed or renamed?); dbt never drops it: drop it once nothing "
            "outside the project reads it") in out
    # named as the warehouse spells it: on a case-sensitive database only that name drops
    assert "build: `analytics.FCT_Legacy` is built by no node" in out
    assert out.count("built by no node") == 2   # dbt's own leftover is not one
