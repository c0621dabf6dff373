"""Render and lint the chart offline: the `helm` binary when it is on PATH, else the
helm-python-sdk wheel (Helm v4's Go SDK through ctypes), so the tests run anywhere.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
CHART_DIR = REPO / "charts" / "deltastore"
CI_DIR = CHART_DIR / "ci"
RELEASE = "deltastore"
NAMESPACE = "deltastore"
KUBE_VERSION = "1.35.0"
SCENARIOS = sorted(p.name for p in CI_DIR.glob("*-values.yaml"))
# Secret values that must only ever appear (base64) in the Secret, never in plain text.
SENTINEL_SECRETS = {
    "legacyDbPassword": "sentinel-legacy-pw-7Hq2",
    "warehousePassword": "sentinel-warehouse-pw-9Xk4",
    "syncTargetPassword": "sentinel-sync-pw-3Lm8",
    "notifyWebhookUrl": "https://hooks.example.com/sentinel-webhook-5Rt1",
}


class ChartError(Exception):
    """Helm refused the values or a template failed; the message is Helm's."""


@dataclass(frozen=True)
class Rendering:
    manifests: dict[str, str]    # template path (`deltastore/templates/x.yaml`) -> text
    notes: str | None            # NOTES.txt; None where the backend cannot show it

    @functools.cached_property
    def objects(self) -> list[dict[str, Any]]:
        docs: list[dict[str, Any]] = []
        for text in self.manifests.values():
            docs += [d for d in yaml.safe_load_all(text) if d]
        return docs

    @property
    def text(self) -> str:
        return "\n---\n".join(self.manifests.values())

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind: str, name_suffix: str = "") -> dict[str, Any]:
        found = [o for o in self.of_kind(kind) if o["metadata"]["name"].endswith(name_suffix)]
        assert len(found) == 1, f"expected one {kind} named *{name_suffix}, got {len(found)}"
        return found[0]


def backend() -> str:
    return "binary" if shutil.which("helm") else "sdk"


def merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Helm's coalescing of values files: maps merge key by key, anything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def user_values(values_files: Sequence[str | Path], values: Mapping[str, Any] | None) -> dict:
    combined: dict[str, Any] = {}
    for path in values_files:
        combined = merge(combined, yaml.safe_load(Path(path).read_text()) or {})
    return merge(combined, values or {})


def render(values_files: Sequence[str | Path] = (), values: Mapping[str, Any] | None = None,
           release: str = RELEASE, namespace: str = NAMESPACE) -> Rendering:
    if backend() == "binary":
        return _render_binary(values_files, values, release, namespace)
    return _render_sdk(user_values(values_files, values), release, namespace)


def lint(values_files: Sequence[str | Path] = (),
         values: Mapping[str, Any] | None = None) -> list[str]:
    """Warnings and errors of a strict lint (an empty list means clean)."""
    if backend() == "binary":
        with _values_file(values) as extra:
            result = subprocess.run(
                ["helm", "lint", str(CHART_DIR), "--strict", "--kube-version", KUBE_VERSION,
                 *_file_flags(values_files), *extra],
                capture_output=True, text=True, check=False)
        if result.returncode == 0:
            return []
        return [line for line in result.stdout.splitlines() + result.stderr.splitlines()
                if "[WARNING]" in line or "[ERROR]" in line or "Error" in line]
    import helm_python

    report = helm_python.lint(CHART_DIR, user_values(values_files, values), strict=True,
                              kube_version=f"v{KUBE_VERSION}")
    return [f"{m['path']}: {m['error']}" for m in report["messages"] if m["severity"] >= 2]


@functools.lru_cache(maxsize=1)
def _chart() -> Any:
    import helm_python

    return helm_python.Chart.load(CHART_DIR)


def _render_sdk(values: dict[str, Any], release: str, namespace: str) -> Rendering:
    import helm_python

    try:
        rendered = _chart().render(values, name=release, namespace=namespace, is_install=True)
    except helm_python.HelmError as exc:
        raise ChartError(str(exc)) from None
    notes = next((text for path, text in rendered.items() if path.endswith("/NOTES.txt")), None)
    manifests = {path: text for path, text in sorted(rendered.items())
                 if not path.endswith("/NOTES.txt") and text.strip()}
    return Rendering(manifests, notes)


def _render_binary(values_files: Sequence[str | Path], values: Mapping[str, Any] | None,
                   release: str, namespace: str) -> Rendering:
    with _values_file(values) as extra:
        result = subprocess.run(
            ["helm", "template", release, str(CHART_DIR), "--namespace", namespace,
             "--kube-version", KUBE_VERSION, *_file_flags(values_files), *extra],
            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ChartError(result.stderr.strip())
    manifests: dict[str, str] = {}
    for chunk in re.split(r"^---\s*$", result.stdout, flags=re.MULTILINE):
        source = re.search(r"^# Source: (\S+)$", chunk, flags=re.MULTILINE)
        if source and chunk.strip():
            manifests[source.group(1)] = manifests.get(source.group(1), "") + "\n---\n" + chunk
    # `helm template` never prints NOTES.txt.
    return Rendering(dict(sorted(manifests.items())), None)


def _file_flags(values_files: Sequence[str | Path]) -> list[str]:
    return [flag for path in values_files for flag in ("--values", str(path))]


@contextmanager
def _values_file(values: Mapping[str, Any] | None) -> Iterator[list[str]]:
    if not values:
        yield []
        return
    handle, path = tempfile.mkstemp(suffix=".json")
    try:
        with os.fdopen(handle, "w") as out:
            json.dump(values, out)   # JSON is YAML, so Helm reads it as a values file
        yield ["--values", path]
    finally:
        os.unlink(path)
