"""Read dbt's manifest.json: the build layers the Argo DAG runs one after another.

The manifest is dbt's own description of the project (nodes, their paths, their
dependencies), so reading it keeps the DAG in step with the project without a second list.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from deltastore.errors import ConfigError

# Preferred order of the layers; dependencies between layers still win (see dbt_layers).
LAYER_ORDER = ("staging", "intermediate", "marts", "snapshots")


def load_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"`{path}` does not exist; run `deltastore build` or "
                          "`deltastore docs` first (dbt writes it)") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"`{path}` is not valid JSON ({exc}); run dbt again") from None
    return manifest


def project_nodes(manifest: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Models, seeds and snapshots of the root project (not of installed packages)."""
    project = manifest.get("metadata", {}).get("project_name")
    return {
        uid: node for uid, node in manifest.get("nodes", {}).items()
        if node.get("resource_type") in ("model", "seed", "snapshot")
        and (project is None or node.get("package_name") == project)
    }


def node_layer(node: Mapping[str, Any]) -> str:
    """Seeds go with staging; snapshots are their own layer; a model's layer is the first
    folder under its model path (``models/marts/kpi/x.sql`` is in ``marts``)."""
    kind = node["resource_type"]
    if kind == "seed":
        return "staging"
    if kind == "snapshot":
        return "snapshots"
    # fqn = [project, folder..., name]; a model at the top of the model path has no folder.
    fqn = node.get("fqn") or []
    return fqn[1] if len(fqn) > 2 else "models"


def _layer_selector(layer: str, nodes: list[dict[str, Any]]) -> str:
    parts: list[str] = []
    if any(n["resource_type"] == "seed" for n in nodes):
        parts.append("resource_type:seed")
    if layer == "snapshots":
        parts.append("resource_type:snapshot")
    models = [n for n in nodes if n["resource_type"] == "model"]
    if models:
        # `path:` selects the folder, so a model added later is built without a re-render.
        folders = sorted({_layer_folder(n) for n in models})
        parts += [f"path:{folder}" for folder in folders]
    return " ".join(parts)


def _layer_folder(node: Mapping[str, Any]) -> str:
    original = Path(node["original_file_path"])
    relative = Path(node["path"])  # path inside the model path
    root = original.parts[: len(original.parts) - len(relative.parts)]
    if len(relative.parts) == 1:  # top-level model: select the file itself
        return original.as_posix()
    return Path(*root, relative.parts[0]).as_posix()


def dbt_layers(manifest_path: Path | str) -> list[tuple[str, str]]:
    """Ordered ``(layer name, dbt selector)`` pairs: ``seeds+staging``, ``intermediate``,
    ``marts``, ``snapshots`` (and any other model folder, named after it), each after every
    layer it depends on.

    ``deltastore build --select <selector>`` per layer, in this order, builds the project
    (tests run with the layer of their last parent: the runner uses buildable indirect
    selection).
    """
    nodes = project_nodes(load_manifest(Path(manifest_path)))
    by_layer: dict[str, list[dict[str, Any]]] = {}
    layer_of: dict[str, str] = {}
    for uid, node in nodes.items():
        layer = node_layer(node)
        by_layer.setdefault(layer, []).append(node)
        layer_of[uid] = layer
    needs: dict[str, set[str]] = {layer: set() for layer in by_layer}
    for uid, node in nodes.items():
        for parent in node.get("depends_on", {}).get("nodes", []):
            if parent in layer_of and layer_of[parent] != layer_of[uid]:
                needs[layer_of[uid]].add(layer_of[parent])

    def rank(layer: str) -> tuple[int, str]:
        return (LAYER_ORDER.index(layer) if layer in LAYER_ORDER else len(LAYER_ORDER), layer)

    ordered: list[str] = []
    pending = sorted(by_layer, key=rank)
    while pending:
        ready = [layer for layer in pending if needs[layer] <= set(ordered)]
        if not ready:
            cycle = ", ".join(f"`{layer}`" for layer in pending)
            raise ConfigError(f"dbt layers {cycle} depend on each other; build them together "
                              "(run `deltastore build` without --select)")
        ordered.append(ready[0])
        pending.remove(ready[0])
    return [(_layer_name(layer, by_layer[layer]), _layer_selector(layer, by_layer[layer]))
            for layer in ordered]


def _layer_name(layer: str, nodes: list[dict[str, Any]]) -> str:
    """`seeds+staging` when seeds are built with staging (the name the DAG shows)."""
    if layer == "staging" and any(n["resource_type"] == "seed" for n in nodes):
        return "seeds+staging"
    return layer
