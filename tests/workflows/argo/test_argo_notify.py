"""The exit handler's notification, posted to a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import pytest
from argo_http import serve
from deltastore.workflows.argo.notify import notify, parse_failures
from deltastore.workflows.cli import main

from deltastore.errors import ConfigError, TransientError

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


@pytest.mark.parametrize("text", ["", "null", "[]", "{{workflow.failures}}"])
def test_no_failures(text):
    assert parse_failures(text) == []


def test_bad_failures_json_is_a_config_error():
    with pytest.raises(ConfigError, match="workflow.failures"):
        parse_failures("[{oops")


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
