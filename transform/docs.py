"""The documentation site: ``dbt docs generate --static`` plus the marts' ER diagram.

dbt writes one self-contained ``static_index.html`` (manifest and catalog inlined). Its
only outside reference is dbt's usage tracker, which the page loads only when the
manifest says tracking is on; the runner always turns tracking off, and
``external_references`` checks the page for anything else. The ERD is written as
``marts-erd.md`` and also added to the site's overview page (as Mermaid source in a code
block: the site does not render Mermaid, GitHub and most Markdown viewers do).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deltastore.errors import LoadError
from deltastore.settings import Settings
from deltastore.transform.erd import erd_markdown, marts_erd
from deltastore.transform.manifest import load_manifest
from deltastore.transform.runner import Echo, run_dbt

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
    """Run ``dbt docs generate --static`` and write ``index.html`` + ``marts-erd.md`` to
    ``out_dir`` (default ``<data dir>/dbt/docs``)."""
    out = out_dir or settings.data_dir / "dbt" / "docs"
    run = run_dbt(settings, "docs generate", target=target, run_date=run_date, echo=echo,
                  args=["--static"])
    run.raise_for_status()
    built = run.target_dir / "static_index.html"
    if not built.is_file():
        raise LoadError(f"dbt docs generate did not write `{built}`; see the log above")
    manifest = load_manifest(run.target_dir / "manifest.json")
    catalog = load_manifest(run.target_dir / "catalog.json")
    diagram = marts_erd(manifest, catalog)
    out.mkdir(parents=True, exist_ok=True)
    erd_file = out / "marts-erd.md"
    erd_file.write_text(erd_markdown(diagram))
    section = "### Marts entity-relationship diagram\n\n" + erd_markdown(diagram).split(
        "\n\n", 1)[1]
    html = static_site(with_overview(manifest, section), catalog)
    index = out / "index.html"
    index.write_text(html, encoding="utf-8")
    found = external_references(html)
    if echo:
        echo(f"docs: {index} ({len(html) // 1024} KiB, self-contained)"
             if not found else f"docs: {index} loads from other hosts: {', '.join(found)}")
        echo(f"ERD: {erd_file}")
    return DocsSite(index, erd_file, found)
