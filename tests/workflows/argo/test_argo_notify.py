"""The exit handler's notification, posted to a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import pytest
from argo_forms import FAILURES_NONE, UPSTREAM_TEST_FAILURES_PREFIX, failures_global
from argo_http import serve

from deltastore.errors import ConfigError, TransientError
from deltastore.workflows.argo.notify import notify, parse_failures
from deltastore.workflows.cli import main

# What Argo puts in {{workflow.failures}}: the retry parent and its attempts fail together.
FAILURES = ('[{"displayName":"sync","message":"No more retries left","templateName":"sync",'
            '"phase":"Failed","podName":"wf-sync-1","finishedAt":"2026-01-31T02:40:00Z"},'
            '{"displayName":"sync(2)","message":"Error (exit code 1)","templateName":"sync",'
            '"phase":"Failed","podName":"wf-sync-3","finishedAt":"2026-01-31T02:40:00Z"},'
            '{"displayName":"dbt-build(0:2026-01-02)","message":"Error (exit code 3)",'
            '"templateName":"dbt-build","phase":"Failed"}]')


def test_failures_are_named_once_per_step():
    failures = parse_failures(FAILURES)
    assert [(f.step, f.message) for f in failures] == [
        ("sync", "Error (exit code 1)"), ("dbt-build(0:2026-01-02)", "Error (exit code 3)")]


@pytest.mark.parametrize("text", [FAILURES_NONE, "", "null", "[]", '"[]"',
                                  "{{workflow.failures}}"])
def test_no_failures(text):
    assert parse_failures(text) == []


def test_our_encoder_gives_the_form_argos_own_test_asserts():
    """operator_test.go TestStepsOnExitFailures: the global is the Go-quoted JSON list."""
    text = failures_global([{"displayName": "exit-handlers", "message": "Pod failed",
                             "templateName": "intentional-fail", "phase": "Failed",
                             "podName": "exit-handlers", "finishedAt": "2026-01-31T02:40:00Z"}])
    assert text.startswith('"' + UPSTREAM_TEST_FAILURES_PREFIX)
    assert [(f.step, f.message) for f in parse_failures(text)] == [("exit-handlers",
                                                                     "Pod failed")]


def test_argos_quoted_form_with_retries_and_the_dag_node():
    """As Argo sends it for a DAG whose retried step failed: the DAG node (no message), the
    retry node and its attempts, in Go's random map order, quoted, `<>&` escaped."""
    text = failures_global([
        {"displayName": "sync(1)", "message": "main: Error (exit code 1): can't <connect> & more",
         "templateName": "sync", "phase": "Failed", "podName": "wf-sync-2",
         "finishedAt": "2026-01-31T02:44:00Z"},
        {"displayName": "wf", "message": "", "templateName": "pipeline", "phase": "Failed",
         "podName": "wf", "finishedAt": "2026-01-31T02:44:01Z"},
        {"displayName": "sync", "message": "No more retries left", "templateName": "sync",
         "phase": "Failed", "podName": "wf-sync-0", "finishedAt": "2026-01-31T02:44:00Z"},
        {"displayName": "sync(0)", "message": "Error (exit code 1)", "templateName": "sync",
         "phase": "Failed", "podName": "wf-sync-1", "finishedAt": "2026-01-31T02:40:00Z"},
    ])
    assert text.startswith(r'"[{\"displayName') and r"\\u003cconnect\\u003e" in text
    assert [(f.step, f.message) for f in parse_failures(text)] == [
        ("sync", "main: Error (exit code 1): can't <connect> & more")]


def test_bad_failures_json_is_a_config_error():
    with pytest.raises(ConfigError, match="workflow.failures"):
        parse_failures("[{oops")
    with pytest.raises(ConfigError, match="JSON list"):
        parse_failures('"{}"')


@pytest.mark.parametrize("status", ["Succeeded", "Failed", "Error"])
@pytest.mark.parametrize("failures", [FAILURES_NONE, "null", "[]", "[{oops", '"\\q"', "7"])
def test_notify_command_exits_0_for_every_form(monkeypatch, capsys, status, failures):
    """The exit handler never fails a run over its input (operator.go ~498)."""
    monkeypatch.delenv("DELTASTORE_NOTIFY_WEBHOOK_URL", raising=False)
    assert main(["notify", "--workflow", "wf-1", "--status", status,
                 f"--failures={failures}"]) == 0
    assert f"`wf-1` ended: {status}" in capsys.readouterr().out


def test_failed_workflow_posts_a_slack_message_naming_the_steps():
    with serve(lambda method, path, body: (200, {"ok": True})) as hook:
        lines: list[str] = []
        posted = notify("deltastore-pipeline-x7k2p", "Failed", FAILURES,
                        f"{hook.url}/services/T000/B000/XXXX", echo=lines.append)
    assert posted
    ((method, path, body),) = hook.requests
    assert (method, path) == ("POST", "/services/T000/B000/XXXX")
    assert set(body) == {"text"}
    assert "`deltastore-pipeline-x7k2p` ended: Failed" in body["text"]
    assert "Failed step(s): `sync`, `dbt-build(0:2026-01-02)`" in body["text"]
    assert lines == [body["text"]]


def test_success_or_no_webhook_posts_nothing():
    with serve(lambda method, path, body: (200, {})) as hook:
        assert not notify("wf", "Succeeded", "[]", hook.url, echo=lambda _: None)
        assert not notify("wf", "Failed", FAILURES, None, echo=lambda _: None)
    assert hook.requests == []


def test_webhook_errors_are_classified_and_never_show_the_url():
    with serve(lambda method, path, body: (503, {})) as hook, \
            pytest.raises(TransientError) as transient:
        notify("wf", "Error", FAILURES, f"{hook.url}/secret-token", echo=lambda _: None)
    with serve(lambda method, path, body: (404, {})) as hook, \
            pytest.raises(ConfigError) as refused:
        notify("wf", "Error", FAILURES, f"{hook.url}/secret-token", echo=lambda _: None)
    unreachable = "http://127.0.0.1:9/secret-token"   # discard port: nothing listens
    with pytest.raises(TransientError) as network:
        notify("wf", "Error", FAILURES, unreachable, echo=lambda _: None)
    for error in (transient, refused, network):
        assert "secret-token" not in str(error.value)
        assert "127.0.0.1" not in str(error.value)


def test_notify_command_reads_the_webhook_from_the_environment(monkeypatch, capsys):
    with serve(lambda method, path, body: (200, {})) as hook:
        monkeypatch.setenv("DELTASTORE_NOTIFY_WEBHOOK_URL", f"{hook.url}/hook")
        code = main(["notify", "--workflow", "wf-1", "--status", "Failed",
                     f"--failures={FAILURES}"])
    assert code == 0
    assert len(hook.requests) == 1
    assert "Failed step(s): `sync`" in capsys.readouterr().out
