"""Which dbt nodes feed the published marts, read from dbt's manifest.json.

The sync publishes the tables of schema ``analytics``; every model, seed and snapshot they
are built from, and every data or unit test on any of those, decides whether they may be
published. ``deltastore build`` records this list in the warehouse
(``meta.dbt_project_nodes``) with each build, so the sync gate, in a pod with no dbt files,
knows which nodes to ask about.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MART_SCHEMA = "analytics"  # what sync.publish copies
_BUILT = ("model", "seed", "snapshot")


@dataclass(frozen=True)
class ProjectNode:
    unique_id: str
    resource_type: str
    feeds_marts: bool


def project_nodes(manifest: Mapping[str, Any]) -> list[ProjectNode]:
    """Every model, seed, snapshot, test and unit test, flagged when it feeds a mart."""
    nodes: dict[str, Any] = dict(manifest.get("nodes") or {})
    nodes.update(manifest.get("unit_tests") or {})
    marts = [uid for uid, node in nodes.items()
             if node.get("resource_type") == "model" and node.get("schema") == MART_SCHEMA
             and (node.get("config") or {}).get("materialized") != "view"]
    feeding = _ancestors(nodes, marts)
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
