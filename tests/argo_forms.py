"""Values exactly as Argo Workflows v3.7.12 hands them to our containers.

Written down from argoproj/argo-workflows at tag v3.7.12 (read, not copied); every form
names the upstream file it comes from. Tests feed these, never our own idea of Argo.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

# workflow/controller/operator.go ~405-427: failures is a nil slice when nothing failed;
# json.Marshal(nil slice) is `null`, and the global is strconv.Quote(...) of that.
FAILURES_NONE = '"null"'
# operator_test.go TestStepsOnExitFailures (~4196-4214) asserts this prefix of the global:
UPSTREAM_TEST_FAILURES_PREFIX = (
    r'[{\"displayName\":\"exit-handlers\",\"message\":\"Pod failed\",'
    r'\"templateName\":\"intentional-fail\",\"phase\":\"Failed\",\"podName\":\"exit-handlers\"')
# failedNodeStatus (operator.go ~140-147): JSON field order of each failed node.
FAILED_NODE_FIELDS = ("displayName", "message", "templateName", "phase", "podName",
                      "finishedAt")
# workflow.status is the WorkflowPhase string (operator.go ~394-403).
WORKFLOW_STATUSES = ("Succeeded", "Failed", "Error")
# workflow.duration: fmt.Sprintf("%f", seconds) (operator.go ~2563), "0.000000" when unset.
DURATION_ZERO = "0.000000"


def go_json(value: object) -> str:
    """``encoding/json.Marshal``: compact, and ``<``, ``>``, ``&`` escaped as ``\\u003c``…"""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def go_quote(text: str) -> str:
    """``strconv.Quote`` for printable text: JSON string syntax (``\\"``, ``\\\\``, ``\\n``)."""
    return json.dumps(text, ensure_ascii=False)


def go_duration(seconds: float) -> str:
    """``fmt.Sprintf("%f", …)``: six decimals (workflow.duration, a step's duration)."""
    return f"{seconds:f}"


def failures_global(nodes: Sequence[Mapping[str, str]]) -> str:
    """``{{workflow.failures}}`` for these failed nodes (``FAILURES_NONE`` for none)."""
    if not nodes:
        return FAILURES_NONE
    return go_quote(go_json([{k: node.get(k, "") for k in FAILED_NODE_FIELDS}
                             for node in nodes]))


def substitute(template: object, values: Mapping[str, str]) -> object:
    """Argo's parameter substitution: marshal to JSON, put each value in JSON-escaped
    (``strconv.Quote`` minus its outer quotes), unmarshal (``workflow/common/util.go``
    SubstituteParams ~223, ``util/template/simple_template.go`` ~50-58). Unknown tags stay.
    """
    text = json.dumps(template)
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", go_quote(value)[1:-1])
    return json.loads(text)
