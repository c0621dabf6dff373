"""Retries: which failures Argo retries, and that backoff limits never cancel them.

The expression is evaluated (tests/argo_expr.py) with the variables Argo v3.7.18 gives it
(``workflow/controller/operator.go`` buildRetryStrategyLocalScope): strings
``lastRetry.exitCode`` ("-1" when the main container has no exit code), ``lastRetry.status``
and ``lastRetry.message``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from argo_expr import evaluate

from deltastore.workflows.argo import template

PIPELINE_FILE = "workflowtemplate-deltastore-pipeline.yaml"
BACKFILL_FILE = "workflowtemplate-deltastore-backfill.yaml"

def retried_templates(objects: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [t for name in (PIPELINE_FILE, BACKFILL_FILE)
            for t in objects[name]["spec"]["templates"] if "retryStrategy" in t]


def duration_seconds(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+)([smh])", text))


# (exit code, phase, message) as Argo v3.7.18 records them for each kind of end: the node
# message is inferFailedReason's (workflow/controller/operator.go: the pod's status message
# when set, else "<container>: <reason> (exit code N)"), the exit code the main container's,
# which is argoexec emissary's (cmd/argoexec/commands/emissary.go: the step's own code, or
# 137 when the step died by a signal).
RETRIED = [
    ("1", "Failed", "main: Error (exit code 1)"),                        # TransientError
    ("-1", "Error", "pod deleted"),                                      # pod gone, status unseen
    ("-1", "Failed", "The node was low on resource: memory. "),          # evicted, no exit
    ("137", "Failed", "The node was low on resource: ephemeral-storage. "),
    ("143", "Failed", "main: Error (exit code 143)"),   # SIGTERM handled (workflows/signals.py)
    ("137", "Failed", "main: Error (exit code 137)"),   # SIGTERM not handled in time, SIGKILL
    # With the step's termination message (workflows/cli.py) after Argo's text: any words.
    ("1", "Failed", "main: Error (exit code 1): error: the lock deadline passed; OOMKilled?"),
    ("143", "Failed", "main: Error (exit code 143): terminated (SIGTERM): stopped before "
                      "the end; a rerun is safe"),
]
NOT_RETRIED = [
    ("0", "Failed", "main: Completed (exit code 0)"),
    ("137", "Failed", "main: OOMKilled (exit code 137)"),                # same data, same OOM
    ("143", "Failed", "Step exceeded its deadline"),                     # the workflow's deadline
    ("137", "Failed", "Step exceeded its deadline"),
    ("-1", "Failed", "Pod was active on the node longer than the specified deadline"),
    ("1", "Failed", "Pod was active on the node longer than the specified deadline"),
    ("64", "Error", "main: Error (exit code 64)"),                       # emissary's own error
    ("3", "Failed", "main: Error (exit code 3): error: dbt build: 1 test(s) failed"),
]


def test_every_retried_template_retries_exactly_the_chosen_failures(default_objects):
    found = retried_templates(default_objects)
    assert {t["name"] for t in found} >= {"extract-store-api", "dbt-build", "sync", "notify"}
    for item in found:
        expression = item["retryStrategy"]["expression"]
        for case in RETRIED:
            assert evaluate(expression, *case), (item["name"], case)
        for case in NOT_RETRIED:
            assert not evaluate(expression, *case), (item["name"], case)


# deltastore/errors.py: 2 configuration, 3 data, 4 a bug, 130 interrupted (Ctrl-C), 141 the
# output's reader left.
@pytest.mark.parametrize("code", ["2", "3", "4", "130", "141"])
def test_configuration_data_bug_and_interrupt_exits_are_never_retried(default_objects, code):
    messages = ["", "pod deleted", "The node was low on resource: memory.", "deadline",
                "main: Error (exit code 2)"]
    for item in retried_templates(default_objects):
        for status in ("Failed", "Error"):
            for message in messages:
                assert not evaluate(item["retryStrategy"]["expression"], code, status,
                                    message), (item["name"], code, message)


def test_backoff_never_cuts_retries_short(default_objects):
    """maxDuration counts from the first attempt's start and caps the pod deadline too
    (operator.go ~1021-1034, ~1077-1090): if set, it must outlast every attempt and wait."""
    for item in retried_templates(default_objects):
        strategy = item["retryStrategy"]
        backoff = strategy["backoff"]
        limit = int(strategy["limit"])
        base, factor = duration_seconds(backoff["duration"]), int(backoff["factor"])
        cap = duration_seconds(backoff["cap"])
        assert cap >= base, item["name"]
        # operator.go ~1048-1066: wait n = duration * factor^n, then capped.
        waits = [min(base * factor ** n, cap) for n in range(limit)]
        needed = int(item["activeDeadlineSeconds"]) * (limit + 1) + sum(waits)
        if "maxDuration" in backoff:
            assert duration_seconds(backoff["maxDuration"]) > needed, item["name"]
        assert sum(waits) < template.WORKFLOW_DEADLINE_SECONDS
