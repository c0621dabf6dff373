"""The local pipeline runner: dependency order, --skip/--only, stop at first failure."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest

from deltastore.errors import ConfigError
from deltastore.settings import Settings
from deltastore.workflows import runner
from deltastore.workflows.cli import main
from deltastore.workflows.pipeline import PIPELINE, Step, execution_order
from deltastore.workflows.runner import (
    failed_exit_code,
    run_pipeline,
    summary_table,
    without_opt_in,
)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("DELTASTORE_DATA_DIR", str(tmp_path / "data"))
    return Settings.from_env({"DELTASTORE_DATA_DIR": str(tmp_path / "data")})


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record the argv each step would run instead of running the real commands."""
    seen: list[list[str]] = []

    def record(argv: list[str], settings: Settings | None = None) -> int:
        assert settings is not None, "the runner hands each step its settings"
        seen.append(argv)
        return 0

    monkeypatch.setattr(runner, "run_command", record)
    return seen


def test_steps_run_in_the_pipeline_dependency_order(settings: Settings,
                                                    commands: list[list[str]]) -> None:
    results = run_pipeline(settings, run_date=dt.date(2026, 1, 1), full_refresh=True,
                           echo=lambda _: None)
    # The opt-in doctor runs only when named (`deltastore run --only doctor …`).
    ordered = [s for s in execution_order(PIPELINE) if not s.opt_in]
    assert [r.name for r in results] == [s.name for s in ordered]
    assert commands == [s.argv(run_date="2026-01-01", full_refresh=True) for s in ordered]
    assert ["build", "--changed-only", "--run-date", "2026-01-01", "--full-refresh"] in commands
    assert all(r.status == "ok" and r.exit_code == 0 for r in results)
    assert failed_exit_code(results) == 0


def test_dependencies_beat_definition_order(settings: Settings,
                                            commands: list[list[str]]) -> None:
    steps = (
        Step("publish", ("sync",), ("transform",), "never", "Publish"),
        Step("transform", ("build",), ("load-a", "load-b"), "never", "Transform"),
        Step("load-b", ("extract", "--source", "legacy-db"), (), "never", "Load B"),
        Step("load-a", ("extract", "--source", "store-api"), (), "never", "Load A"),
    )
    results = run_pipeline(settings, steps=steps, echo=lambda _: None)
    assert [r.name for r in results] == ["load-b", "load-a", "transform", "publish"]


def test_skip_and_only(settings: Settings, commands: list[list[str]]) -> None:
    lines: list[str] = []
    results = run_pipeline(settings, skip=["sync", "slo-report"], echo=lines.append)
    status = {r.name: r.status for r in results}
    assert status["sync"] == status["slo-report"] == "skipped"
    assert [c[0] for c in commands] == ["extract", "extract", "freshness", "build"]
    assert "[5/6] sync: skipped" in lines

    commands.clear()
    results = run_pipeline(settings, only=["dbt-build", "sync"], skip=["sync"],
                           echo=lambda _: None)
    assert commands == [["build", "--changed-only"]]
    assert [r.name for r in results if r.status == "ok"] == ["dbt-build"]
    assert sum(r.status == "skipped" for r in results) == len(PIPELINE) - 2  # doctor: opt-in


def test_unknown_step_names_are_a_usage_error(settings: Settings,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError, match="unknown step `dbt`; the steps are `extract-store-api`"):
        run_pipeline(settings, skip=["dbt"], echo=lambda _: None)
    assert main(["run", "--only", "extract", "sync"]) == 2
    err = capsys.readouterr().err
    assert "unknown step `extract`" in err and "`slo-report`" in err


def test_run_stops_at_the_first_failed_step_with_its_exit_code(
        settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    """Real commands: the sync gate refuses (exit 3) because no dbt build ever ran."""
    steps = (
        Step("publish", ("sync",), (), "never", "Publish the marts"),
        Step("report", ("slo",), ("publish",), "never", "Report"),
    )
    lines: list[str] = []
    results = run_pipeline(settings, steps=steps, echo=lines.append)
    assert [(r.name, r.status, r.exit_code) for r in results] == [
        ("publish", "failed", 3), ("report", "not run", None)]
    assert failed_exit_code(results) == 3
    assert "run `deltastore build` first" in capsys.readouterr().err
    summary = lines[-1].splitlines()
    assert summary[0].split() == ["step", "status", "seconds", "rows"]
    assert summary[2].split()[:3] == ["publish", "failed", "(3)"]
    assert summary[3].split() == ["report", "not", "run", "-", "-"]


def test_deltastore_run_returns_the_failed_step_exit_code(
        settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    # Only the sync step: the gate finds no dbt build and refuses with exit code 3.
    assert main(["run", "--only", "sync"]) == 3
    out = capsys.readouterr().out
    assert "[5/6] sync: failed" in out and "extract-store-api  skipped" in out


def test_the_two_extracts_run_at_the_same_time(settings: Settings,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Each extract waits until the other has started: run one after the other, they would
    time out on the barrier instead."""
    both_started = threading.Barrier(2, timeout=10)
    seen: list[list[str]] = []

    def record(argv: list[str], settings: Settings | None = None) -> int:
        if argv[0] == "extract":
            both_started.wait()
        seen.append(argv)
        return 0

    monkeypatch.setattr(runner, "run_command", record)
    results = run_pipeline(settings, echo=lambda _: None)
    assert all(r.status == "ok" for r in results)
    assert [a[0] for a in seen[2:]] == ["freshness", "build", "sync", "slo"]


def test_a_failure_beside_a_running_step_lets_it_finish_and_starts_nothing_more(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    store_failed = threading.Event()

    def record(argv: list[str], settings: Settings | None = None) -> int:
        if argv[:3] == ["extract", "--source", "store-api"]:
            store_failed.set()
            return 1
        assert store_failed.wait(10)  # still finishes after its neighbour failed
        return 0

    monkeypatch.setattr(runner, "run_command", record)
    results = run_pipeline(settings, echo=lambda _: None)
    assert [(r.name, r.status) for r in results] == [
        ("extract-store-api", "failed"), ("extract-legacy-db", "ok"),
        ("source-freshness", "not run"), ("dbt-build", "not run"), ("sync", "not run"),
        ("slo-report", "not run")]
    assert failed_exit_code(results) == 1


def test_summary_table_aligns_rows() -> None:
    table = summary_table([runner.StepResult("extract-store-api", "ok", 1.25, 12345, 0),
                           runner.StepResult("sync", "skipped", 0.0, None, None)])
    lines = table.splitlines()
    assert lines[2].split() == ["extract-store-api", "ok", "1.2", "12,345"]
    assert lines[3].split() == ["sync", "skipped", "-", "-"]
    assert len({len(line) for line in lines}) == 1


def test_the_opt_in_doctor_runs_first_only_when_named(settings: Settings,
                                                     commands: list[list[str]]) -> None:
    results = run_pipeline(settings, only=["doctor", "extract-store-api"], echo=lambda _: None)
    assert commands == [["doctor"], ["extract", "--source", "store-api"]]
    assert [r.name for r in results][:2] == ["doctor", "extract-store-api"]
    assert without_opt_in(PIPELINE, ())[0].name == "extract-store-api"
    assert without_opt_in(PIPELINE, ())[0].depends == ()


def test_verify_whole_tables_reaches_the_build_only(settings: Settings,
                                                    commands: list[list[str]]) -> None:
    run_pipeline(settings, verify_whole_tables=True, echo=lambda _: None)
    flagged = [argv for argv in commands if "--verify-whole-tables" in argv]
    assert flagged == [["build", "--changed-only", "--verify-whole-tables"]]
