"""`deltastore build --retry-failed`: after a failed build, only the nodes that did not pass
and what depends on them, read from the build recorded in the warehouse; everything, with
the reason, when that record is not of this project, run date or run. Real dbt builds of
the mini project (tests/transform/dbt_mini_project) into a real DuckDB file; the Argo side
is tests/chart/test_argo_execution.py."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from recorded_builds import names, recorded

from deltastore.settings import Settings
from deltastore.sync.gate import check_build_gate
from deltastore.transform.build_log import BuildNode, BuildRecord
from deltastore.transform.retry import RetryPlan, plan_retry
from deltastore.transform.runner import project_fingerprint
from deltastore.workflows import cli

MINI_PROJECT = Path(__file__).parent / "dbt_mini_project"
BROKEN = "model.mini.int_customers_enriched"
# What depends on it in the mini project (its manifest's child_map, followed down).
BELOW_BROKEN = {BROKEN, "model.mini.dim_customers", "test.mini.assert_enough_customers",
                "test.mini.not_null_dim_customers_customer_id",
                "test.mini.unique_dim_customers_customer_id",
                "test.mini.relationships_fct_orders_customer_id__customer_id__ref_dim_customers_"}


def fail_once(capsys: pytest.CaptureFixture[str]) -> BuildRecord:
    """A full build in which one model errors (exit 1), its dependants skipped."""
    assert cli.main(["build", "--vars", '{"break_model": true}']) == 1
    capsys.readouterr()
    return recorded()


def test_a_retry_builds_the_failed_model_and_what_depends_on_it_then_the_gate_opens(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    failed = fail_once(capsys)
    not_passed = names(tuple(n for n in failed.nodes if n.status in ("error", "skipped")))
    assert BROKEN in not_passed and len(failed.nodes) > len(not_passed)
    assert cli.main(["build", "--retry-failed"]) == 0
    out = capsys.readouterr().out
    assert (f"retry: retrying the {len(not_passed)} of {len(failed.nodes)} nodes of the build "
            f"of {failed.built_at} that did not pass") in out
    retried = recorded()
    assert names(retried.nodes) == BELOW_BROKEN == not_passed
    assert retried.success and retried.invocation_id != failed.invocation_id
    lines: list[str] = []
    check_build_gate(Settings.from_env(), echo=lines.append)   # both builds, latest of each
    assert lines[0].startswith("sync gate: the latest results of all")
    # Once every node passed, another retry has nothing to do.
    assert cli.main(["build", "--retry-failed"]) == 0
    assert "retry: every node of the build of" in capsys.readouterr().out
    assert recorded().invocation_id == retried.invocation_id   # nothing new recorded


def test_argo_attempt_1_retries_and_attempt_0_builds_everything(
        project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    failed = fail_once(capsys)
    assert cli.main(["build", "--attempt", "0"]) == 0
    assert "retry:" not in capsys.readouterr().out
    assert len(recorded().nodes) == len(failed.nodes)
    fail_once(capsys)
    since = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).isoformat()
    assert cli.main(["build", "--attempt", "1", "--retry-since", since]) == 0
    assert "retry: retrying the" in capsys.readouterr().out


@pytest.mark.parametrize(("change", "reason"), [
    ("project", "was of other dbt project files: building everything"),
    ("run-date", "was for run date `2024-06-30`, this one is for `2024-07-01`"),
    ("since", "the attempt before ended before it could record one; building everything"),
])
def test_a_record_of_another_project_run_date_or_run_means_everything(
        project: Path, capsys: pytest.CaptureFixture[str], change: str, reason: str) -> None:
    failed = fail_once(capsys)
    argv = ["build", "--retry-failed"]
    if change == "project":   # a change somewhere else must be built too
        model = project / "models" / "staging" / "stg_shop__customers.sql"
        model.write_text(model.read_text() + "-- changed after the failed build\n")
    elif change == "run-date":
        argv += ["--run-date", "2024-07-01"]
    else:   # Argo: a later attempt of a run that started after this build was recorded
        later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
        argv += ["--attempt", "2", "--retry-since", later.strftime("%Y-%m-%dT%H:%M:%SZ")]
    assert cli.main(argv) == 0
    assert reason in capsys.readouterr().out
    assert len(recorded().nodes) == len(failed.nodes)   # everything was built again


def test_a_retry_stays_within_the_selection(project: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["build"]) == 0   # the view the failed build could not replace stays
    fail_once(capsys)
    assert cli.main(["build", "--retry-failed", "--select", "fct_orders"]) == 0
    assert "no node to retry lies within --select" in capsys.readouterr().out
    assert cli.main(["build", "--retry-failed", "--select", "dim_customers+"]) == 0
    assert names(recorded().nodes) == BELOW_BROKEN - {BROKEN}


def test_nothing_recorded_means_everything(project: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["build", "--retry-failed"]) == 0
    assert "retry: no dbt build is recorded in the warehouse: building everything" in \
        capsys.readouterr().out


def test_the_plan_reads_only_what_it_needs() -> None:
    """The project is parsed (fqns) only when there is something to retry."""
    def never() -> dict[str, list[str]]:
        raise AssertionError("parsed for nothing")

    at = dt.datetime(2026, 1, 31, 2, 30)
    passed = BuildRecord("b1", "build", at, "2026-01-31", True, (), (
        BuildNode("model.p.a", "model", "success", 1.0),), recorded_at=at, project_hash="h")
    plan = plan_retry(passed, project_hash="h", run_date="2026-01-31", since=None, fqns=never)
    assert plan == RetryPlan((), "every node of the build of 2026-01-31T02:30:00 passed: "
                                 "nothing to retry")
    assert plan.selection("tag:x") == " ".join(())
    failed = BuildRecord("b2", "build", at, "2026-01-31", False, ("model.p.a (error)",), (
        BuildNode("model.p.a", "model", "error", 1.0),
        BuildNode("test.p.t", "test", "skipped", 0.0)), recorded_at=at, project_hash="h")
    plan = plan_retry(failed, project_hash="h", run_date="2026-01-31", since=at,
                      fqns=lambda: {"model.p.a": ["p", "a"], "test.p.t": ["p", "t"]})
    assert plan.selectors == ("fqn:p.a+", "fqn:p.t+")
    assert plan.selection("") == "fqn:p.a+ fqn:p.t+"
    assert plan.selection("tag:x path:y") == ("fqn:p.a+,tag:x fqn:p.a+,path:y "
                                              "fqn:p.t+,tag:x fqn:p.t+,path:y")


def test_the_fingerprint_follows_the_project_files(tmp_path: Path) -> None:
    shutil.copytree(MINI_PROJECT, tmp_path / "p")
    before = project_fingerprint(tmp_path / "p")
    (tmp_path / "p" / "target").mkdir()
    (tmp_path / "p" / "target" / "run_results.json").write_text("{}")   # dbt's output
    # dbt run by hand there writes its user id beside profiles.yml (dbt/tracking.py); a changed
    # fingerprint would make the next --changed-only build build everything.
    (tmp_path / "p" / ".user.yml").write_text("id: 0a1b2c3d\n")
    assert project_fingerprint(tmp_path / "p") == before
    (tmp_path / "p" / "models" / "new.sql").write_text("select 1 as x\n")
    assert project_fingerprint(tmp_path / "p") != before
