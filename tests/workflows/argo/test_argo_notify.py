"""The exit handler's notification, posted to a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import pytest
from argo_forms import FAILURES_NONE, UPSTREAM_TEST_FAILURES_PREFIX, failures_global
from argo_http import serve

from deltastore.errors import ConfigError, TransientError
from deltastore.workflows.argo.notify import go_unquote, notify, outcome_text, parse_failures
from deltastore.workflows.cli import main


# What Argo v3.7.18 puts in {{workflow.failures}} when a retried step fails for good
# (operator.go): each failed attempt with the pod's message (inferFailedReason: "main:
# Error (exit code N)", then the step's termination message, workflows/cli.py), the retry
# node marked failed after them (markNodePhase stamps FinishedAt = now) with the
# controller's own text, and the DAG node above, with none (dag.go).
def node(display: str, message: str, template: str, finished: str,
         phase: str = "Failed") -> dict[str, str]:
    return {"displayName": display, "message": message, "templateName": template,
            "phase": phase, "podName": f"wf-{template}", "finishedAt": finished}


DATA_ERROR = "main: Error (exit code 3): error: dbt build: 1 test(s) failed: `assert_x`"
# dbt-build exits 3: the controller waits the 30 s backoff, then the expression refuses.
BUILD_FAILED = [
    node("deltastore-pipeline-abc", "", "pipeline", "2026-01-31T02:31:01Z"),
    node("dbt-build(0)", DATA_ERROR, "dbt-build", "2026-01-31T02:30:00Z"),
    node("dbt-build", "retryStrategy.expression evaluated to false", "dbt-build",
         "2026-01-31T02:30:30Z"),
]
# sync fails 4 times with exit 1; the retry node ends on the next reconcile.
SYNC_FAILED = [
    *(node(f"sync({n})", "main: Error (exit code 1): error: cannot reach the target",
           "sync", f"2026-01-31T02:4{n}:00Z") for n in range(4)),
    node("sync", "No more retries left", "sync", "2026-01-31T02:43:01Z"),
]
FAILURES = failures_global([*BUILD_FAILED[:1], *SYNC_FAILED])


def test_a_retried_step_that_failed_with_exit_3_says_so_not_argos_wrapper_text():
    failures = parse_failures(failures_global(BUILD_FAILED))
    assert [(f.step, f.message, f.exit_code) for f in failures] == [
        ("dbt-build", DATA_ERROR, 3)]
    text = outcome_text("deltastore-pipeline-abc", "Failed", failures)
    assert text.splitlines() == [
        "DeltaStore workflow `deltastore-pipeline-abc` ended: Failed. Failed step(s): "
        "`dbt-build`",
        f"• `dbt-build` (Failed): {DATA_ERROR} (exit 3: a data error (a failed dbt test, "
        "the sync gate or a volume guard): fix the data, then rerun)"]
    assert "retryStrategy" not in text


def test_each_step_is_named_once_with_its_last_attempts_message():
    failures = parse_failures(FAILURES)
    assert [(f.step, f.exit_code) for f in failures] == [("sync", 1)]
    assert failures[0].message == "main: Error (exit code 1): error: cannot reach the target"
    assert "No more retries left" not in outcome_text("wf", "Failed", failures)
    assert "exit 1: a transient error" in outcome_text("wf", "Failed", failures)


def test_fanned_out_items_fold_under_their_step():
    """A fan-out item's nodes are `item(3:orders)` and `item(3:orders)(N)`; they run the
    template `extract-legacy-db`, whose DAG node (`extract-legacy-db`, template
    `extract-legacy-db-each`) fails with no message."""
    nodes = [node("extract-legacy-db", "", "extract-legacy-db-each", "2026-01-31T02:20:05Z")]
    for index, table, finished in ((3, "orders", "02:10"), (1, "customers", "02:12")):
        nodes += [node(f"item({index}:{table})(0)", "main: Error (exit code 2): error: no "
                       f"table `{table}`", "extract-legacy-db", f"2026-01-31T{finished}:00Z"),
                  node(f"item({index}:{table})", "retryStrategy.expression evaluated to false",
                       "extract-legacy-db", f"2026-01-31T{finished}:30Z")]
    failures = parse_failures(failures_global(nodes))
    assert [(f.step, f.item) for f in failures] == [("extract-legacy-db", "orders"),
                                                    ("extract-legacy-db", "customers")]
    lines = outcome_text("wf", "Failed", failures).splitlines()
    assert lines[0].endswith("Failed step(s): `extract-legacy-db`")
    assert lines[1].startswith("• `extract-legacy-db` (Failed) for `orders`: main: Error "
                               "(exit code 2): error: no table `orders` (exit 2: a "
                               "configuration error")
    assert "; `customers`: main: Error (exit code 2): error: no table `customers`" in lines[1]
    assert len(lines) == 2


def test_a_backfill_day_folds_under_dbt_build():
    nodes = [node("build-days", "", "build-days", "2026-01-31T03:00:31Z"),
             node("dbt-build(1:2026-01-02)(0)", DATA_ERROR, "dbt-build", "2026-01-31T03:00:00Z"),
             node("dbt-build(1:2026-01-02)", "retryStrategy.expression evaluated to false",
                  "dbt-build", "2026-01-31T03:00:30Z")]
    (failure,) = parse_failures(failures_global(nodes))
    assert (failure.step, failure.item, failure.exit_code) == ("dbt-build", "2026-01-02", 3)


@pytest.mark.parametrize(("message", "meaning"), [
    ("main: OOMKilled (exit code 137)", "out of memory: raise"),
    ("main: Error (exit code 137)", "killed before it could stop"),
    ("main: Error (exit code 143): terminated (SIGTERM): stopped before the end; a rerun is "
     "safe", "exit 143: stopped by Kubernetes"),
    ("Step exceeded its deadline", "ran past its deadline"),
    ("Pod was active on the node longer than the specified deadline", "ran past its deadline"),
    ("pod deleted", "the pod was deleted"),
    ("main: Error (exit code 4): error: unexpected KeyError (a bug; …)", "exit 4: a bug"),
    ("main: Error (exit code 1): error: the lock deadline passed", "exit 1: a transient"),
])
def test_what_an_exit_code_or_argos_message_means(message, meaning):
    (failure,) = parse_failures(failures_global([node("sync(0)", message, "sync", "")]))
    assert failure.meaning is not None and failure.meaning.startswith(meaning)


def test_argos_wrapper_text_is_shown_when_nothing_else_explains():
    (failure,) = parse_failures(failures_global([
        node("sync", "Backoff for 30 seconds", "sync", "2026-01-31T02:40:00Z")]))
    assert failure.message == "Backoff for 30 seconds"


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
        node("sync(1)", "main: Error (exit code 1): can't <connect> & more", "sync",
             "2026-01-31T02:44:00Z"),
        node("wf", "", "pipeline", "2026-01-31T02:44:02Z"),
        node("sync", "No more retries left", "sync", "2026-01-31T02:44:01Z"),
        node("sync(0)", "main: Error (exit code 1)", "sync", "2026-01-31T02:40:00Z"),
    ])
    assert text.startswith(r'"[{\"displayName') and r"\\u003cconnect\\u003e" in text
    assert [(f.step, f.message) for f in parse_failures(text)] == [
        ("sync", "main: Error (exit code 1): can't <connect> & more")]


@pytest.mark.parametrize("message", [
    "C:\\app\\data", "regex \\v+ \\x41 and \\U0001F600", "tab\there", "bell\a", "é 😀",
    "soft\u00adhyphen", 'quote " and \\"', "\\", "line\u2028separator"])
def test_backslashes_and_escapes_come_back_as_the_message_was(message):
    """Go quotes the global (strconv.Quote) after json.Marshal; the decoder reads escapes
    left to right, so an escaped backslash never starts another escape (MINOR-3)."""
    (failure,) = parse_failures(failures_global([node("sync(0)", message, "sync", "")]))
    assert failure.message == message.strip()


def test_the_decoder_reads_gos_escapes():
    assert go_unquote('"a\\\\b\\x41\\u00e9\\U0001f600\\a\\v\\"c"') == 'a\\bAé😀\a\v"c'
    for bad in ('"\\q"', '"\\x4"', '"unterminated', '"a"b"'):
        with pytest.raises(ValueError):
            go_unquote(bad)


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
    assert "Failed step(s): `sync`" in body["text"]
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
