"""Figures a step leaves for Argo's custom metrics (``DELTASTORE_METRICS_DIR``).

Argo reads each file as an output parameter of the step (``valueFrom.path``) and a template
metric emits it to Prometheus. With the setting unset nothing is written.
"""

from __future__ import annotations

from pathlib import Path

from deltastore.errors import ConfigError
from deltastore.settings import Settings

# File names inside the metrics directory; workflows/argo/containers.py reads the same names.
ROWS_LOADED = "rows_loaded"
FAILED_TESTS = "failed_tests"


def write_metric(settings: Settings, name: str, value: int) -> Path | None:
    """Write ``value`` as a plain integer to ``<metrics dir>/<name>``; None when turned off."""
    if settings.metrics_dir is None:
        return None
    path = settings.metrics_dir / name
    try:
        settings.metrics_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(str(int(value)))
    except OSError as exc:
        raise ConfigError(f"DELTASTORE_METRICS_DIR: cannot write `{path}`: {exc.strerror}; "
                          "point it at a writable folder or unset it") from None
    return path
