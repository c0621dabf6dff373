"""The exit handler's job: record how a workflow ended and tell a chat channel on failure.

``deltastore notify`` runs as the workflow's ``onExit`` step with ``{{workflow.status}}``
and ``{{workflow.failures}}``. It always prints the outcome to the log; when
``DELTASTORE_NOTIFY_WEBHOOK_URL`` is set (from the Secret) and the workflow did not succeed,
it posts a Slack-compatible ``{"text": …}`` message naming each failed step once, with what
its last attempt said and what its exit code means (configuration, data, transient, …).
The webhook URL is a secret: it is never printed, not even in errors.

The exit handler must never turn a good run into a failed one: Argo marks a Succeeded
workflow Failed when its exit node fails (argo-workflows v3.7.18
``workflow/controller/operator.go``, ``case wfv1.WorkflowSucceeded: if onExitNode != nil &&
onExitNode.FailedOrError()``). So input that cannot be parsed is logged and the outcome
still printed; only a webhook that cannot be reached fails the step (and only when the run
already failed, because a success posts nothing).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

import requests

from deltastore.errors import (
    EXIT_BUG,
    EXIT_CONFIG,
    EXIT_DATA,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    ConfigError,
    TransientError,
)
from deltastore.workflows.argo.messages import (
    OOM_MESSAGE,
    POD_DEADLINE_MESSAGE,
    RETRY_WRAPPER_MESSAGES,
    STEP_DEADLINE_MESSAGE,
)

log = logging.getLogger(__name__)
POST_TIMEOUT_SECONDS = 10
# `dbt-build(1)`: the second attempt of the retry node `dbt-build`. A fan-out item or a
# backfill day has an index and a value: `item(3:orders)`, `dbt-build(0:2026-01-02)`.
_ATTEMPT = re.compile(r"^(?P<node>.+)\((?P<attempt>\d+)\)$")
_ITEM = re.compile(r"^.*\(\d+:(?P<item>.*)\)$")
_EXIT_CODE = re.compile(r"\(exit code (-?\d+)\)")
# Go's strconv.Quote escapes (strconv/quote.go appendEscapedRune) and what they stand for.
_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
                   "v": "\v", "\\": "\\", '"': '"', "'": "'"}
_HEX_DIGITS = {"x": 2, "u": 4, "U": 8}

EXIT_MEANINGS = {
    EXIT_FAILED: "a transient error (a source or database unavailable); a rerun may pass",
    EXIT_CONFIG: "a configuration error: retrying cannot help; fix what the step's log names",
    EXIT_DATA: "a data error (a failed dbt test, the sync gate or a volume guard): fix the "
               "data, then rerun",
    EXIT_BUG: "a bug: the traceback is in the step's log",
    EXIT_INTERRUPTED: "interrupted",
    EXIT_TERMINATED: "stopped by Kubernetes (SIGTERM: a node drain, preemption or eviction)",
    64: "Argo's executor failed: see the pod's `wait` container log",
}


def go_unquote(text: str) -> str:
    """Undo Go's ``strconv.Quote``: read the escapes left to right, so an escaped backslash
    is never taken for the start of another escape (``\\\\v`` is a backslash and a `v`).
    ``\\x`` stands for a byte, as in Go; the bytes are read back as UTF-8."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError("not a quoted string")
    out = bytearray()
    body, i = text[1:-1], 0
    while i < len(body):
        char = body[i]
        if char == '"':
            raise ValueError("an unescaped quote inside a quoted string")
        if char != "\\":
            out += char.encode("utf-8")
            i += 1
            continue
        code = body[i + 1:i + 2]
        if code in _SIMPLE_ESCAPES:
            out += _SIMPLE_ESCAPES[code].encode("utf-8")
            i += 2
        elif code in _HEX_DIGITS:
            digits = body[i + 2:i + 2 + _HEX_DIGITS[code]]
            if len(digits) != _HEX_DIGITS[code] or not re.fullmatch(r"[0-9a-fA-F]+", digits):
                raise ValueError(f"a bad `\\{code}` escape")
            value = int(digits, 16)
            out += bytes([value]) if code == "x" else chr(value).encode("utf-8", "replace")
            i += 2 + len(digits)
        else:
            raise ValueError(f"an unknown escape `\\{code}`")
    return out.decode("utf-8", "replace")


def decode_failures(text: str | None) -> object:
    """The value of ``{{workflow.failures}}`` as Argo delivers it, decoded to JSON data.

    Argo v3.7.18 stores ``strconv.Quote(json.Marshal(failures))`` (``operator.go``), and
    parameter substitution only JSON-escapes it into the pod spec and back
    (``util/template/simple_template.go``, ``workflow/common/util.go`` SubstituteParams), so
    the container receives the Go-quoted JSON: ``"null"`` (with the quote characters) when
    nothing failed, ``"[{\\"displayName\\":…}]"`` otherwise. The unquoted forms (``null``,
    ``[]``, a bare list) are accepted too, as typed by a person.
    """
    text = (text or "").strip()
    if not text or text.startswith("{{"):   # empty, or not substituted (run outside Argo)
        return None
    try:
        if text.startswith('"'):
            text = go_unquote(text)
        return json.loads(text)
    except (json.JSONDecodeError, ValueError):
        raise ConfigError(f"--failures is not the JSON of `{{{{workflow.failures}}}}`: "
                          f"`{text[:80]}`") from None


@dataclass(frozen=True)
class Failure:
    """A failed step, or one failed item of a fanned-out step (a legacy table, a day)."""

    step: str
    phase: str
    message: str
    item: str | None = None
    finished_at: str = ""

    @property
    def exit_code(self) -> int | None:
        found = _EXIT_CODE.search(self.message)
        return int(found.group(1)) if found else None

    @property
    def meaning(self) -> str | None:
        """What the failure means for whoever reads the alert, when the message tells."""
        code = self.exit_code
        if self.message == STEP_DEADLINE_MESSAGE or self.message.startswith(
                POD_DEADLINE_MESSAGE):
            return "ran past its deadline"
        if code == 137:
            return ("out of memory: raise `workflow.resources.limits.memory`"
                    if self.message.startswith(OOM_MESSAGE) else
                    "killed before it could stop (SIGKILL after the grace period)")
        if code is not None and code in EXIT_MEANINGS:
            return f"exit {code}: {EXIT_MEANINGS[code]}"
        if self.message == "pod deleted":
            return "the pod was deleted before it ended (its node was lost?)"
        return None


def _is_wrapper(message: str) -> bool:
    return message.startswith(RETRY_WRAPPER_MESSAGES)


@dataclass(frozen=True)
class _Node:
    """One entry of ``workflow.failures`` (failedNodeStatus, operator.go)."""

    name: str                 # the display name without an attempt suffix
    attempt: int | None       # the N of "name(N)": a pod of a retried step
    template: str
    phase: str
    message: str
    finished_at: str

    @classmethod
    def read(cls, item: dict[str, object]) -> _Node:
        display = str(item.get("displayName") or item.get("templateName") or "unknown step")
        attempt = _ATTEMPT.match(display)
        return cls(name=attempt.group("node") if attempt else display,
                   attempt=int(attempt.group("attempt")) if attempt else None,
                   template=str(item.get("templateName") or ""),
                   phase=str(item.get("phase") or "Failed"),
                   message=str(item.get("message") or "").strip(),
                   finished_at=str(item.get("finishedAt") or ""))

    @property
    def step(self) -> str:
        """Items of a fan-out (`item(3:orders)`) and days of the backfill
        (`dbt-build(0:2026-01-02)`) fold into the step whose template they run."""
        return self.template if _ITEM.match(self.name) and self.template else self.name

    @property
    def item(self) -> str | None:
        found = _ITEM.match(self.name)
        return found.group("item") if found else None


def _explain(nodes: list[_Node]) -> _Node:
    """The node whose message says why: the last attempt that says something other than
    Argo's wrapper texts, else the retry node, else whatever there is."""
    attempts = sorted((n for n in nodes if n.attempt is not None), key=lambda n: n.attempt or 0)
    wrappers = [n for n in nodes if n.attempt is None]
    for node in [*reversed(attempts), *wrappers]:
        if node.message and not _is_wrapper(node.message):
            return node
    return next((n for n in [*wrappers, *reversed(attempts)] if n.message), nodes[0])


def parse_failures(text: str | None) -> list[Failure]:
    """Failed steps (one per failed item of a fanned-out step), the first to fail first;
    empty, ``null`` or unsubstituted means none.

    Argo lists every failed node (``operator.go``): a retried step's retry node, which it
    marks failed after the last attempt (after the backoff, when the expression refuses a
    retry), with a message of its own such as "No more retries left"; each failed attempt
    (``sync(0)``, ``sync(1)``, …) with the pod's message ("main: Error (exit code 3)"); and
    the DAG nodes above them, which fail with no message (``dag.go``). So: group by step
    and item, take the last attempt's message (the wrapper texts only when nothing else
    explains it), drop message-less group nodes when a step explains the failure.
    """
    items = decode_failures(text)
    if items is None:
        return []
    if not isinstance(items, list):
        raise ConfigError("--failures must be a JSON list (Argo's `{{workflow.failures}}`)")
    nodes = _without_group_nodes([_Node.read(i) for i in items if isinstance(i, dict)])
    groups: dict[tuple[str, str | None], list[_Node]] = {}
    for node in nodes:
        groups.setdefault((node.step, node.item), []).append(node)
    failures = [_failure(step, item, group) for (step, item), group in groups.items()]
    # Go's map order is random: the step that failed first comes first (unset last).
    failures.sort(key=lambda f: (f.finished_at or "~", f.step, f.item or ""))
    return failures


def _without_group_nodes(nodes: list[_Node]) -> list[_Node]:
    """A group node (the DAG, a fan-out, the backfill's loop) says nothing of its own: left
    out when any node says something."""
    if not any(n.message for n in nodes):
        return nodes
    named = {n.name for n in nodes if n.message}
    return [n for n in nodes if n.message or n.name in named]


def _failure(step: str, item: str | None, group: list[_Node]) -> Failure:
    explaining = _explain(group)
    outer = next((n for n in group if n.attempt is None), explaining)
    first = min((n.finished_at for n in group if n.finished_at), default="")
    return Failure(step, outer.phase, explaining.message, item, first)


def _described(failure: Failure) -> str:
    text = failure.message or "no message"
    meaning = failure.meaning
    return f"{text} ({meaning})" if meaning else text


def outcome_text(workflow: str, status: str, failures: list[Failure]) -> str:
    if not failures:
        return f"DeltaStore workflow `{workflow}` ended: {status}."
    steps: dict[str, list[Failure]] = {}
    for failure in failures:
        steps.setdefault(failure.step, []).append(failure)
    lines = [f"DeltaStore workflow `{workflow}` ended: {status}. Failed step(s): "
             + ", ".join(f"`{s}`" for s in steps)]
    for step, found in steps.items():
        if all(f.item is None for f in found):
            lines.append(f"• `{step}` ({found[0].phase}): {_described(found[0])}")
            continue
        by_text: dict[str, list[str]] = {}
        for failure in found:
            by_text.setdefault(_described(failure), []).append(failure.item or "?")
        parts = [f"{', '.join(f'`{i}`' for i in items)}: {text}"
                 for text, items in by_text.items()]
        lines.append(f"• `{step}` ({found[0].phase}) for {'; '.join(parts)}")
    return "\n".join(lines)


def post_webhook(url: str, payload: dict[str, object],
                 timeout: float = POST_TIMEOUT_SECONDS) -> None:
    """POST JSON; a 5xx or network error is transient, a 4xx means the URL is wrong."""
    try:
        response = requests.post(url, json=payload, timeout=timeout)
    except requests.RequestException as exc:
        # The exception text holds the URL, which is a secret: name only its class.
        raise TransientError(f"posting to DELTASTORE_NOTIFY_WEBHOOK_URL failed: "
                             f"`{type(exc).__name__}`; check the network and retry") from None
    if response.status_code >= 500 or response.status_code == 429:
        raise TransientError(f"the webhook of DELTASTORE_NOTIFY_WEBHOOK_URL answered "
                             f"`{response.status_code}`; retry later")
    if response.status_code >= 400:
        raise ConfigError(f"the webhook of DELTASTORE_NOTIFY_WEBHOOK_URL refused the message "
                          f"(`{response.status_code}`): check the URL in the Secret")


def notify(workflow: str, status: str, failures_json: str | None, webhook_url: str | None,
           echo: Callable[[str], None] = print) -> bool:
    """Print the outcome; post it when the workflow failed and a webhook is set.

    Unreadable ``failures_json`` is logged, never raised (see the module docstring).
    Returns True when a message was posted.
    """
    try:
        failures = parse_failures(failures_json)
        text = outcome_text(workflow, status, failures)
    except ConfigError as exc:
        log.warning("cannot name the failed steps: %s", exc)
        text = outcome_text(workflow, status, []) + (
            "" if status == "Succeeded" else " (the failed steps could not be read)")
    echo(text)
    if status == "Succeeded" or not webhook_url:
        return False
    post_webhook(webhook_url, {"text": text})
    log.info("failure message posted to the webhook")
    return True
