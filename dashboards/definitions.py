"""definitions.html: docs/data-contracts.md as a page next to the dashboards, so each
panel's "Definition" link opens offline. Every table row that names a mart gets that mart's
name as its anchor (``definitions.html#kpi_shipment_activity``).
"""

from __future__ import annotations

import re
from pathlib import Path

from deltastore.dashboards import html
from deltastore.dashboards.html import esc

FILENAME = html.DEFINITIONS
# The contract lives in the checkout's docs/; an installed wheel has no docs, and the page
# then says where to read it.
CONTRACTS = Path(__file__).resolve().parents[1] / "docs" / "data-contracts.md"


def inline(text: str) -> str:
    """`code` and **bold**, escaped."""
    parts = esc(text).split("`")
    out = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
    return re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", out)


def markdown(source: str) -> str:
    """The small subset of Markdown the contract uses: headings, paragraphs, lists, tables."""
    out: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            out.append(f"<p>{inline(' '.join(paragraph))}</p>")
            paragraph.clear()

    table: list[list[str]] = []
    for line in [*source.splitlines(), ""]:
        if line.startswith("|"):
            flush()
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(set(c) <= set("-: ") for c in cells):
                table.append(cells)
            continue
        if table:
            head, *rows = table
            body = "".join(_row(r) for r in rows)
            out.append('<div class="scroll"><table class="data"><thead><tr>'
                       + "".join(f"<th>{inline(c)}</th>" for c in head)
                       + f"</tr></thead><tbody>{body}</tbody></table></div>")
            table = []
        heading = re.match(r"(#{1,3}) (.*)", line)
        if heading:
            flush()
            level = len(heading.group(1)) + 1
            out.append(f"<h{level}>{inline(heading.group(2))}</h{level}>")
        elif line.startswith("- "):
            flush()
            out.append(f"<ul><li>{inline(line[2:])}</li></ul>")
        elif line.strip():
            paragraph.append(line.strip())
        else:
            flush()
    return "".join(out).replace("</ul><ul>", "")


def _row(cells: list[str]) -> str:
    name = re.match(r"`([a-z_]+)`", cells[0])
    anchor = f' id="{esc(name.group(1))}"' if name else ""
    return f"<tr{anchor}>" + "".join(f"<td>{inline(c)}</td>" for c in cells) + "</tr>"


def render(contracts: Path = CONTRACTS) -> str:
    if contracts.is_file():
        body = f'<article class="panel doc">{markdown(contracts.read_text("utf-8"))}</article>'
    else:
        body = ('<p class="panel">The definitions are in <code>docs/data-contracts.md</code> '
                "of the DeltaStore repository.</p>")
    return html.page(FILENAME, "Definitions", "What every mart behind the dashboards holds "
                     "(docs/data-contracts.md).", "", body)
