"""Figures a step leaves for Argo's custom metrics (``DELTASTORE_METRICS_DIR``).

Argo reads each file as an output parameter of the step (``valueFrom.path``) and a template
metric emits it to Prometheus. With the setting unset nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from deltastore.errors import ConfigError
from deltastore.files import write_atomically
from deltastore.schema_changes import SchemaChange
from deltastore.settings import Settings

# File names inside the metrics directory; workflows/argo/containers.py reads the same names.
ROWS_LOADED = "rows_loaded"
FAILED_TESTS = "failed_tests"
# Prometheus text exposition (one gauge per mart), for a textfile collector or a scraper.
MART_ROWS = "mart_rows.prom"
ROWS_WRITTEN = "sync_rows_written.prom"
# One sample per schema change an extract found for the first time (extract/drift.py), in
# a file per source, `schema_changes_<source>.prom`, rewritten by each extract of it.
SCHEMA_CHANGES_METRIC = "deltastore_schema_changes"


def write_metric(settings: Settings, name: str, value: int) -> Path | None:
    """Write ``value`` as a plain integer to ``<metrics dir>/<name>``; None when turned off."""
    return _write(settings, name, str(int(value)))


def write_gauges(settings: Settings, name: str, metric: str, help: str, label: str,
                 values: Mapping[str, int]) -> Path | None:
    """Write one Prometheus gauge per labelled value to ``<metrics dir>/<name>``."""
    return write_samples(settings, name, metric, help,
                         [({label: key}, value) for key, value in sorted(values.items())])


def write_samples(settings: Settings, name: str, metric: str, help: str,
                  samples: Sequence[tuple[Mapping[str, str], int]]) -> Path | None:
    """Write a Prometheus gauge with one sample per set of labels to ``<metrics dir>/<name>``."""
    lines = [f"# HELP {metric} {help}", f"# TYPE {metric} gauge"]
    for labels, value in samples:
        pairs = ",".join(f'{key}="{_label(text)}"' for key, text in labels.items())
        lines.append(f"{metric}{{{pairs}}} {int(value)}")
    return _write(settings, name, "\n".join(lines) + "\n")


def write_schema_changes(settings: Settings, source: str,
                         changes: Sequence[SchemaChange]) -> Path | None:
    """``schema_changes_<source>.prom``: 1 per change found this run, labelled with what
    changed and what the extract did (`stopped` ones failed the run); no sample: none."""
    samples = [({"source": c.source, "table": c.table, "column": c.column, "change": c.change,
                 "action": c.action}, 1) for c in changes]
    return write_samples(settings, f"schema_changes_{source}.prom", SCHEMA_CHANGES_METRIC,
                         "Schema changes of a source found by its last extract "
                         "(meta.schema_changes).", samples)


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
