"""Render options: every per-installation value of the generated Argo objects.

The Helm chart embeds objects rendered with ``CHART_OPTIONS`` (sentinel strings) and replaces
each sentinel textually, so the chart's output for values V equals ``render_objects(V)``.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from importlib import metadata
from typing import Literal

from deltastore.errors import ConfigError

Granularity = Literal["single", "layer"]
IMAGE_REPOSITORY = "ghcr.io/deltastore/pipeline"
SENTINEL_PREFIX = "__DELTASTORE_"
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
# Argo refuses a CronWorkflow name over 52 characters (workflow/validate/validate.go,
# maxCharsInCronWorkflowName): the longest name is `<prefix>-freshness`.
MAX_NAME_PREFIX = 40


def project_version() -> str:
    try:
        return metadata.version("deltastore")
    except metadata.PackageNotFoundError:  # pragma: no cover - only in a bare source tree
        return "0.0.0"


def is_sentinel(value: object) -> bool:
    """True for the chart placeholders, which are checked by the chart instead of here."""
    return isinstance(value, str) and value.startswith(SENTINEL_PREFIX)


@dataclass(frozen=True)
class RenderOptions:
    # Every Argo object (and demo mutex) is named `<name_prefix>-<what>`; the chart uses its
    # release's full name, so several releases can share a namespace.
    name_prefix: str = "deltastore"
    image: str = f"{IMAGE_REPOSITORY}:{project_version()}"
    image_pull_policy: str = "IfNotPresent"
    configmap: str = "deltastore-config"
    secret: str = "deltastore-secrets"
    service_account: str = "deltastore-workflow"
    # The steps that move or transform data (extract, freshness, build, sync, docs): sized from
    # their peaks at scale 100 (docs/performance.md, "How it scales"; DuckDB gets half the limit).
    cpu_request: str = "500m"
    memory_request: str = "1Gi"
    cpu_limit: str = "2"
    memory_limit: str = "2Gi"
    # The light steps (SLO report, exit handler, waiting for demo data, dashboards): each
    # peaks near 150 MiB.
    light_cpu_request: str = "50m"
    light_memory_request: str = "128Mi"
    light_cpu_limit: str = "500m"
    light_memory_limit: str = "512Mi"
    schedule: str = "0 2 * * *"
    timezone: str = "UTC"
    # A str only for the chart sentinel; real options are booleans.
    suspend: bool | str = False
    freshness_schedule: str = "0 */4 * * *"
    data_pvc: str | None = None          # None: an emptyDir per pod; else a PVC shared by steps
    dbt_granularity: Granularity = "single"
    artifacts: bool = False              # export dbt artifacts (needs an artifact repository)
    # Extras with defaults (not part of the chart contract).
    dbt_manifest: str | None = None      # manifest.json for --dbt-granularity layer
    allow_dst_schedule: bool = False     # accept a schedule that DST skips or repeats
    dashboards: bool = True              # demo variant: add the `dashboards` task if it exists

    def replace(self, **changes: object) -> RenderOptions:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def object_name(self, what: str) -> str:
        """The name of an Argo object (or mutex) of this installation, e.g. `deltastore-daily`."""
        return f"{self.name_prefix}-{what}"

    def validate(self) -> None:
        """Reject options that would render an object Argo refuses or misruns."""
        if self.dbt_granularity not in ("single", "layer"):
            raise ConfigError(
                f"dbt granularity `{self.dbt_granularity}` is unknown: use `single` or `layer`"
            )
        if not is_sentinel(self.image_pull_policy) and self.image_pull_policy not in PULL_POLICIES:
            raise ConfigError(f"image pull policy `{self.image_pull_policy}` is unknown: use one "
                              f"of {', '.join(f'`{p}`' for p in PULL_POLICIES)}")
        if not is_sentinel(self.suspend) and not isinstance(self.suspend, bool):
            raise ConfigError(f"suspend `{self.suspend}` must be true or false")
        if not is_sentinel(self.name_prefix) and not re.fullmatch(
                rf"[a-z0-9]([-a-z0-9]{{0,{MAX_NAME_PREFIX - 2}}}[a-z0-9])?", self.name_prefix):
            raise ConfigError(f"name prefix `{self.name_prefix}` must be lowercase letters, "
                              f"digits and `-`, at most {MAX_NAME_PREFIX} characters")
        for label, value in (("image", self.image), ("configmap", self.configmap),
                             ("secret", self.secret), ("service account", self.service_account)):
            if not value or any(c.isspace() for c in value):
                raise ConfigError(f"{label} `{value}` must be a non-empty name without spaces")


DEFAULT_OPTIONS = RenderOptions()

# What the chart embeds: each sentinel is replaced by the release's value.
CHART_OPTIONS = RenderOptions(
    name_prefix="__DELTASTORE_NAME_PREFIX__",
    image="__DELTASTORE_IMAGE__",
    image_pull_policy="__DELTASTORE_IMAGE_PULL_POLICY__",
    configmap="__DELTASTORE_CONFIGMAP__",
    secret="__DELTASTORE_SECRET__",
    service_account="__DELTASTORE_SERVICE_ACCOUNT__",
    cpu_request="__DELTASTORE_CPU_REQUEST__",
    memory_request="__DELTASTORE_MEMORY_REQUEST__",
    cpu_limit="__DELTASTORE_CPU_LIMIT__",
    memory_limit="__DELTASTORE_MEMORY_LIMIT__",
    light_cpu_request="__DELTASTORE_LIGHT_CPU_REQUEST__",
    light_memory_request="__DELTASTORE_LIGHT_MEMORY_REQUEST__",
    light_cpu_limit="__DELTASTORE_LIGHT_CPU_LIMIT__",
    light_memory_limit="__DELTASTORE_LIGHT_MEMORY_LIMIT__",
    schedule="__DELTASTORE_SCHEDULE__",
    timezone="__DELTASTORE_TIMEZONE__",
    suspend="__DELTASTORE_SUSPEND__",
    freshness_schedule="__DELTASTORE_FRESHNESS_SCHEDULE__",
)
CHART_DEMO_OPTIONS = CHART_OPTIONS.replace(data_pvc="__DELTASTORE_DATA_PVC__")
