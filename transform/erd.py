"""Entity-relationship diagram of the marts, as Mermaid ``erDiagram`` text, from dbt's manifest.

Entities are the models in schema ``analytics``; their columns and descriptions come from
the models' yml (types from ``data_type``, else from the catalog dbt docs wrote, else
``unknown``); a column with a ``unique`` test or a primary-key constraint is ``PK``;
relationships come from ``relationships`` tests. The diagram is generated, so it cannot
drift from the project the way the original hand-drawn picture did.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MARTS_SCHEMA = "analytics"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    keys: tuple[str, ...]  # "PK", "FK"
    description: str


@dataclass(frozen=True)
class Relationship:
    parent: str       # the referenced model (the "one" side)
    child: str        # the model holding the foreign key
    column: str
    child_unique: bool   # one child row per parent at most
    required: bool       # the foreign key is tested not_null


def mart_models(manifest: Mapping[str, Any], schema: str = MARTS_SCHEMA) -> dict[str, dict]:
    """Models that land in ``schema`` (configured or resolved name), keyed by unique_id."""
    return {
        uid: node for uid, node in manifest.get("nodes", {}).items()
        if node.get("resource_type") == "model"
        and schema in (node.get("schema"), (node.get("config") or {}).get("schema"))
    }


def _tests(manifest: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    return [
        node for node in manifest.get("nodes", {}).values()
        if node.get("resource_type") == "test"
        and (node.get("test_metadata") or {}).get("name") == name
    ]


def _unique_columns(manifest: Mapping[str, Any]) -> set[tuple[str, str]]:
    """(model unique_id, column) pairs that are keys: a `unique` test or a PK constraint."""
    keys = {(t.get("attached_node") or "", (t.get("column_name") or "").lower())
            for t in _tests(manifest, "unique")}
    for uid, node in manifest.get("nodes", {}).items():
        for column in (node.get("columns") or {}).values():
            if any(c.get("type") == "primary_key" for c in column.get("constraints") or []):
                keys.add((uid, column["name"].lower()))
        for constraint in node.get("constraints") or []:
            if constraint.get("type") == "primary_key":
                keys.update((uid, c.lower()) for c in constraint.get("columns") or [])
    return keys


def relationships(manifest: Mapping[str, Any], models: Mapping[str, Any]) -> list[Relationship]:
    """Foreign keys between the given models, from their `relationships` tests."""
    unique = _unique_columns(manifest)
    not_null = {(t.get("attached_node") or "", (t.get("column_name") or "").lower())
                for t in _tests(manifest, "not_null")}
    found: set[Relationship] = set()
    for test in _tests(manifest, "relationships"):
        child: str = test.get("attached_node") or ""
        column = test.get("column_name") or (test["test_metadata"].get("kwargs") or {}).get(
            "column_name")
        if child not in models or not column:
            continue
        parents = [p for p in test.get("depends_on", {}).get("nodes", []) if p != child]
        parent = parents[0] if parents else child  # a self-reference depends on one node
        if parent not in models:
            continue
        key = (child, column.lower())
        found.add(Relationship(models[parent]["name"], models[child]["name"], column,
                               key in unique, key in not_null))
    return sorted(found, key=lambda r: (r.parent, r.child, r.column))


def columns(uid: str, node: Mapping[str, Any], manifest: Mapping[str, Any],
            catalog: Mapping[str, Any] | None = None,
            foreign: set[tuple[str, str]] | None = None) -> list[Column]:
    """The model's yml columns in yml order (the catalog's if the yml lists none)."""
    catalog_columns = {
        name.lower(): col for name, col in
        ((catalog or {}).get("nodes", {}).get(uid, {}).get("columns") or {}).items()
    }
    declared = list((node.get("columns") or {}).values())
    if not declared:
        declared = [{"name": c["name"], "description": c.get("comment") or ""}
                    for c in sorted(catalog_columns.values(), key=lambda c: c.get("index", 0))]
    unique = _unique_columns(manifest)
    result = []
    for col in declared:
        name = col["name"]
        raw_type = col.get("data_type") or catalog_columns.get(name.lower(), {}).get("type")
        keys = tuple(k for k, present in (
            ("PK", (uid, name.lower()) in unique),
            ("FK", (uid, name.lower()) in (foreign or set())),
        ) if present)
        result.append(Column(name, _mermaid_type(raw_type), keys, col.get("description") or ""))
    return result


def _mermaid_type(raw: str | None) -> str:
    """Mermaid accepts a word as the type: `DECIMAL(12,2)` -> `decimal`, spaces -> `_`."""
    if not raw:
        return "unknown"
    word = raw.split("(")[0].strip().lower()
    word = re.sub(r"[^a-z0-9_]+", "_", word).strip("_")
    if not word:
        return "unknown"
    return word if word[0].isalpha() else f"t_{word}"


def _comment(text: str) -> str:
    """One line for a Mermaid comment: no double quotes (they end it), no Markdown code."""
    line = " ".join(text.split())
    line = line.replace('"', "'").replace("`", "")
    return (line[:77] + "...") if len(line) > 80 else line


def marts_erd(manifest: Mapping[str, Any], catalog: Mapping[str, Any] | None = None,
              schema: str = MARTS_SCHEMA) -> str:
    """Mermaid ``erDiagram`` text for the models in ``schema``."""
    models = mart_models(manifest, schema)
    links = relationships(manifest, models)
    uid_by_name = {node["name"]: uid for uid, node in models.items()}
    foreign = {(uid_by_name[r.child], r.column.lower()) for r in links}
    lines = ["erDiagram"]
    for uid, node in sorted(models.items(), key=lambda item: item[1]["name"]):
        cols = columns(uid, node, manifest, catalog, foreign)
        if not cols:
            lines.append(f"    {node['name']} {{ }}")
            continue
        lines.append(f"    {node['name']} {{")
        for col in cols:
            text = f"        {col.type} {col.name}"
            if col.keys:
                text += " " + ", ".join(col.keys)
            if col.description:
                text += f' "{_comment(col.description)}"'
            lines.append(text)
        lines.append("    }")
    for link in links:
        # Crow's foot: a nullable foreign key may point at no parent row.
        one = "||" if link.required else "|o"
        many = "o|" if link.child_unique else "o{"
        lines.append(f'    {link.parent} {one}--{many} {link.child} : "{link.column}"')
    return "\n".join(lines) + "\n"


def erd_markdown(diagram: str, schema: str = MARTS_SCHEMA) -> str:
    return (
        f"# Entity-relationship diagram of the marts (schema `{schema}`)\n\n"
        "Generated by `deltastore docs` from dbt's manifest: columns from the models' yml,\n"
        "keys from `unique` tests, relationships from `relationships` tests. Do not edit;\n"
        "change the yml and run `deltastore docs` again.\n\n"
        f"```mermaid\n{diagram}```\n"
    )


def write_erd(manifest: Mapping[str, Any], catalog: Mapping[str, Any] | None, out_file: Path,
              schema: str = MARTS_SCHEMA) -> str:
    """Write the ERD as Markdown with a Mermaid block to ``out_file``; return the diagram."""
    diagram = marts_erd(manifest, catalog, schema)
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(erd_markdown(diagram, schema))
    return diagram
