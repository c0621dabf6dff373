"""The marts ERD (Mermaid) from dbt's manifest, and `deltastore docs`, on real dbt runs."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from deltastore.settings import Settings
from deltastore.transform.docs import current_build_manifest, external_references, generate_docs
from deltastore.transform.erd import marts_erd, write_erd
from deltastore.transform.manifest import load_manifest
from deltastore.transform.runner import run_dbt, target_dir
from deltastore.workflows import cli

MINI_PROJECT = Path(__file__).parent / "dbt_mini_project"
REAL_PROJECT = Path(__file__).resolve().parents[2] / "dbt"

MINI_ERD = '''erDiagram
    dim_customers {
        integer customer_id PK "The customer's id in the shop."
        varchar state_code "Two-letter 'state' code."
        varchar state_name
        date as_of_date
    }
    fct_orders {
        integer order_id PK
        unknown customer_id FK "Who ordered."
        decimal amount
    }
    dim_customers |o--o{ fct_orders : "customer_id"
'''


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    root = tmp_path_factory.mktemp("erd")
    shutil.copytree(MINI_PROJECT, root / "project")
    return Settings.from_env({"DELTASTORE_DATA_DIR": str(root / "data"),
                              "DELTASTORE_DBT_PROJECT_DIR": str(root / "project"),
                              "DELTASTORE_RUN_DATE": "2024-06-30"})


def test_erd_of_the_mini_project(mini: Settings, tmp_path: Path) -> None:
    run = run_dbt(mini, "parse", echo=None)
    run.raise_for_status()
    out = tmp_path / "erd.md"
    diagram = write_erd(load_manifest(run.target_dir / "manifest.json"), None, out)
    assert diagram == MINI_ERD
    text = out.read_text()
    assert text.startswith("# Entity-relationship diagram of the marts (schema `analytics`)")
    assert f"```mermaid\n{MINI_ERD}```\n" in text


def test_catalog_types_fill_in_missing_yml_types() -> None:
    manifest = {"nodes": {"model.p.m": {
        "resource_type": "model", "name": "m", "schema": "analytics",
        "columns": {"a": {"name": "a", "description": 'say "hi" to `x`'}}}}}
    catalog = {"nodes": {"model.p.m": {"columns": {
        "A": {"name": "A", "type": "DECIMAL(18,2)", "index": 1}}}}}
    assert "decimal a \"say 'hi' to x\"" in marts_erd(manifest, catalog)
    # no yml columns at all: the catalog's, in table order
    del manifest["nodes"]["model.p.m"]["columns"]
    catalog["nodes"]["model.p.m"]["columns"]["B"] = {"name": "B", "type": "TIMESTAMP WITH TIME "
                                                     "ZONE", "index": 0}
    lines = marts_erd(manifest, catalog).splitlines()
    assert lines[2:4] == ["        timestamp_with_time_zone B", "        decimal A"]


def test_erd_of_the_real_marts(tmp_path: Path) -> None:
    settings = Settings.from_env({"DELTASTORE_DATA_DIR": str(tmp_path),
                                  "DELTASTORE_DBT_PROJECT_DIR": str(REAL_PROJECT)})
    run = run_dbt(settings, "parse", echo=None)
    run.raise_for_status()
    manifest = json.loads((run.target_dir / "manifest.json").read_text())
    diagram = marts_erd(manifest)
    entities = set(re.findall(r"^    (\w+) \{", diagram, re.MULTILINE))
    marts = {p.stem for p in (REAL_PROJECT / "models" / "marts").rglob("*.sql")}
    assert entities == marts
    # every relationships test between two marts is drawn
    names = {uid: n["name"] for uid, n in manifest["nodes"].items()}
    expected = set()
    for node in manifest["nodes"].values():
        if (node.get("test_metadata") or {}).get("name") != "relationships":
            continue
        child = node["attached_node"]
        parents = [p for p in node["depends_on"]["nodes"] if p != child] or [child]
        if names.get(child) in marts and names.get(parents[0]) in marts:
            expected.add((names[parents[0]], names[child], node["column_name"]))
    drawn = set(re.findall(r'^    (\w+) \S+ (\w+) : "(\w+)"$', diagram, re.MULTILINE))
    assert expected and drawn == expected


def build_with_customers(mini: Settings) -> None:
    """Two customers in the mini project's source, then a complete build."""
    warehouse = mini.warehouse_url.path
    assert warehouse is not None
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema if not exists shop")
        con.execute("create or replace table shop.customers as select *, now() as _loaded_at "
                    "from (values (1, 'CA', 'Ann'), (2, 'NY', 'Bob')) as t (id, state, name)")
    run_dbt(mini, "build", echo=None).raise_for_status()


def test_docs_site_and_erd(mini: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                           capsys: pytest.CaptureFixture[str]) -> None:
    """`deltastore docs`: one self-contained HTML page and the ERD with warehouse types."""
    build_with_customers(mini)
    build_results = (target_dir(mini) / "run_results.json").read_bytes()
    for key, value in {"DELTASTORE_DATA_DIR": str(mini.data_dir),
                       "DELTASTORE_DBT_PROJECT_DIR": str(mini.dbt_project_dir)}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("deltastore.workflows.commands.dbt",))
    out = tmp_path / "site"
    assert cli.main(["docs", "--out", str(out)]) == 0
    assert f"docs: {out / 'index.html'}" in capsys.readouterr().out
    html = (out / "index.html").read_text()
    assert external_references(html) == ()
    assert '"send_anonymous_usage_stats": false' in html  # dbt's tracker stays off
    assert "erDiagram" in html and "dim_customers |o--o{ fct_orders" in html
    erd = (out / "marts-erd.md").read_text()
    # fct_orders.customer_id has no yml type: the catalog of the built warehouse supplies it
    assert "unknown" not in erd and " customer_id FK" in erd
    assert sorted(p.name for p in out.iterdir()) == ["index.html", "marts-erd.md"]
    # The sync gate and the SLO report still see the build's results, not the docs run's.
    assert (target_dir(mini) / "run_results.json").read_bytes() == build_results


def test_docs_reuse_a_current_build_and_compile_after_a_change(
        mini: Settings, tmp_path: Path) -> None:
    """After a complete build of the project as it is, the site documents the build's own
    manifest (the SQL each node ran) and dbt only reads the catalog (`--no-compile` writes
    no manifest); once a project file changes, docs compile the project again."""
    import os

    build_with_customers(mini)
    built = json.loads((target_dir(mini) / "manifest.json").read_text())
    ran = built["nodes"]["model.mini.dim_customers"]["compiled_code"]
    docs_target = target_dir(mini, "docs generate")
    shutil.rmtree(docs_target, ignore_errors=True)

    assert current_build_manifest(mini) is not None
    generate_docs(mini, tmp_path / "reused", echo=None)
    assert not (docs_target / "manifest.json").exists()  # nothing was compiled
    assert (docs_target / "catalog.json").is_file()
    assert json.dumps(ran) in (tmp_path / "reused" / "index.html").read_text()

    model = next(mini.dbt_project_dir.rglob("dim_customers.sql"))
    later = (target_dir(mini) / "manifest.json").stat().st_mtime + 5
    os.utime(model, (later, later))
    assert current_build_manifest(mini) is None
    generate_docs(mini, tmp_path / "compiled", echo=None)
    assert (docs_target / "manifest.json").is_file()


def test_external_references_are_found() -> None:
    page = ('<script src="https://cdn.example.com/x.js"></script><link href=//fonts.x/y.css>'
            '<style>a{background:url("http://img.example/b.png")}</style>'
            '<a href="https://docs.getdbt.com">a link is fine</a><script src="local.js">')
    assert external_references(page) == ("//fonts.x/y.css", "http://img.example/b.png",
                                          "https://cdn.example.com/x.js")
