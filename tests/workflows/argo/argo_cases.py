"""Sample options and the chart's sentinel replacement, shared by the Argo tests."""

from __future__ import annotations

import json
import re
from pathlib import Path

from deltastore.workflows.argo.options import RenderOptions

REPO = Path(__file__).resolve().parents[3]
SCHEMAS = REPO.parent / "shared" / "schemas" / "argoproj.io"

# Values a release might use, to stand in for the chart's sentinels.
RELEASE_OPTIONS = RenderOptions(
    name_prefix="rel-deltastore",
    image="registry.example/deltastore/pipeline:1.2.3", image_pull_policy="Always",
    configmap="rel-deltastore-config", secret="rel-deltastore-secrets",
    service_account="rel-deltastore-workflow", cpu_request="100m", memory_request="256Mi",
    cpu_limit="1", memory_limit="1Gi", light_cpu_request="20m", light_memory_request="64Mi",
    light_cpu_limit="200m", light_memory_limit="256Mi", schedule="15 3 * * *", timezone="UTC",
    suspend=True, freshness_schedule="0 */6 * * *",
)
# Two layers, as the teammate's dbt_layers() returns them, for the layer variant.
LAYERS = [("seeds+staging", "resource_type:seed path:models/staging"),
          ("intermediate", "path:models/intermediate"), ("marts", "path:models/marts"),
          ("snapshots", "resource_type:snapshot")]


DEMO_RELEASE = RELEASE_OPTIONS.replace(data_pvc="rel-deltastore-data")


def sentinel_values(options: RenderOptions) -> dict[str, str]:
    """What the chart puts in place of each sentinel (strings quoted, suspend bare)."""
    values = {
        "__DELTASTORE_IMAGE_PULL_POLICY__": options.image_pull_policy,
        "__DELTASTORE_IMAGE__": options.image,
        "__DELTASTORE_CONFIGMAP__": options.configmap,
        "__DELTASTORE_SECRET__": options.secret,
        "__DELTASTORE_SERVICE_ACCOUNT__": options.service_account,
        "__DELTASTORE_CPU_REQUEST__": options.cpu_request,
        "__DELTASTORE_MEMORY_REQUEST__": options.memory_request,
        "__DELTASTORE_CPU_LIMIT__": options.cpu_limit,
        "__DELTASTORE_MEMORY_LIMIT__": options.memory_limit,
        "__DELTASTORE_LIGHT_CPU_REQUEST__": options.light_cpu_request,
        "__DELTASTORE_LIGHT_MEMORY_REQUEST__": options.light_memory_request,
        "__DELTASTORE_LIGHT_CPU_LIMIT__": options.light_cpu_limit,
        "__DELTASTORE_LIGHT_MEMORY_LIMIT__": options.light_memory_limit,
        "__DELTASTORE_FRESHNESS_SCHEDULE__": options.freshness_schedule,
        "__DELTASTORE_SCHEDULE__": options.schedule,
        "__DELTASTORE_TIMEZONE__": options.timezone,
        "__DELTASTORE_DATA_PVC__": options.data_pvc or "",
    }
    quoted = {k: json.dumps(v) for k, v in values.items()}
    quoted["__DELTASTORE_SUSPEND__"] = "true" if options.suspend else "false"
    # Part of names and texts: put in as it is.
    quoted["__DELTASTORE_NAME_PREFIX__"] = options.name_prefix
    return quoted


def replace_sentinels(text: str, options: RenderOptions) -> str:
    """The chart's textual replacement, done the same way here."""
    values = sentinel_values(options)
    return re.sub(r"__DELTASTORE_[A-Z_]+?__", lambda m: values[m.group(0)], text)

