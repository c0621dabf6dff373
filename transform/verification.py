"""Which incremental models a build's tests verified (dbt/macros/incremental/verification.sql).

The data tests of an incremental model read only the keys written since its whole table
last passed them. After a build, ``deltastore build`` forgets a model's written keys and
records the model as verified when every data test that reads it ran in this build and
passed, under the hash of the project files and vars the tests ran with
(``verification_hash``). The tests read the same hash from the environment, so a change to
the project (a new test, new accepted values) makes them read whole tables again until a
build passes under it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

# dbt vars that do not change what a passing test proves about rows already verified (the
# run date only moves valid_date_range's upper bound up).
_NEUTRAL_VARS = ("run_date",)
# The tables dbt/macros/incremental/verification.sql makes, as (schema, name).
UNVERIFIED_KEYS = ("meta", "dbt_unverified_keys")
VERIFIED_MODELS = ("meta", "dbt_verified_models")
PROJECT_HASH_VARIABLE = "DELTASTORE_DBT_PROJECT_HASH"
WHOLE_TABLES_VARIABLE = "DELTASTORE_DBT_VERIFY_WHOLE_TABLES"


def verification_hash(fingerprint: str, extra_vars: Mapping[str, Any] | None = None) -> str:
    """The project's files (``runner.project_fingerprint``) and the vars given to dbt, as 64
    hex digits."""
    digest = hashlib.sha256(fingerprint.encode())
    chosen = {k: v for k, v in (extra_vars or {}).items() if k not in _NEUTRAL_VARS}
    digest.update(json.dumps(chosen, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def tests_environment(fingerprint: str, extra_vars: Mapping[str, Any] | None,
                      whole_tables: bool) -> dict[str, str]:
    """What the tests read (under ``execute``, so dbt never parses again for it)."""
    return {PROJECT_HASH_VARIABLE: verification_hash(fingerprint, extra_vars),
            WHOLE_TABLES_VARIABLE: "true" if whole_tables else ""}


def verified_models(manifest: Mapping[str, Any], run_results: Mapping[str, Any]
                    ) -> list[str]:
    """The tables of the ``delete_affected`` incremental models whose every data test ran
    in this build and passed (a warning is not a pass: its rows stay to be read again)."""
    statuses = {r.get("unique_id"): r.get("status") for r in run_results.get("results") or []}
    nodes: Mapping[str, Any] = manifest.get("nodes") or {}
    tests: dict[str, list[str]] = {}
    for uid, node in nodes.items():
        if node.get("resource_type") == "test":
            for parent in (node.get("depends_on") or {}).get("nodes") or []:
                tests.setdefault(parent, []).append(uid)
    return sorted(str(node.get("alias") or node.get("name"))
                  for uid, node in nodes.items()
                  if node.get("resource_type") == "model"
                  and (node.get("config") or {}).get("incremental_strategy") == "delete_affected"
                  and all(statuses.get(test) == "pass" for test in tests.get(uid, [])))


def incremental_tests(manifest: Any) -> list[str]:
    """The data tests that read a ``delete_affected`` incremental model, from a parsed
    project (dbt's ``Manifest``): what ``--verify-whole-tables`` runs even on a day that
    leaves their models alone."""
    nodes = manifest.nodes
    incremental = {uid for uid, node in nodes.items() if node.resource_type == "model"
                   and getattr(node.config, "incremental_strategy", None) == "delete_affected"}
    return sorted(uid for uid, node in nodes.items() if node.resource_type == "test"
                  and incremental & set(node.depends_on.nodes))

