"""The page frame and the building blocks every dashboard page shares.

Styles and the filter script ship in ``dashboards/assets`` and are inlined into every page,
so a page is one file that opens from disk with no network.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from importlib.resources import files
from typing import Any

from deltastore.dashboards import fmt
from deltastore.dashboards.svg import esc

EMPTY_MESSAGE = "No data yet — run `deltastore run`"
# The pipeline runs daily: sources loaded longer ago than this mean a run was missed.
STALE_AFTER = dt.timedelta(hours=36)

PAGES: tuple[tuple[str, str, str], ...] = (
    ("customers.html", "Customer Analysis",
     "Who buys, where they live, how much they spend and whether they come back."),
    ("products.html", "Product & Pricing Optimization",
     "Payment outcomes, growth month over month, ratings against revenue, best sellers."),
    ("fulfillment.html", "Order Fulfillment & Logistics",
     "Carrier reliability, delivery times and on-time delivery by state."),
)


def asset(name: str) -> str:
    return (files("deltastore.dashboards") / "assets" / name).read_text(encoding="utf-8")


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"cannot embed {type(value).__name__}")


def embedded_json(element_id: str, data: Any) -> str:
    """Data for the page script; `<` is escaped so no value can close the script element."""
    payload = json.dumps(data, default=_json_default, separators=(",", ":"))
    payload = payload.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="{esc(element_id)}">{payload}</script>'


def raw_value(value: Any) -> str:
    """The value for a ``data-value`` attribute: exact decimal text, ISO dates, '' for NULL."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def card(kpi: str, label: str, value: Any, shown: str, note: str = "") -> str:
    """A KPI card; tests and scrapers read ``data-kpi`` and the raw ``data-value``."""
    note_html = f'<p class="card-note">{esc(note)}</p>' if note else ""
    return (f'<div class="card"><p class="card-label">{esc(label)}</p>'
            f'<p class="card-value" data-kpi="{esc(kpi)}" data-value="{esc(raw_value(value))}">'
            f"{esc(shown)}</p>{note_html}</div>")


def cards(items: list[str]) -> str:
    return '<section class="cards">' + "".join(items) + "</section>"


def empty_state(message: str = EMPTY_MESSAGE) -> str:
    return f'<div class="empty-state" data-empty="true">{_code(message)}</div>'


def panel(title: str, how_to_read: str, content: str | None, wide: bool = False,
          controls: str = "", panel_id: str = "") -> str:
    """A titled chart with its one-line reading guide; None content shows the empty state."""
    body = empty_state() if content is None else content
    classes = "panel wide" if wide else "panel"
    ident = f' id="{esc(panel_id)}"' if panel_id else ""
    return (f'<section class="{classes}"{ident}><h2>{esc(title)}</h2>'
            f'<p class="how-to-read">{esc(how_to_read)}</p>{controls}{body}</section>')


def select(element_id: str, label: str, options: list[tuple[str, str]]) -> str:
    """A filter drop-down; the first option is 'all'."""
    choices = "".join(f'<option value="{esc(value)}">{esc(name)}</option>'
                      for value, name in options)
    return (f'<label class="filter">{esc(label)} <select id="{esc(element_id)}">'
            f"{choices}</select></label>")


def freshness(run: dict[str, Any] | None, rendered_at: dt.datetime) -> str:
    """Run date and how fresh the data was when the page was rendered (from kpi_pipeline_run)."""
    if run is None:
        return f'<p class="freshness" data-freshness="empty">{_code(EMPTY_MESSAGE)}</p>'
    built_at, loaded_at = run["built_at"], run["last_loaded_at"]
    age = f" ({fmt.age(built_at, rendered_at)} before this page was rendered)" if isinstance(
        built_at, dt.datetime) else ""
    stale = isinstance(loaded_at, dt.datetime) and fmt.older_than(
        loaded_at, rendered_at, STALE_AFTER)
    warning = (f'<span class="stale">Sources last loaded {fmt.age(loaded_at, rendered_at)} '
               "before this page was rendered: the daily run may be failing.</span>"
               if stale else "")
    return (
        f'<p class="freshness" data-freshness="{"stale" if stale else "ok"}">Run date '
        f'<strong data-kpi="run_date" data-value="{esc(raw_value(run["run_date"]))}">'
        f'{esc(fmt.date(run["run_date"]))}</strong> · orders from '
        f'{esc(fmt.date(run["first_order_date"]))} to {esc(fmt.date(run["last_order_date"]))}'
        f' · sources loaded {esc(fmt.timestamp(run["last_loaded_at"]))}'
        f' · marts built <span data-kpi="built_at" data-value="{esc(raw_value(built_at))}">'
        f"{esc(fmt.timestamp(built_at))}</span>{esc(age)}{warning}</p>"
    )


def page(filename: str, title: str, intro: str, header_extra: str, body: str,
         scripts: str = "") -> str:
    nav = ['<a href="index.html">Overview</a>']
    for target, name, _ in PAGES:
        current = ' aria-current="page"' if target == filename else ""
        nav.append(f'<a href="{target}"{current}>{esc(name)}</a>')
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} · DeltaStore</title>"
        # An inline favicon stops the browser from asking the (absent) server for one.
        '<link rel="icon" href="data:,">'
        f"<style>{asset('style.css')}</style></head>"
        f'<body><header><nav>{"".join(nav)}</nav><h1>{esc(title)}</h1>'
        f'<p class="intro">{esc(intro)}</p>{header_extra}</header>'
        f"<main>{body}</main>"
        '<footer>DeltaStore dashboards · static and offline: every chart is inline SVG, '
        "built from the KPI marts in schema <code>analytics</code>.</footer>"
        f"{scripts}<script>{asset('dashboard.js')}</script></body></html>\n"
    )


def _code(message: str) -> str:
    """Escape a message and show `backticked` parts as code."""
    parts = esc(message).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
