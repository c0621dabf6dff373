"""The exit handler's job: record how a workflow ended and tell a chat channel on failure.

``deltastore notify`` runs as the workflow's ``onExit`` step with ``{{workflow.status}}``
and ``{{workflow.failures}}``. It always prints the outcome to the log; when
``DELTASTORE_NOTIFY_WEBHOOK_URL`` is set (from the Secret) and the workflow did not succeed,
it posts a Slack-compatible ``{"text": …}`` message naming the failed steps.
The webhook URL is a secret: it is never printed, not even in errors.

The exit handler must never turn a good run into a failed one: Argo marks a Succeeded
workflow Failed when its exit node fails (argo-workflows v3.7.12
``workflow/controller/operator.go`` ~498, ``case wfv1.WorkflowSucceeded: if onExitNode !=
nil && onExitNode.FailedOrError()``). So input that cannot be parsed is logged and the
outcome still printed; only a webhook that cannot be reached fails the step (and only when
the run already failed, because a success posts nothing).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

import requests

from deltastore.errors import ConfigError, TransientError

log = logging.getLogger(__name__)
POST_TIMEOUT_SECONDS = 10
_RETRY_SUFFIX = re.compile(r"\(\d+\)$")   # "dbt-build(1)": the second attempt of dbt-build
# Go escapes strconv.Quote writes that JSON lacks (Go's strconv/quote.go appendEscapedRune).
_GO_ONLY_ESCAPES = re.compile(r"\\(x[0-9a-fA-F]{2}|U[0-9a-fA-F]{8}|a|v)")


@dataclass(frozen=True)
class Failure:
    step: str
    phase: str
    message: str


def _go_unquote(text: str) -> str:
    """Undo Go's ``strconv.Quote``: JSON string syntax plus ``\\x``, ``\\U``, ``\\a``, ``\\v``."""
    def to_json(match: re.Match[str]) -> str:
        code = match.group(1)
        value = {"a": 7, "v": 11}.get(code) or int(code[1:], 16)
        return json.dumps(chr(value))[1:-1]
    decoded = json.loads(_GO_ONLY_ESCAPES.sub(to_json, text))
    if not isinstance(decoded, str):
        raise ValueError("not a quoted string")
    return decoded


def decode_failures(text: str | None) -> object:
    """The value of ``{{workflow.failures}}`` as Argo delivers it, decoded to JSON data.

    Argo v3.7.12 stores ``strconv.Quote(json.Marshal(failures))`` (``operator.go`` ~419-427),
    and parameter substitution only JSON-escapes it into the pod spec and back
    (``util/template/simple_template.go`` ~55, ``workflow/common/util.go`` SubstituteParams),
    so the container receives the Go-quoted JSON: ``"null"`` (with the quote characters)
    when nothing failed, ``"[{\\"displayName\\":…}]"`` otherwise. The unquoted forms
    (``null``, ``[]``, a bare list) are accepted too, as typed by a person.
    """
    text = (text or "").strip()
    if not text or text.startswith("{{"):   # empty, or not substituted (run outside Argo)
        return None
    try:
        if text.startswith('"'):
            text = _go_unquote(text)
        return json.loads(text)
    except (json.JSONDecodeError, ValueError):
        raise ConfigError(f"--failures is not the JSON of `{{{{workflow.failures}}}}`: "
                          f"`{text[:80]}`") from None


def parse_failures(text: str | None) -> list[Failure]:
    """Failed steps, one per step; empty, ``null`` or unsubstituted means none.

    Argo lists every failed node (``operator.go`` ~405-418): the retry node and each failed
    attempt (``sync``, ``sync(0)``, …) and the DAG nodes above them, which fail with no
    message (``dag.go`` ~330). Attempts fold into their step (the latest attempt's message
    wins); message-less group nodes are dropped when a step explains the failure.
    """
    items = decode_failures(text)
    if items is None:
        return []
    if not isinstance(items, list):
        raise ConfigError("--failures must be a JSON list (Argo's `{{workflow.failures}}`)")
    nodes = [i for i in items if isinstance(i, dict)]
    if any(n.get("message") for n in nodes):
        nodes = [n for n in nodes if n.get("message")]
    # Go's map order is random: order by finish time (unset last), attempts after their
    # retry node, so the step that failed first is named first.
    nodes.sort(key=lambda n: (str(n.get("finishedAt") or "~"),
                              bool(_RETRY_SUFFIX.search(str(n.get("displayName", ""))))))
    failures: dict[str, Failure] = {}
    for item in nodes:
        step = _RETRY_SUFFIX.sub("", str(item.get("displayName") or item.get("templateName")
                                         or "unknown step"))
        failures[step] = Failure(step, str(item.get("phase", "Failed")),
                                 str(item.get("message", "")).strip())
    return list(failures.values())


def outcome_text(workflow: str, status: str, failures: list[Failure]) -> str:
    if not failures:
        return f"DeltaStore workflow `{workflow}` ended: {status}."
    lines = [f"DeltaStore workflow `{workflow}` ended: {status}. Failed step(s): "
             + ", ".join(f"`{f.step}`" for f in failures)]
    lines += [f"• `{f.step}` ({f.phase}): {f.message or 'no message'}" for f in failures]
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
