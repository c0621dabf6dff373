"""A tile-grid map of the US: one equal square per state, placed roughly where it lies.

Equal tiles are honest for counts and averages (a big state does not look more important)
and need no map shapes or tiles from the network. ``dashboard.js`` recolours the same tiles
when a filter changes, using the colours and formats written on the ``<svg>`` element.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from deltastore.dashboards.svg import GRID, INK, MUTED, esc, svg, text

from deltastore.us_states import US_STATES

# (row, column) of each state's tile.
GRID_POSITIONS: dict[str, tuple[int, int]] = {
    "AK": (0, 0), "ME": (0, 11),
    "VT": (1, 10), "NH": (1, 11),
    "WA": (2, 0), "ID": (2, 1), "MT": (2, 2), "ND": (2, 3), "MN": (2, 4), "IL": (2, 5),
    "WI": (2, 6), "MI": (2, 7), "NY": (2, 8), "RI": (2, 9), "MA": (2, 10),
    "OR": (3, 0), "NV": (3, 1), "WY": (3, 2), "SD": (3, 3), "IA": (3, 4), "IN": (3, 5),
    "OH": (3, 6), "PA": (3, 7), "NJ": (3, 8), "CT": (3, 9),
    "CA": (4, 0), "UT": (4, 1), "CO": (4, 2), "NE": (4, 3), "MO": (4, 4), "KY": (4, 5),
    "WV": (4, 6), "VA": (4, 7), "MD": (4, 8), "DE": (4, 9),
    "AZ": (5, 1), "NM": (5, 2), "KS": (5, 3), "AR": (5, 4), "TN": (5, 5), "NC": (5, 6),
    "SC": (5, 7), "DC": (5, 8),
    "OK": (6, 3), "LA": (6, 4), "MS": (6, 5), "AL": (6, 6), "GA": (6, 7),
    "HI": (7, 0), "TX": (7, 3), "FL": (7, 8),
}

STATE_NAMES: dict[str, str] = US_STATES

TILE = 50
GAP = 4
EMPTY_FILL = "#f5f7fa"
BLUES = ("#dbeafe", "#1e3a8a")
ORANGES = ("#ffedd5", "#9a3412")


def blend(low: str, high: str, share: float) -> str:
    """The colour ``share`` (0–1) of the way from ``low`` to ``high``."""
    share = min(1.0, max(0.0, share))
    a = [int(low[i:i + 2], 16) for i in (1, 3, 5)]
    b = [int(high[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * share):02x}" for x, y in zip(a, b, strict=True))


def tile_map(values: Mapping[str, float], fmt: Callable[[float], str], fmt_name: str,
             colours: tuple[str, str], label: str, map_id: str) -> str:
    """Tiles coloured from the lowest to the highest value; states without data stay grey.

    ``fmt_name`` names the matching formatter in dashboard.js for client-side updates.
    """
    known = [v for v in values.values() if v is not None]
    low, high = (min(known), max(known)) if known else (0.0, 0.0)
    width = 12 * (TILE + GAP)
    height = 8 * (TILE + GAP) + 30
    body = []
    for code, (row, column) in GRID_POSITIONS.items():
        x, y = column * (TILE + GAP), row * (TILE + GAP)
        value = values.get(code)
        fill, shown, ink = EMPTY_FILL, "–", MUTED
        if value is not None:
            share = (value - low) / (high - low) if high > low else 1.0
            fill, shown = blend(*colours, share), fmt(value)
            ink = "#fff" if share > 0.55 else INK
        body.append(
            f'<g class="tile" data-state="{code}"><rect x="{x}" y="{y}" width="{TILE}" '
            f'height="{TILE}" rx="4" fill="{fill}" stroke="{GRID}"/>'
            f'<text x="{x + TILE / 2}" y="{y + 20}" text-anchor="middle" fill="{ink}" '
            f'font-weight="600">{code}</text>'
            f'<text class="tile-value" x="{x + TILE / 2}" y="{y + 38}" text-anchor="middle" '
            f'fill="{ink}" font-size="10">{esc(shown)}</text>'
            f"<title>{esc(STATE_NAMES[code])}: {esc(shown)}</title></g>"
        )
    legend_y = 8 * (TILE + GAP) + 8
    body.append(f'<rect x="0" y="{legend_y}" width="14" height="14" fill="{colours[0]}"/>')
    body.append(text(20, legend_y + 12, f"{fmt(low)} (lowest)" if known else "lowest", "start",
                     extra=' class="legend-low"'))
    body.append(f'<rect x="120" y="{legend_y}" width="14" height="14" fill="{colours[1]}"/>')
    body.append(text(140, legend_y + 12, f"{fmt(high)} (highest)" if known else "highest",
                     "start", extra=' class="legend-high"'))
    body.append(f'<rect x="240" y="{legend_y}" width="14" height="14" fill="{EMPTY_FILL}" '
                f'stroke="{GRID}"/>')
    body.append(text(260, legend_y + 12, "no data", "start"))
    chart = svg(width, height, label, body)
    attributes = (f'id="{esc(map_id)}" data-low="{colours[0]}" data-high="{colours[1]}" '
                  f'data-format="{esc(fmt_name)}" data-empty="{EMPTY_FILL}" '
                  f'data-low-value="{low}" data-high-value="{high}" ')
    return chart.replace("<svg ", "<svg " + attributes, 1)
