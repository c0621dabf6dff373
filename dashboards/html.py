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
         delta: bool = False, live: bool = False, exact: str = "") -> str:
    """A KPI card; tests and scrapers read ``data-kpi`` and the raw ``data-value``; the note
    says what the figure counts. On the filtered pages (``live``) dashboard.js fills value,
    note and the change against earlier periods; the exact value shows on hover, focus or
    tap (``exact``, or the shown text).
    """
    delta_html = '<p class="card-delta"></p>' if delta else ""
    focus = (f' tabindex="0" data-tip="{esc(exact or shown)}"' if live or exact else "")
    return (f'<div class="card"{focus}>'
            f'<p class="card-label">{esc(label)}</p>'
            f'<p class="card-value" data-kpi="{esc(kpi)}" data-value="{esc(raw_value(value))}">'
            f'{esc(shown)}</p>{delta_html}<p class="card-note">{esc(note)}</p></div>')


def cards(items: list[str]) -> str:
    return ('<section class="cards" id="figures" tabindex="-1" aria-label="Key figures">'
            + "".join(items) + "</section>")


def empty_state(message: str = EMPTY_MESSAGE) -> str:
    return f'<div class="empty-state" data-empty="true">{_code(message)}</div>'


@dataclass(frozen=True)
class Panel:
    """A panel dashboard.js fills: chart, notes, data table and CSV from the same rows.

    ``marts`` name the marts behind it; the panel links to their definitions. ``wide``
    panels take the whole row, ``tall`` ones two rows beside two others.
    """

    key: str
    title: str
    how_to_read: str
    marts: tuple[str, ...]
    scope: str = ""
    wide: bool = False
    controls: str = ""
    tall: bool = False


def panel(item: Panel, empty: bool) -> str:
    classes = "panel" + (" wide" if item.wide else "") + (" tall" if item.tall else "")
    scope = f'<p class="scope">{esc(item.scope)}</p>' if item.scope else ""
    links = " ".join(f'<a href="{DEFINITIONS}#{esc(m)}">{esc(m)}</a>' for m in item.marts)
    body = empty_state() if empty else (
        f'{item.controls}<p class="panel-note" aria-live="polite"></p>'
        '<div class="chart-slot"></div>'
        '<details class="data-table"><summary>Data table</summary>'
        '<input type="search" class="table-search" placeholder="Search rows" '
        f'aria-label="Search the rows of {esc(item.title)}"><div class="table-slot"></div>'
        "</details>"
        f'<p class="panel-actions"><button type="button" data-csv="{esc(item.key)}">'
        f"Download CSV</button> <span>Definition: {links}</span></p>")
    return (f'<section class="{classes}" id="panel-{esc(item.key)}" aria-labelledby="'
            f'title-{esc(item.key)}"><h2 id="title-{esc(item.key)}">{esc(item.title)}</h2>'
            f'<p class="how-to-read">{esc(item.how_to_read)}</p>{scope}{body}</section>')


def select(element_id: str, label: str, options: list[tuple[str, str]],
           option: str = "") -> str:
    """A single-choice drop-down; with ``option`` it is a page option dashboard.js keeps in
    the URL and resets (a chart's level, a map's metric, top N)."""
    choices = "".join(f'<option value="{esc(value)}">{esc(name)}</option>'
                      for value, name in options)
    kept = f' data-option="{esc(option)}"' if option else ""
    return (f'<label class="filter">{esc(label)} <select id="{esc(element_id)}"{kept}>'
            f"{choices}</select></label>")


@dataclass(frozen=True)
class Filter:
    """A page-wide multi-select filter; ``''`` is the value of 'not on record' (NULL).
    ``codes``: the values are codes (states), listed beside their names, chips show codes."""

    key: str
    label: str
    options: tuple[tuple[str, str], ...]
    codes: bool = False

    def option_text(self, value: str, name: str) -> str:
        return f"{name} ({value})" if self.codes and value else name


# Month-range presets, relative to the last month of data.
PRESETS = (("all", "All months"), ("last-3", "Last 3 months"), ("last-6", "Last 6 months"),
           ("last-12", "Last 12 months"), ("ytd", "Year to date"), ("custom", "Custom"))
GRAIN = select("grain", "by", [("month", "month"), ("quarter", "quarter")], "grain")


def filter_bar(filters: list[Filter], months: list[str], grain: bool = True) -> str:
    """Month range with presets, time grain, multi-selects with search, "only", all/none;
    chips of what is narrowed. dashboard.js keeps it all in the URL."""
    month_options = "".join(f'<option value="{i}">{esc(fmt.month(dt.date.fromisoformat(m)))}'
                            "</option>" for i, m in enumerate(months))
    presets = "".join(f'<option value="{key}">{esc(name)}</option>' for key, name in PRESETS)
    parts = [
        f'<label class="filter">Months <select id="month-preset">{presets}</select></label>',
        f'<label class="filter">from <select id="month-from">{month_options}</select></label>',
        f'<label class="filter">to <select id="month-to">{month_options}</select></label>',
    ]
    if grain:
        parts.append(GRAIN)
    for item in filters:
        parts.append(_multi(item))
    parts.append('<button type="button" id="reset-filters">Reset</button>')
    return ('<form class="filter-bar" id="filters" aria-label="Filters" '
            'onsubmit="return false"><div class="filter-row">' + "".join(parts) + "</div>"
            '<div class="chips" id="chips" aria-label="Filters set" hidden></div>'
            '<p class="compare" id="compare-note"></p></form>')


def _multi(item: Filter) -> str:
    rows = "".join(
        f'<div class="option"><label><input type="checkbox" value="{esc(value)}" checked> '
        f"{esc(item.option_text(value, name))}</label>"
        f'<button type="button" class="only" data-only="{esc(value)}" aria-label="Only '
        f'{esc(item.option_text(value, name))}">only</button></div>'
        for value, name in item.options)
    search = (f'<input type="search" placeholder="Search" aria-label="Search '
              f'{esc(item.label.lower())} values">' if len(item.options) > 8 else "")
    return (f'<details class="multi" data-filter="{esc(item.key)}"><summary>{esc(item.label)}: '
            f'<span class="chosen">All</span></summary><div class="options" role="group" '
            f'aria-label="{esc(item.label)}">{search}<div class="bulk"><button type="button" '
            'data-all>All</button><button type="button" data-none>None</button></div>'
            f"{rows}</div></details>")


@dataclass(frozen=True)
class Cube:
    """Rows of one filter mart as embedded: the columns kept, and which column each page
    filter narrows (``months`` is the month range)."""

    rows: list[dict[str, Any]]
    columns: tuple[str, ...]
    dims: dict[str, str]


def page_config(page_name: str, months: list[str], filters: list[Filter],
                cubes: dict[str, Cube], extra: dict[str, Any],
                run: dict[str, Any] | None = None,
                options: dict[str, str] | None = None) -> str:
    """The JSON dashboard.js reads: months, filters, the page options with their defaults,
    the run's dates (for downloads) and the rows of each filter mart."""
    return embedded_json("page-config", {
        "page": page_name, "months": months,
        "filters": [{"id": f.key, "label": f.label, "count": len(f.options), "codes": f.codes,
                     "names": {value: name for value, name in f.options}} for f in filters],
        "options": {"grain": "month", **(options or {})},
        "run": {"runDate": raw_value(run["run_date"]), "first": raw_value(
            run["first_order_date"]), "last": raw_value(run["last_order_date"])} if run else {},
        "cubes": {name: {"columns": list(c.columns), "dims": c.dims,
                         "rows": [[row[col] for col in c.columns] for row in c.rows]}
                  for name, c in cubes.items()},
        "extra": extra,
    })


def freshness(run: dict[str, Any] | None, rendered_at: dt.datetime) -> str:
    """What date the figures are for and how fresh they were when the page was rendered
    (from kpi_pipeline_run). A run date set apart from the build day (the demo fixes it)
    is said to be one, so it does not read as a run that predates its own load."""
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
    run_date = run["run_date"]
    set_apart = (isinstance(built_at, dt.datetime) and isinstance(run_date, dt.date)
                 and abs((built_at.date() - run_date).days) > 1)
    chosen = (' <span class="run-date-set">(a run date set for this build, not the day it '
              "ran)</span>" if set_apart else "")
    return (
        f'<p class="freshness" data-freshness="{"stale" if stale else "ok"}" '
        f'data-run-date-set="{"true" if set_apart else "false"}">Figures as of run date '
        f'<strong data-kpi="run_date" data-value="{esc(raw_value(run_date))}">'
        f"{esc(fmt.date(run_date))}</strong>{chosen} · orders "
        f'{esc(fmt.date(run["first_order_date"]))} – {esc(fmt.date(run["last_order_date"]))}'
        f' · marts built <span data-kpi="built_at" data-value="{esc(raw_value(built_at))}">'
        f"{esc(fmt.timestamp(built_at))}</span>{esc(age)} from sources loaded "
        f'{esc(fmt.timestamp(run["last_loaded_at"]))}{warning}</p>'
    )


def page(filename: str, title: str, intro: str, header_extra: str, body: str,
         data: str = "", script: str = "") -> str:
    """The frame; ``data`` is the page-config JSON and ``script`` the page's asset, inlined
    after the engine and the charts (nothing is fetched)."""
    nav = ['<a href="index.html"' + (' aria-current="page"' if filename == "index.html"
                                     else "") + ">Overview</a>"]
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
        '<body><a class="skip" href="#figures">Skip to the figures</a>'
        f'<header><nav>{"".join(nav)}</nav><h1>{esc(title)}</h1>'
        f'<p class="intro">{esc(intro)}</p>{header_extra}</header>'
        f'<main id="main">{body}</main>'
        '<footer>DeltaStore dashboards · static and offline: figures are drawn in the page '
        "from the KPI marts in schema <code>analytics</code> (see "
        f'<a href="{DEFINITIONS}">definitions</a>).</footer>'
        f"{data}{scripts}</body></html>\n"
    )


def _code(message: str) -> str:
    """Escape a message and show `backticked` parts as code."""
    parts = esc(message).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
