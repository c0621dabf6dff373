"""`deltastore workflows render`: writes kebab-case files, --check fails on a stale file."""

from __future__ import annotations

from pathlib import Path

import yaml

from deltastore.errors import EXIT_CONFIG
from deltastore.workflows.cli import main


def render(tmp_path: Path, *extra: str) -> int:
    return main(["workflows", "render", "--out", str(tmp_path / "manifests"),
                 "--chart-dir", str(tmp_path / "files"), *extra])


def test_render_then_check(tmp_path, capsys):
    assert render(tmp_path) == 0
    written = sorted(p.name for p in (tmp_path / "manifests").iterdir())
    assert written == ["cronworkflow-deltastore-daily.yaml",
                       "cronworkflow-deltastore-freshness.yaml",
                       "workflowtemplate-deltastore-backfill.yaml",
                       "workflowtemplate-deltastore-pipeline.yaml"]
    assert (tmp_path / "files" / "workflowtemplate.yaml").is_file()
    assert render(tmp_path, "--check") == 0
    assert "up to date" in capsys.readouterr().out

    daily = tmp_path / "manifests" / "cronworkflow-deltastore-daily.yaml"
    daily.write_text(daily.read_text().replace("Forbid", "Allow"))
    assert render(tmp_path, "--check") == EXIT_CONFIG  # regenerate and commit: no retry
    out = capsys.readouterr().out
    assert "+  concurrencyPolicy: Forbid" in out
    assert "run `deltastore workflows render`" in out


def test_render_options_reach_the_manifests(tmp_path):
    assert render(tmp_path, "--no-chart", "--image", "registry.example/ds:2.0",
                  "--timezone", "Asia/Tokyo", "--suspend", "--cpu-limit", "500m") == 0
    folder = tmp_path / "manifests"
    daily = yaml.safe_load((folder / "cronworkflow-deltastore-daily.yaml").read_text())
    assert daily["spec"]["timezone"] == "Asia/Tokyo" and daily["spec"]["suspend"] is True
    pipeline = yaml.safe_load((folder / "workflowtemplate-deltastore-pipeline.yaml").read_text())
    box = pipeline["spec"]["templates"][0]["container"]
    assert box["image"] == "registry.example/ds:2.0"
    assert box["resources"]["limits"]["cpu"] == "500m"
    assert not (tmp_path / "files").exists()


def test_render_refuses_a_dst_schedule_with_exit_code_two(tmp_path, capsys):
    assert render(tmp_path, "--timezone", "America/New_York") == 2
    err = capsys.readouterr().err
    assert err.startswith("error: schedule `0 2 * * *` in timezone `America/New_York`")
    assert render(tmp_path, "--timezone", "America/New_York", "--allow-dst-schedule") == 0
