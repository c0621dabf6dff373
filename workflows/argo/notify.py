"""The exit handler's job: record how a workflow ended and tell a chat channel on failure.

``deltastore notify`` runs as the workflow's ``onExit`` step with ``{{workflow.status}}``
and ``{{workflow.failures}}`` (a JSON list of failed nodes). It always prints the outcome to
the log; when ``DELTASTORE_NOTIFY_WEBHOOK_URL`` is set (from the Secret) and the workflow did
not succeed, it posts a Slack-compatible ``{"text": …}`` message naming the failed steps.
The webhook URL is a secret: it is never printed, not even in errors.
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


@dataclass(frozen=True)
class Failure:
    step: str
    phase: str
    message: str


def parse_failures(text: str | None) -> list[Failure]:
    """Argo's ``workflow.failures`` JSON; empty, ``null`` or unsubstituted means none."""
    if not text or text.strip() in ("null", "[]") or text.startswith("{{"):
        return []
    try:
        items = json.loads(text)
    except json.JSONDecodeError:
        raise ConfigError(f"--failures is not the JSON of `{{{{workflow.failures}}}}`: "
                          f"`{text[:80]}`") from None
    if not isinstance(items, list):
        raise ConfigError("--failures must be a JSON list (Argo's `{{workflow.failures}}`)")
    failures: dict[str, Failure] = {}
    for item in items:
        if not isinstance(item, dict):
            continue
        step = _RETRY_SUFFIX.sub("", str(item.get("displayName") or item.get("templateName")
                                         or "unknown step"))
        # The last attempt's message wins: it is the one that ended the step.
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

    Returns True when a message was posted.
    """
    failures = parse_failures(failures_json)
    text = outcome_text(workflow, status, failures)
    echo(text)
    if status == "Succeeded" or not webhook_url:
        return False
    post_webhook(webhook_url, {"text": text})
    log.info("failure message posted to the webhook")
    return True
