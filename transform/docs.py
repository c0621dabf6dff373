"""The documentation site: dbt's docs page with manifest and catalog inlined, plus the
marts' ER diagram.

The page is one self-contained file, as ``dbt docs generate --static`` writes it. Its
only outside reference is dbt's usage tracker, which the page loads only when the
manifest says tracking is on; the runner always turns tracking off, and
``external_references`` checks the page for anything else. The ERD is written as
``marts-erd.md`` and also added to the site's overview page (as Mermaid source in a code
block: the site does not render Mermaid, GitHub and most Markdown viewers do). The overview
also lists the schema changes the extracts found in the sources (``meta.schema_changes``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deltastore.errors import ConfigError
from deltastore.schema_changes import found_since, markdown_table
from deltastore.settings import Settings
from deltastore.transform.erd import erd_markdown, write_erd
from deltastore.transform.manifest import load_manifest
from deltastore.transform.runner import Echo, project_files, run_dbt, target_dir

# <script src=…>, <link href=…>, <img src=…> or CSS url(…) pointing at another host.
_EXTERNAL = re.compile(
    r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']?((?:https?:)?//[^"'\s>]+)"""
    r"""|url\(\s*["']?((?:https?:)?//[^"')\s]+)""",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DocsSite:
    index_html: Path
    erd_markdown: Path
    external_references: tuple[str, ...]


def external_references(html: str) -> tuple[str, ...]:
    """URLs the page would load from another host when opened (scripts, styles, images)."""
    return tuple(sorted({a or b for a, b in _EXTERNAL.findall(html)}))


def with_overview(manifest: dict[str, Any], section: str) -> dict[str, Any]:
    """Append ``section`` to the project's overview doc (created from dbt's if missing)."""
    docs = manifest.setdefault("docs", {})
    project = manifest.get("metadata", {}).get("project_name", "project")
    own = [d for d in docs.values() if d.get("name") == "__overview__"
           and d.get("package_name") != "dbt"]
    if own:
        own[0]["block_contents"] = own[0].get("block_contents", "") + "\n\n" + section
    else:
        base = dict(docs.get("doc.dbt.__overview__") or {"name": "__overview__",
                                                          "resource_type": "doc",
                                                          "path": "overview.md",
                                                          "original_file_path": "overview.md"})
        base.update(package_name=project, unique_id=f"doc.{project}.__overview__",
                    block_contents=(base.get("block_contents", "") + "\n\n" + section).strip())
        docs[base["unique_id"]] = base
    return manifest


def static_site(manifest: Mapping[str, Any], catalog: Mapping[str, Any]) -> str:
    """dbt's single-page docs with the given manifest and catalog inlined (as dbt does)."""
    from dbt.task.docs import DOCS_INDEX_FILE_PATH

    template = Path(DOCS_INDEX_FILE_PATH).read_text(encoding="utf-8")
    return (template
            .replace('"MANIFEST.JSON INLINE DATA"', json.dumps(manifest))
            .replace('"CATALOG.JSON INLINE DATA"', json.dumps(catalog)))


def generate_docs(settings: Settings, out_dir: Path | None = None, *,
                  target: str | None = None, run_date: dt.date | None = None,
                  echo: Echo | None = print) -> DocsSite:
    """Run ``dbt docs generate`` and write ``index.html`` + ``marts-erd.md`` to ``out_dir``
    (default ``<data dir>/dbt/docs``).

    After a complete build of the current project files, the build's own manifest (which
    holds the SQL each node ran) is documented and dbt only reads the catalog
    (``--no-compile``): compiling every node again took most of the docs time.
    """
    out = out_dir or settings.data_dir / "dbt" / "docs"
    built = current_build_manifest(settings)
    # dbt copies its page template there before reading the catalog, and only compiling
    # creates the folder (dbt-core 1.11, dbt/task/docs/generate.py, GenerateTask.run).
    target_dir(settings, "docs generate").mkdir(parents=True, exist_ok=True)
    run = run_dbt(settings, "docs generate", target=target, run_date=run_date, echo=echo,
                  args=["--no-compile"] if built is not None else [])
    run.raise_for_status()
    manifest = built if built is not None else load_manifest(run.target_dir / "manifest.json")
    catalog = load_manifest(run.target_dir / "catalog.json")
    erd_file = out / "marts-erd.md"
    diagram = write_erd(manifest, catalog, erd_file)
    section = "### Marts entity-relationship diagram\n\n" + erd_markdown(diagram).split(
        "\n\n", 1)[1]
    section += "\n\n" + schema_changes_section(settings)
    html = static_site(with_overview(manifest, section), catalog)
    index = out / "index.html"
    index.write_text(html, encoding="utf-8")
    found = external_references(html)
    if echo:
        echo(f"docs: {index} ({len(html) // 1024} KiB, self-contained)"
             if not found else f"docs: {index} loads from other hosts: {', '.join(found)}")
        echo(f"ERD: {erd_file}")
    return DocsSite(index, erd_file, found)


SHOWN_CHANGES = 200  # the newest; the table keeps every one


def schema_changes_section(settings: Settings) -> str:
    """The overview's list of the sources' schema changes, newest first."""
    found = found_since(settings.warehouse_url)
    heading = ("### Source schema changes\n\nColumns and fields the extracts found that "
               "differ from the raw-table contract, and what `DELTASTORE_SCHEMA_CHANGES` "
               "made them do (`meta.schema_changes`")
    if not found:
        return heading + "): none so far."
    shown = f", the newest {SHOWN_CHANGES}" if len(found) > SHOWN_CHANGES else ""
    return f"{heading}{shown}):\n\n{markdown_table(found[:SHOWN_CHANGES])}"


def current_build_manifest(settings: Settings) -> dict[str, Any] | None:
    """The last build's ``manifest.json`` if it documents the project as it is now.

    That is: written after every file of the project last changed, by this dbt version,
    for this warehouse's adapter, with compiled SQL for every model, snapshot and test
    (a ``--select``ed build compiles only its own nodes). None otherwise.
    """
    path = target_dir(settings, "build") / "manifest.json"
    try:
        written = path.stat().st_mtime_ns
    except OSError:
        return None
    files = project_files(settings.dbt_project_dir)
    if any(f.stat().st_mtime_ns >= written for f in files):
        return None
    try:
        manifest = load_manifest(path)
    except ConfigError:
        return None
    from dbt.version import __version__ as dbt_version

    adapter = "duckdb" if settings.warehouse_url.kind == "duckdb" else "sqlserver"
    metadata = manifest.get("metadata", {})
    if (metadata.get("dbt_version"), metadata.get("adapter_type")) != (dbt_version, adapter):
        return None
    compiled = all(node.get("compiled_code") is not None
                   for node in manifest.get("nodes", {}).values()
                   if node.get("resource_type") in ("model", "snapshot", "test"))
    return manifest if compiled else None
