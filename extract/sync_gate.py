"""The sync gate: marts are published only after a dbt build whose nodes all passed.

Reads dbt's ``run_results.json`` (by default ``<data dir>/dbt/target/run_results.json``,
where ``deltastore build`` writes it). A model, snapshot, seed, test or unit test with status
``error`` or ``fail`` blocks the sync; ``--force`` publishes anyway and says what failed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from extract.errors import DataError
from extract.settings import Settings

FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})
GATED_NODE_TYPES = ("model.", "snapshot.", "seed.", "test.", "unit_test.")
_SHOWN = 10


def default_run_results_path(settings: Settings) -> Path:
    return settings.data_dir / "dbt" / "target" / "run_results.json"


def failed_nodes(run_results: dict[str, Any]) -> list[str]:
    """``unique_id (status)`` of every gated node that errored or failed."""
    failed = []
    for result in run_results.get("results") or []:
        node = str(result.get("unique_id", "?"))
        status = str(result.get("status", "")).lower()
        if node.startswith(GATED_NODE_TYPES) and status in FAILED_STATUSES:
            failed.append(f"{node} ({status})")
    return failed


def _listing(nodes: list[str]) -> str:
    shown = ", ".join(f"`{n}`" for n in nodes[:_SHOWN])
    more = f" and {len(nodes) - _SHOWN} more" if len(nodes) > _SHOWN else ""
    return shown + more


def check_build_gate(path: Path, force: bool = False,
                     echo: Callable[[str], object] = print) -> None:
    """Raise DataError unless the last dbt build passed (or ``force``)."""
    if not path.exists():
        if force:
            echo(f"sync gate skipped (--force): no dbt results at `{path}`")
            return
        raise DataError(
            f"no dbt build results at `{path}`: run `deltastore build` first "
            "(or `deltastore sync --force` to publish the marts anyway)"
        )
    try:
        data = json.loads(path.read_text())
        results = data.get("results")
        if not isinstance(results, list):
            raise ValueError("no `results` list")
    except (OSError, ValueError, AttributeError) as exc:
        if force:
            echo(f"sync gate skipped (--force): `{path}` is unreadable ({exc})")
            return
        raise DataError(
            f"`{path}` is not a dbt run_results.json ({exc}): rerun `deltastore build`"
        ) from None
    which = (data.get("args") or {}).get("which")
    if which not in (None, "build"):
        # `dbt docs generate` & co. overwrite the file with results that prove nothing.
        message = (f"`{path}` holds the results of `dbt {which}`, not of a build, so whether "
                   "the marts passed their tests is unknown: run `deltastore build` first")
        if force:
            echo(f"sync gate skipped (--force): {message}")
            return
        raise DataError(message + " (or pass `--force`)")
    failed = failed_nodes(data)
    built_at = (data.get("metadata") or {}).get("generated_at", "?")
    if failed and force:
        echo(f"sync gate overridden (--force): the dbt build of {built_at} had "
             f"{len(failed)} failed nodes: {_listing(failed)}")
        return
    if failed:
        raise DataError(
            f"the last dbt build ({built_at}) had {len(failed)} failed nodes: "
            f"{_listing(failed)}; fix them and run `deltastore build`, or pass `--force` to "
            "publish the marts anyway"
        )
    echo(f"sync gate: the dbt build of {built_at} passed ({len(results)} nodes)")
