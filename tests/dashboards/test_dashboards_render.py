"""The static site, read as files: complete, offline, people-formatted, empty-safe."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest
from dashboards_marts import settings_for

from deltastore.dashboards import fmt, render_dashboards
from deltastore.dashboards.html import EMPTY_MESSAGE, freshness
from deltastore.dashboards.marts import KPI_MARTS, Marts
from deltastore.dashboards.render import write_site
from deltastore.dashboards.tilemap import GRID_POSITIONS, STATE_NAMES
from deltastore.errors import ConfigError
from deltastore.workflows.cli import main

PAGE_FILES = ("index.html", "customers.html", "products.html", "fulfillment.html")
SITE_FILES = (*PAGE_FILES, "definitions.html")


def test_site_has_an_index_linking_the_three_pages(site: Path) -> None:
    assert sorted(p.name for p in site.iterdir()) == sorted(SITE_FILES)
    index = (site / "index.html").read_text()
    for name in PAGE_FILES[1:]:
        assert f'href="{name}"' in index


@pytest.mark.parametrize("name", SITE_FILES)
def test_pages_reference_nothing_outside_themselves(site: Path, name: str) -> None:
    page = (site / name).read_text()
    # Only the SVG namespace may name a URL; it is an identifier, never fetched.
    urls = set(re.findall(r"https?://[^\s\"'<>)]+", page)) - {"http://www.w3.org/2000/svg"}
    assert urls == set()
    assert not re.search(r"<(script|link|img|iframe)[^>]+\bsrc=", page)
    assert not re.search(r"@import|@font-face|url\(", page)
    links = {link.split("#")[0] for link in re.findall(r'href="([^"]+)"', page)}
    assert links <= set(SITE_FILES) | {"data:,", ""}  # "": an anchor on the page itself


def test_every_definition_link_has_its_anchor(site: Path) -> None:
    """Each panel links the marts behind it to their row in the rendered contract."""
    anchors = set(re.findall(r'<tr id="([a-z_]+)"', (site / "definitions.html").read_text()))
    for name in PAGE_FILES[1:]:
        linked = set(re.findall(r'href="definitions\.html#([a-z_]+)"', (site / name).read_text()))
        assert linked and linked <= anchors, name


def test_every_chart_has_a_title_and_a_reading_guide(site: Path) -> None:
    for name in PAGE_FILES[1:]:
        page = (site / name).read_text()
        panels = re.findall(r'<section class="panel[^"]*"[^>]*><h2[^>]*>([^<]+)</h2>'
                            r'<p class="how-to-read">([^<]+)</p>', page)
        assert len(panels) == page.count('<section class="panel')
        assert len(panels) >= 2
        assert all(title.strip() and guide.strip() for title, guide in panels)


def test_numbers_are_formatted_for_people() -> None:
    assert fmt.money(1234567.891) == "$1,234,567.89"
    assert fmt.percent(0.1234) == "12.3%"
    assert fmt.signed_percent(-0.05) == "-5.0%"
    assert fmt.count(12345) == "12,345"
    assert fmt.money_short(12_500) == "$12k" and fmt.money_short(2_500_000) == "$2.5M"
    assert fmt.category("jewelery") == "Jewelry" and fmt.category("men's clothing") == (
        "Men's clothing")


def test_pages_embed_the_filter_marts_rows(site: Path, marts_db: tuple[Path, Any]) -> None:
    """The page computes from the marts' rows: every row is embedded, none invented."""
    page = (site / "fulfillment.html").read_text()
    config = json.loads(re.search(r'<script type="application/json" id="page-config">(.*?)'
                                  "</script>", page).group(1))
    rows = config["cubes"]["shipments"]["rows"]
    assert len(rows) == len(marts_db[1]["kpi_shipment_activity"])
    assert sum(r[5] for r in rows) == sum(r[5] for r in marts_db[1]["kpi_shipment_activity"])


def test_state_tiles_cover_every_state_once() -> None:
    assert set(GRID_POSITIONS) == set(STATE_NAMES)
    assert len(set(GRID_POSITIONS.values())) == len(GRID_POSITIONS) == 51


def test_empty_marts_render_empty_states(empty_site: Path) -> None:
    for name in PAGE_FILES[1:]:
        page = (empty_site / name).read_text()
        assert page.count('data-empty="true"') == page.count('<section class="panel'), name
        assert "No data yet — run <code>deltastore run</code>" in page
        assert 'data-freshness="empty"' in page
    assert EMPTY_MESSAGE == "No data yet — run `deltastore run`"


def test_missing_mart_is_a_configuration_error(tmp_path: Path) -> None:
    database = tmp_path / "partial.duckdb"
    connection = duckdb.connect(str(database))
    connection.execute("create schema analytics; create table analytics.kpi_pipeline_run "
                       "(run_date date, built_at timestamp, first_order_date date, "
                       "last_order_date date, last_loaded_at timestamp)")
    connection.close()
    with pytest.raises(ConfigError, match=r"`analytics\.kpi_customer_summary`.*deltastore run"):
        render_dashboards(settings_for(database, tmp_path))


def test_cli_writes_the_site_to_the_data_dir_by_default(
        marts_db: tuple[Path, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DELTASTORE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DELTASTORE_SYNC_TARGET_URL", f"duckdb://{marts_db[0]}")
    assert main(["dashboards"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "dashboards" / "index.html")
    assert (tmp_path / "dashboards" / "fulfillment.html").stat().st_size > 10_000


def test_cli_without_a_sync_target_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DELTASTORE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DELTASTORE_SYNC_TARGET_URL", raising=False)
    assert main(["dashboards", "--out", str(tmp_path / "site")]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: `duckdb://") and "does not exist yet" in error
    assert not (tmp_path / "site").exists()


def test_freshness_shows_the_run_and_warns_when_sources_are_stale(
        site: Path, marts_db: tuple[Path, Any]) -> None:
    run_date, built_at, _, _, loaded_at, _ = marts_db[1]["kpi_pipeline_run"][0]
    page = (site / "products.html").read_text()
    assert f'data-kpi="run_date" data-value="{run_date.isoformat()}"' in page
    assert "(2 h before this page was rendered)" in page
    assert 'data-freshness="ok"' in page and 'class="stale"' not in page
    late = freshness({
        "run_date": run_date, "built_at": built_at, "first_order_date": run_date,
        "last_order_date": run_date, "last_loaded_at": loaded_at,
    }, loaded_at + dt.timedelta(days=3))
    assert 'data-freshness="stale"' in late
    assert "Sources last loaded 3 days before this page was rendered" in late


def test_one_row_per_mart_renders(marts_db: tuple[Path, Any], tmp_path: Path) -> None:
    """Edge of the scales: one month, one state, one carrier, no growth yet."""
    tables = {name: [dict(zip([c for c, _ in columns], marts_db[1][name][0], strict=True))]
              for name, columns in KPI_MARTS.items()}
    index = write_site(Marts(tables), tmp_path)
    for name in PAGE_FILES[1:]:
        page = (index.parent / name).read_text()
        assert 'id="page-config"' in page and 'data-empty="true"' not in page, name

