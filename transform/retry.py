"""Retry only what failed: the dbt nodes ``deltastore build --retry-failed`` builds.

dbt's own ``dbt retry`` reads ``target/run_results.json``, which on Kubernetes stays behind
in the pod of the attempt that failed. The warehouse keeps every recorded build with its
nodes (``transform.build_log``), so the next attempt, in a new pod, reads the last one
there and builds only the nodes that errored, failed or were skipped in it, and whatever
depends on them (dbt's ``+`` graph operator, as a ``fqn:`` selector per node).

It trusts that record only when it is the build this one retries; otherwise it builds
everything and says why:
- nothing is recorded, or nothing since ``since`` (Argo passes the run's start: an attempt
  stopped or killed before it recorded its build leaves an older record, of another run);
- the record is of another project (the files' hash, ``project_fingerprint``) or another
  run date.
The sync gate then reads the latest result of every node across all recorded builds
(``build_log.latest_node_states``), so the attempts together decide.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from deltastore.errors import ConfigError
from deltastore.settings import Settings
from deltastore.transform.build_log import BuildRecord, last_build
from deltastore.transform.runner import (
    dbt_run_date,
    parse_project,
    project_fingerprint,
)

# dbt's RETRYABLE_STATUSES (dbt/task/retry.py), as the build log records them.
RETRY_STATUSES = frozenset({"error", "fail", "runtime error", "skipped", "partial success"})


@dataclass(frozen=True)
class RetryPlan:
    """What to build: ``selectors`` (None: everything; empty: nothing), and why."""

    selectors: tuple[str, ...] | None
    reason: str
    retried: tuple[str, ...] = ()   # the nodes that errored, failed or were skipped

    def selection(self, user_select: str) -> str:
        return within(self.selectors, user_select)


def within(selectors: Sequence[str] | None, user_select: str) -> str:
    """The dbt ``--select`` for a plan's selectors within the user's own ``--select``
    (dbt's intersection, ``a,b``); the user's own when the plan builds everything."""
    if selectors is None:
        return user_select
    words = user_select.split()
    if not words:
        return " ".join(selectors)
    return " ".join(f"{mine},{theirs}" for mine in selectors for theirs in words)


def parse_since(text: str) -> dt.datetime | None:
    """``--retry-since``: an ISO time (Argo's ``{{workflow.creationTimestamp}}`` is RFC 3339,
    ``2026-01-31T02:00:00Z``) as naive UTC, the warehouse's timestamps; empty: none."""
    if not text.strip():
        return None
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"--retry-since: `{text}` is not a time; write it as "
                          "2026-01-31T02:00:00Z") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


def plan_retry(last: BuildRecord | None, *, project_hash: str, run_date: str,
               since: dt.datetime | None,
               fqns: Callable[[], Mapping[str, Sequence[str]]]) -> RetryPlan:
    """The plan for a retry after ``last``. ``fqns`` gives unique id -> dbt fqn from the
    parsed project; it is called only when there is something to retry."""
    if last is None:
        return RetryPlan(None, "no dbt build is recorded in the warehouse: building "
                               "everything")
    when = f"the build of {last.built_at}"
    if since is not None and (last.recorded_at is None or last.recorded_at < since):
        return RetryPlan(None, f"no build is recorded since {since:%Y-%m-%d %H:%M:%S} UTC "
                               f"(the last is {when}): the attempt before ended before it "
                               "could record one; building everything")
    if last.project_hash != project_hash:
        why = ("did not record its project" if last.project_hash is None
               else "was of other dbt project files")
        return RetryPlan(None, f"{when} {why}: building everything")
    if last.run_date != run_date:
        return RetryPlan(None, f"{when} was for run date `{last.run_date}`, this one is for "
                               f"`{run_date}`: building everything")
    retried = tuple(n.unique_id for n in last.nodes if n.status in RETRY_STATUSES)
    if not retried:
        return RetryPlan((), f"every node of {when} passed: nothing to retry")
    names = fqns()
    gone = [uid for uid in retried if uid not in names]
    if gone:
        return RetryPlan(None, f"`{gone[0]}` of {when} is not in the project any more: "
                               "building everything")
    counts = Counter(n.status for n in last.nodes if n.status in RETRY_STATUSES)
    shown = ", ".join(f"{count} {status}" for status, count in sorted(counts.items()))
    return RetryPlan(tuple(f"fqn:{'.'.join(names[uid])}+" for uid in retried),
                     f"retrying the {len(retried)} of {len(last.nodes)} nodes of {when} that "
                     f"did not pass ({shown}), and what depends on them", retried)


# What a build runs besides models, seeds, snapshots and tests (manifest.nodes); dbt's
# `fqn:` method selects from all of them (graph/selector_methods.py non_source_nodes).
_OTHER_RESOURCES = ("unit_tests", "exposures", "saved_queries", "semantic_models", "metrics")


def project_fqns(manifest: Any) -> dict[str, list[str]]:
    """unique id -> fqn of everything a build of the parsed dbt project may run."""
    nodes = dict(manifest.nodes)
    for resource in _OTHER_RESOURCES:
        nodes.update(getattr(manifest, resource, None) or {})
    return {uid: list(node.fqn) for uid, node in nodes.items()}


def retry_plan(settings: Settings, *, run_date: dt.date | None = None,
               extra_vars: Mapping[str, Any] | None = None, target: str | None = None,
               since: dt.datetime | None = None) -> RetryPlan:
    """``plan_retry`` for the next ``deltastore build`` with these options."""
    def fqns() -> dict[str, list[str]]:
        return project_fqns(parse_project(settings, run_date=run_date, extra_vars=extra_vars,
                                          target=target))

    return plan_retry(last_build(settings),
                      project_hash=project_fingerprint(settings.dbt_project_dir),
                      run_date=dbt_run_date(settings, run_date, extra_vars),
                      since=since, fqns=fqns)
