"""Render the dashboards as a static site: index.html and one page per dashboard."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from deltastore.dashboards import definitions
from deltastore.dashboards.marts import Marts, read_marts
from deltastore.dashboards.pages import customers, fulfillment, overview, products
from deltastore.errors import ConfigError
from deltastore.files import write_atomically
from deltastore.settings import Settings

log = logging.getLogger(__name__)

PAGE_MODULES = (overview, customers, products, fulfillment)


def default_out_dir(settings: Settings) -> Path:
    return settings.data_dir / "dashboards"


def render_dashboards(settings: Settings, out_dir: Path | None = None) -> Path:
    """Read the KPI marts from the sync target and write the site; returns index.html."""
    marts = read_marts(settings.sync_target_url)
    return write_site(marts, out_dir or default_out_dir(settings))


def write_site(marts: Marts, out_dir: Path, rendered_at: dt.datetime | None = None) -> Path:
    """Write every page; each file is replaced whole, so a viewer never sees half a page."""
    now = rendered_at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create `{out_dir}`: {exc.strerror}; pass a writable --out"
        ) from None
    for module in PAGE_MODULES:
        write_atomically(out_dir / module.FILENAME, module.render(marts, now))
    write_atomically(out_dir / definitions.FILENAME, definitions.render())
    log.info("dashboards written to %s", out_dir)
    return out_dir / overview.FILENAME
