"""Which dbt nodes feed the published marts, read from dbt's manifest.json.

The sync publishes the tables of schema ``analytics``; every model, seed and snapshot they
are built from, and every data or unit test on any of those, decides whether they may be
published. ``deltastore build`` records this list in the warehouse
(``meta.dbt_project_nodes``) with each build, so the sync gate, in a pod with no dbt files,
knows which nodes to ask about. It also records each mart's key (``mart_keys``), which the
sync's incremental publish matches rows by, and the table each mart builds
(``mart_tables``): the sync publishes only those, so a table left in ``analytics`` by a
model since removed or renamed is not published as if the build had vouched for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

MART_SCHEMA = "analytics"  # what sync.publish copies
_BUILT = ("model", "seed", "snapshot")
_NO_TABLE = ("view", "ephemeral")  # materializations that leave no table to publish
# What dbt-sqlserver (and dbt-duckdb) leave behind when a build dies midway.
DBT_LEFTOVER_MARKS = ("__dbt_tmp", "__dbt_backup")


@dataclass(frozen=True)
class ProjectNode:
    unique_id: str
    resource_type: str
    feeds_marts: bool


def project_nodes(manifest: Mapping[str, Any]) -> list[ProjectNode]:
    """Every model, seed, snapshot, test and unit test, flagged when it feeds a mart."""
    nodes: dict[str, Any] = dict(manifest.get("nodes") or {})
    nodes.update(manifest.get("unit_tests") or {})
    feeding = _ancestors(nodes, list(_mart_nodes(nodes)))
    out = []
    for uid, node in sorted(nodes.items()):
        kind = str(node.get("resource_type", ""))
        if kind in _BUILT:
            feeds = uid in feeding
        elif kind in ("test", "unit_test"):
            feeds = any(parent in feeding for parent in _parents(node))
        else:
            continue
        out.append(ProjectNode(uid, kind, feeds))
    return out


def mart_tables(manifest: Mapping[str, Any]) -> dict[str, str]:
    """The table each mart builds in schema ``analytics`` (its alias), with its node's id."""
    return {_table_name(uid, node): uid
            for uid, node in _mart_nodes(manifest.get("nodes") or {}).items()}


def orphan_relations(manifest: Mapping[str, Any], relations: Iterable[tuple[str, str]]
                     ) -> list[tuple[str, str]]:
    """The (schema, name) ``relations`` of the warehouse that lie in a schema the project
    builds into but that no model, seed or snapshot builds: dbt never drops the table or
    view of a node removed or renamed. dbt's own leftovers (``x__dbt_tmp``) aside."""
    built = {(str(node.get("schema")).casefold(), _table_name(uid, node).casefold())
             for uid, node in _relation_nodes(manifest.get("nodes") or {}).items()}
    schemas = {schema for schema, _ in built}
    return sorted((schema, name) for schema, name in relations
                  if schema.casefold() in schemas and (schema.casefold(), name.casefold())
                  not in built and not is_dbt_leftover(name))


def _relation_nodes(nodes: Mapping[str, Any]) -> dict[str, Any]:
    """The models, seeds and snapshots that build a table or a view (not ephemeral)."""
    return {uid: node for uid, node in nodes.items()
            if node.get("resource_type") in _BUILT and node.get("schema")
            and _materialized(node) != "ephemeral"}


def _mart_nodes(nodes: Mapping[str, Any]) -> dict[str, Any]:
    """The models, seeds and snapshots that build a table in schema ``analytics``."""
    return {uid: node for uid, node in _relation_nodes(nodes).items()
            if node.get("schema") == MART_SCHEMA and _materialized(node) not in _NO_TABLE}


def _materialized(node: Mapping[str, Any]) -> Any:
    return (node.get("config") or {}).get("materialized")


def _table_name(uid: str, node: Mapping[str, Any]) -> str:
    return str(node.get("alias") or node.get("name") or uid.rsplit(".", 1)[-1])


def mart_keys(manifest: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Each mart's key columns, proven by the build's own data tests: a column with an
    enabled, error-severity, unfiltered ``unique`` test and ``not_null`` test, or a
    ``unique_combination`` whose every column has such a ``not_null`` test.

    Tests, not a model's ``unique_key`` config: the sync gate lets a build through only when
    these tests passed, so the key the sync matches rows by is one the data really has. A
    mart with several keys gets its first single-column one (in the order of its yml
    columns), else its first combination; a mart with none is absent.
    """
    nodes: Mapping[str, Any] = manifest.get("nodes") or {}
    marts = _mart_nodes(nodes)
    unique: dict[str, list[tuple[str, ...]]] = {uid: [] for uid in marts}
    not_null: dict[str, set[str]] = {uid: set() for uid in marts}
    for node in nodes.values():
        if node.get("resource_type") != "test" or not _binding(node):
            continue
        model = node.get("attached_node")
        meta = node.get("test_metadata") or {}
        if model not in marts or meta.get("namespace") is not None:
            continue
        kwargs = meta.get("kwargs") or {}
        name = meta.get("name")
        if name == "not_null" and kwargs.get("column_name"):
            not_null[model].add(str(kwargs["column_name"]))
        elif name == "unique" and kwargs.get("column_name"):
            unique[model].append((str(kwargs["column_name"]),))
        elif name == "unique_combination" and isinstance(kwargs.get("columns"), list):
            unique[model].append(tuple(str(c) for c in kwargs["columns"]))
    keys = {}
    for uid, candidates in unique.items():
        order = list((marts[uid].get("columns") or {}).keys())
        usable = [k for k in candidates if k and all(c in not_null[uid] for c in k)]
        usable.sort(key=lambda k: (len(k), [order.index(c) if c in order else len(order)
                                            for c in k]))
        if usable:
            keys[_table_name(uid, marts[uid])] = usable[0]
    return keys


def _binding(test: Mapping[str, Any]) -> bool:
    """A test that fails the build on every row: enabled, severity error, no `where`."""
    config = test.get("config") or {}
    return (config.get("enabled", True) is not False
            and str(config.get("severity", "error")).lower() == "error"
            and not config.get("where") and config.get("limit") is None)


def _parents(node: Mapping[str, Any]) -> list[str]:
    return list((node.get("depends_on") or {}).get("nodes") or [])


def _ancestors(nodes: Mapping[str, Any], roots: list[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        uid = todo.pop()
        if uid in seen or uid not in nodes:
            continue  # sources are not dbt nodes that run
        seen.add(uid)
        todo += _parents(nodes[uid])
    return seen


def is_dbt_leftover(name: str) -> bool:
    """A table or view dbt left behind (``x__dbt_tmp``, ``x__dbt_backup``): never one of
    the project's relations, never published."""
    return any(mark in name for mark in DBT_LEFTOVER_MARKS)
