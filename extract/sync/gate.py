"""The sync gate: marts are published only after a dbt build whose nodes all passed.

Reads the last build that ``deltastore build`` recorded in the warehouse
(``transform.build_log``: Argo steps share the warehouse, not files), or an explicit dbt
``run_results.json`` given with ``--run-results``. A model, snapshot, seed, test or unit
test with status ``error`` or ``fail`` blocks the sync; ``--force`` publishes anyway and
says what failed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from deltastore.transform.build_log import BuildRecord, last_build

from deltastore.errors import DataError
from deltastore.settings import Settings

_SHOWN = 10


def _listing(nodes: tuple[str, ...]) -> str:
    shown = ", ".join(f"`{n}`" for n in nodes[:_SHOWN])
    more = f" and {len(nodes) - _SHOWN} more" if len(nodes) > _SHOWN else ""
    return shown + more


def _refuse(message: str, force: bool, echo: Callable[[str], object]) -> None:
    if force:
        echo(f"sync gate skipped (--force): {message}")
        return
    raise DataError(message)


def _build_from_file(path: Path, force: bool,
                     echo: Callable[[str], object]) -> BuildRecord | None:
    if not path.exists():
        _refuse(f"no dbt build results at `{path}`: run `deltastore build` first "
                "(or `deltastore sync --force` to publish the marts anyway)", force, echo)
        return None
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return BuildRecord.from_run_results(data)
    except (OSError, ValueError) as exc:
        _refuse(f"`{path}` is not a dbt run_results.json ({exc}): rerun `deltastore build`",
                force, echo)
        return None


def check_build_gate(settings: Settings, force: bool = False,
                     echo: Callable[[str], object] = print,
                     run_results_path: Path | None = None) -> None:
    """Raise DataError unless the last dbt build passed (or ``force``).

    The last build recorded in the warehouse by default; ``run_results_path`` gates on
    that file instead.
    """
    if run_results_path is not None:
        build = _build_from_file(run_results_path, force, echo)
        where = f"`{run_results_path}`"
    else:
        build = last_build(settings)
        where = f"the last build recorded in `{settings.warehouse_url}`"
        if build is None:
            _refuse(f"no dbt build recorded in `{settings.warehouse_url}`: run "
                    "`deltastore build` first (or `deltastore sync --force` to publish the "
                    "marts anyway)", force, echo)
    if build is None:
        return
    if build.command not in (None, "build"):
        # `dbt docs generate` & co. overwrite run_results.json with results that prove nothing.
        _refuse(f"{where} holds the results of `dbt {build.command}`, not of a build, so "
                "whether the marts passed their tests is unknown: run `deltastore build` "
                "first" + ("" if force else " (or pass `--force`)"), force, echo)
        return
    failed = build.failed_nodes
    if failed and force:
        echo(f"sync gate overridden (--force): the dbt build of {build.built_at} had "
             f"{len(failed)} failed nodes: {_listing(failed)}")
        return
    if failed:
        raise DataError(
            f"the last dbt build ({build.built_at}) had {len(failed)} failed nodes: "
            f"{_listing(failed)}; fix them and run `deltastore build`, or pass `--force` to "
            "publish the marts anyway"
        )
    echo(f"sync gate: the dbt build of {build.built_at} passed ({len(build.nodes)} nodes)")
