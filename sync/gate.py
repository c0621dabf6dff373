"""The sync gate: marts are published only when every node that feeds them passed.

Reads, from the builds ``deltastore build`` recorded in the warehouse
(``transform.build_log``: Argo steps share the warehouse, not files), the latest result of
every model, seed, snapshot, test and unit test that feeds a published mart, whichever
build ran it: a partial ``--select`` build cannot clear another node's earlier failure,
and a build run layer by layer is judged as a whole. A node whose latest result is
``error`` or ``fail``, or that was never built, blocks the sync. ``--run-results`` gates
on one dbt ``run_results.json`` instead. ``--force`` publishes anyway and says what failed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from deltastore.errors import DataError
from deltastore.settings import Settings
from deltastore.transform.build_log import (
    FAILED_STATUSES,
    BuildRecord,
    NodeState,
    latest_node_states,
)

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
    """Raise DataError unless every node feeding the marts passed (or ``force``).

    The latest result of each node recorded in the warehouse by default;
    ``run_results_path`` gates on that one file instead.
    """
    if run_results_path is None:
        _check_recorded(settings, force, echo)
        return
    build = _build_from_file(run_results_path, force, echo)
    where = f"`{run_results_path}`"
    if build is None:
        return
    if build.command not in (None, "build"):
        # `dbt docs generate` & co. overwrite run_results.json with results that prove nothing.
        _refuse(f"{where} holds the results of `dbt {build.command}`, not of a build, so "
                "whether the marts passed their tests is unknown: run `deltastore build` "
                "first" + ("" if force else " (or pass `--force`)"), force, echo)
        return
    if not build.nodes:
        _refuse(f"{where} ran no node, which proves nothing: run `deltastore build`",
                force, echo)
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


def _check_recorded(settings: Settings, force: bool, echo: Callable[[str], object]) -> None:
    states = latest_node_states(settings)
    if states is None:
        _refuse(f"no dbt build recorded in `{settings.warehouse_url}`: run "
                "`deltastore build` first (or `deltastore sync --force` to publish the "
                "marts anyway)", force, echo)
        return
    feeding = [s for s in states if s.feeds_marts]
    if not feeding:
        _refuse(f"the dbt project recorded in `{settings.warehouse_url}` has no node feeding "
                "schema `analytics`, so nothing proves the marts: run a full "
                "`deltastore build`", force, echo)
        return
    failed = tuple(_named(s) for s in feeding if s.status in FAILED_STATUSES)
    never = tuple(s.unique_id for s in feeding if s.status is None)
    problems = []
    if failed:
        problems.append(f"{len(failed)} failed: {_listing(failed)}")
    if never:
        problems.append(f"{len(never)} never built: {_listing(never)}")
    if problems:
        message = (f"of the {len(feeding)} dbt nodes feeding the marts, "
                   + "; ".join(problems) + " (latest result of each, from every build "
                   f"recorded in `{settings.warehouse_url}`)")
        if force:
            echo(f"sync gate overridden (--force): {message}")
            return
        raise DataError(f"{message}; fix them and run `deltastore build` (a `--select` "
                        "covering them is enough), or pass `--force` to publish anyway")
    times = [s.built_at for s in feeding if s.built_at is not None]
    span = (f"builds of {min(times):%Y-%m-%d %H:%M:%S} to {max(times):%Y-%m-%d %H:%M:%S}"
            if times else "no build times")
    echo(f"sync gate: the latest results of all {len(feeding)} nodes feeding the marts "
         f"passed ({span})")


def _named(state: NodeState) -> str:
    return f"{state.unique_id} ({state.status})"
