"""The page frame and the building blocks every dashboard page shares.

Styles and the filter script ship in ``dashboards/assets`` and are inlined into every page,
so a page is one file that opens from disk with no network.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from html import escape
from importlib.resources import files
from typing import Any

from deltastore.dashboards import fmt

DEFINITIONS = "definitions.html"
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


def esc(text: object) -> str:
    return escape(str(text), quote=True)


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


def card(kpi: str, label: str, value: Any = None, shown: str = "–", note: str = "",
         delta: bool = False, live: bool = False) -> str:
    """A KPI card; tests and scrapers read ``data-kpi`` and the raw ``data-value``. On the
    filtered pages (``live``) dashboard.js fills value, note and the change against the
    previous period, and shows the exact value on hover, focus or tap.
    """
    delta_html = '<p class="card-delta"></p>' if delta else ""
    focus = f' tabindex="0" data-tip="{esc(shown)}"' if live else ""
    return (f'<div class="card"{focus}>'
            f'<p class="card-label">{esc(label)}</p>'
            f'<p class="card-value" data-kpi="{esc(kpi)}" data-value="{esc(raw_value(value))}">'
            f'{esc(shown)}</p>{delta_html}<p class="card-note">{esc(note)}</p></div>')


def cards(items: list[str]) -> str:
    return '<section class="cards" aria-label="Key figures">' + "".join(items) + "</section>"


def empty_state(message: str = EMPTY_MESSAGE) -> str:
    return f'<div class="empty-state" data-empty="true">{_code(message)}</div>'


@dataclass(frozen=True)
class Panel:
    """A panel dashboard.js fills: chart, notes, data table and CSV from the same rows.

    ``marts`` name the marts behind it; the panel links to their definitions.
    """

    key: str
    title: str
    how_to_read: str
    marts: tuple[str, ...]
    scope: str = ""
    wide: bool = False
    controls: str = ""


def panel(item: Panel, empty: bool) -> str:
    classes = "panel wide" if item.wide else "panel"
    scope = f'<p class="scope">{esc(item.scope)}</p>' if item.scope else ""
    links = " ".join(f'<a href="{DEFINITIONS}#{esc(m)}">{esc(m)}</a>' for m in item.marts)
    body = empty_state() if empty else (
        f'{item.controls}<p class="panel-note" aria-live="polite"></p>'
        '<div class="chart-slot"></div>'
        '<details class="data-table"><summary>Data table</summary>'
        '<div class="table-slot"></div></details>'
        f'<p class="panel-actions"><button type="button" data-csv="{esc(item.key)}">'
        f"Download CSV</button> <span>Definition: {links}</span></p>")
    return (f'<section class="{classes}" id="panel-{esc(item.key)}" aria-labelledby="'
            f'title-{esc(item.key)}"><h2 id="title-{esc(item.key)}">{esc(item.title)}</h2>'
            f'<p class="how-to-read">{esc(item.how_to_read)}</p>{scope}{body}</section>')


def select(element_id: str, label: str, options: list[tuple[str, str]]) -> str:
    """A single-choice drop-down (panel-level options such as a chart's level)."""
    choices = "".join(f'<option value="{esc(value)}">{esc(name)}</option>'
                      for value, name in options)
    return (f'<label class="filter">{esc(label)} <select id="{esc(element_id)}">'
            f"{choices}</select></label>")


@dataclass(frozen=True)
class Filter:
    """A page-wide multi-select filter; ``''`` is the value of 'not on record' (NULL)."""

    key: str
    label: str
    options: tuple[tuple[str, str], ...]


def filter_bar(filters: list[Filter], months: list[str]) -> str:
    """Month range and multi-selects; dashboard.js keeps them in the URL."""
    month_options = "".join(f'<option value="{i}">{esc(fmt.month(dt.date.fromisoformat(m)))}'
                            "</option>" for i, m in enumerate(months))
    parts = [
        f'<label class="filter">From <select id="month-from">{month_options}</select></label>',
        f'<label class="filter">to <select id="month-to">{month_options}</select></label>',
    ]
    for item in filters:
        boxes = "".join(f'<label><input type="checkbox" value="{esc(value)}" checked> '
                        f"{esc(name)}</label>" for value, name in item.options)
        parts.append(
            f'<details class="multi" data-filter="{esc(item.key)}"><summary>{esc(item.label)}: '
            f'<span class="chosen">All</span></summary><div class="options" role="group" '
            f'aria-label="{esc(item.label)}">{boxes}<button type="button" data-all>All '
            f"{esc(item.label.lower())}</button></div></details>")
    parts.append('<button type="button" id="reset-filters">Reset filters</button>')
    return ('<form class="filter-bar" aria-label="Filters" onsubmit="return false">'
            + "".join(parts) + '<p class="compare" id="compare-note"></p></form>')


@dataclass(frozen=True)
class Cube:
    """Rows of one filter mart as embedded: the columns kept, and which column each page
    filter narrows (``months`` is the month range)."""

    rows: list[dict[str, Any]]
    columns: tuple[str, ...]
    dims: dict[str, str]


def page_config(page_name: str, months: list[str], filters: list[Filter],
                cubes: dict[str, Cube], extra: dict[str, Any]) -> str:
    """The JSON dashboard.js reads: months, filters and the rows of each filter mart."""
    return embedded_json("page-config", {
        "page": page_name, "months": months,
        "filters": [{"id": f.key, "label": f.label} for f in filters],
        "cubes": {name: {"columns": list(c.columns), "dims": c.dims,
                         "rows": [[row[col] for col in c.columns] for row in c.rows]}
                  for name, c in cubes.items()},
        "extra": extra,
    })


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
         data: str = "", script: str = "") -> str:
    """The frame; ``data`` is the page-config JSON and ``script`` the page's asset, inlined
    after the engine and the charts (nothing is fetched)."""
    nav = ['<a href="index.html">Overview</a>']
    for target, name, _ in PAGES:
        current = ' aria-current="page"' if target == filename else ""
        nav.append(f'<a href="{target}"{current}>{esc(name)}</a>')
    scripts = "".join(f"<script>{asset(name)}</script>" for name in (
        "dashboard.js", "charts.js", script)) if script else ""
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
        '<footer>DeltaStore dashboards · static and offline: figures are drawn in the page '
        "from the KPI marts in schema <code>analytics</code> (see "
        f'<a href="{DEFINITIONS}">definitions</a>).</footer>'
        f"{data}{scripts}</body></html>\n"
    )


def _code(message: str) -> str:
    """Escape a message and show `backticked` parts as code."""
    parts = esc(message).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
