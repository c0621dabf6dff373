"""The backfill template: extract once, one dbt build per day in order, sync once."""

from __future__ import annotations

import json

import pytest

from deltastore.errors import ConfigError
from deltastore.workflows.argo.backfill import LOOP, backfill_days
from deltastore.workflows.cli import main

BACKFILL_FILE = "workflowtemplate-deltastore-backfill.yaml"


def test_days_in_order_including_both_ends():
    assert backfill_days("2026-02-27", "2026-03-02") == [
        "2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"]
    assert backfill_days("2026-01-05", "2026-01-05") == ["2026-01-05"]


@pytest.mark.parametrize(("start", "end", "complaint"), [
    ("2026-01-05", "2026-01-01", "ends before it starts"),
    ("", "2026-01-01", "YYYY-MM-DD"),
    ("2026-1-5", "2026-01-09", "YYYY-MM-DD"),
    ("2024-01-01", "2026-01-01", "at most 366 days"),
])
def test_bad_ranges_say_what_to_fix(start, end, complaint):
    with pytest.raises(ConfigError, match=complaint):
        backfill_days(start, end)


def test_cli_prints_the_days_as_json(capsys):
    assert main(["workflows", "backfill-days", "--start", "2026-01-30", "--end",
                 "2026-02-01"]) == 0
    assert json.loads(capsys.readouterr().out) == ["2026-01-30", "2026-01-31", "2026-02-01"]
    assert main(["workflows", "backfill-days", "--start", "x", "--end", "y"]) == 2


def test_backfill_dag(default_objects):
    spec = default_objects[BACKFILL_FILE]["spec"]
    by_name = {t["name"]: t for t in spec["templates"]}
    outer = {t["name"]: t for t in by_name["backfill"]["dag"]["tasks"]}
    loop = by_name[LOOP]
    assert loop["parallelism"] == 1
    (day_task,) = loop["dag"]["tasks"]
    assert day_task["withParam"] == "{{inputs.parameters.days}}"
    run_date = {p["name"]: p["value"] for p in day_task["arguments"]["parameters"]}
    assert run_date["run-date"] == "{{item}}"
    assert outer[LOOP]["depends"] == "backfill-days.Succeeded && source-freshness.Succeeded"
    assert outer[LOOP]["arguments"]["parameters"] == [
        {"name": "days", "value": "{{tasks.backfill-days.outputs.result}}"}]
    assert outer["sync"]["depends"] == f"{LOOP}.Succeeded"
    assert outer["slo-report"]["depends"] == "(sync.Succeeded || sync.Skipped)"
    params = [p["name"] for p in spec["arguments"]["parameters"]]
    assert params == ["backfill-start", "backfill-end", "full-refresh", "dbt-select",
                      "verify-whole-tables", "skip-sync", "skip-doctor"]


def test_a_year_of_days_fits_the_backfill_deadline(default_objects):
    """Argo cuts each pod's deadline to the workflow's remaining time and stops retrying
    past it (workflowpod.go, operator.go): the backfill's own deadline leaves the extracts
    and the sync theirs, and every one of MAX_DAYS days DAY_SECONDS, far above the ~1 min a
    day's build takes at scale 100 (docs/operations.md)."""
    from deltastore.workflows.argo import backfill, template
    from deltastore.workflows.pipeline import step

    spec = default_objects["workflowtemplate-deltastore-backfill.yaml"]["spec"]
    before = sum(step(s).deadline_seconds for s in ("doctor", "extract-legacy-db",
                                                     "source-freshness"))
    after = step("sync").deadline_seconds + step("slo-report").deadline_seconds
    assert spec["activeDeadlineSeconds"] >= before + backfill.MAX_DAYS * backfill.DAY_SECONDS \
        + after
    assert backfill.DAY_SECONDS >= 120
    pipeline = default_objects["workflowtemplate-deltastore-pipeline.yaml"]["spec"]
    assert pipeline["activeDeadlineSeconds"] == template.WORKFLOW_DEADLINE_SECONDS
