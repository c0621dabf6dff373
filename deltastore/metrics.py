"""Figures a step leaves for Argo's custom metrics (``DELTASTORE_METRICS_DIR``).

Argo reads each file as an output parameter of the step (``valueFrom.path``) and a template
metric emits it to Prometheus. With the setting unset nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from deltastore.errors import ConfigError
from deltastore.files import write_atomically
from deltastore.settings import Settings

# File names inside the metrics directory; workflows/argo/containers.py reads the same names.
ROWS_LOADED = "rows_loaded"
FAILED_TESTS = "failed_tests"
# Prometheus text exposition (one gauge per mart), for a textfile collector or a scraper.
MART_ROWS = "mart_rows.prom"


def write_metric(settings: Settings, name: str, value: int) -> Path | None:
    """Write ``value`` as a plain integer to ``<metrics dir>/<name>``; None when turned off."""
    return _write(settings, name, str(int(value)))


def write_gauges(settings: Settings, name: str, metric: str, help: str, label: str,
                 values: Mapping[str, int]) -> Path | None:
    """Write one Prometheus gauge per labelled value to ``<metrics dir>/<name>``."""
    lines = [f"# HELP {metric} {help}", f"# TYPE {metric} gauge"]
    lines += [f'{metric}{{{label}="{_label(key)}"}} {int(value)}'
              for key, value in sorted(values.items())]
    return _write(settings, name, "\n".join(lines) + "\n")


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _write(settings: Settings, name: str, text: str) -> Path | None:
    if settings.metrics_dir is None:
        return None
    path = settings.metrics_dir / name
    try:
        settings.metrics_dir.mkdir(parents=True, exist_ok=True)
        # A textfile collector or Argo may read the file at any moment.
        write_atomically(path, text)
    except OSError as exc:
        raise ConfigError(f"DELTASTORE_METRICS_DIR: cannot write `{path}`: {exc.strerror}; "
                          "point it at a writable folder or unset it") from None
    return path
