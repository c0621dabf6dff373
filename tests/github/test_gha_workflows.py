"""The workflow files are valid, pinned and least-privileged, checked offline.

GitHub only reports a broken workflow after a push; these checks find the same mistakes
here: the JSON schema GitHub's editor uses (vendored in check-jsonschema), zizmor's security
audits (offline), SHA pins with version comments, and the project's conventions.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from gha_workflows import (
    WORKFLOWS_DIR,
    Uses,
    load,
    pin_problem,
    steps,
    uses_lines,
    workflow_paths,
)

WORKFLOWS = workflow_paths()
EXPECTED = {"ci.yml", "dbt.yml", "mssql.yml", "kind.yml"}
BAD_WORKFLOW = """\
on: pull_request_target
jobs:
  greet:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: echo "${{ github.event.pull_request.title }}"
"""


def ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


def test_the_four_workflows_exist() -> None:
    assert {p.name for p in WORKFLOWS} >= EXPECTED


def check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
         str(path)], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("path", WORKFLOWS, ids=ids(WORKFLOWS))
def test_valid_against_github_workflow_schema(path: Path) -> None:
    result = check_jsonschema(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_schema_check_rejects_a_misspelled_key(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text((WORKFLOWS_DIR / "ci.yml").read_text().replace("runs-on:", "run-on:", 1))
    result = check_jsonschema(broken)
    assert result.returncode != 0
    assert "run-on" in result.stdout + result.stderr


def zizmor_findings(target: Path) -> list[dict[str, Any]]:
    """zizmor's findings of medium severity or higher, offline (no GitHub API)."""
    zizmor = shutil.which("zizmor") or str(Path(sys.executable).parent / "zizmor")
    result = subprocess.run([zizmor, "--offline", "--format", "json", "--min-severity", "medium",
                             str(target)], capture_output=True, text=True, timeout=120)
    # zizmor exits non-zero when it has findings; a crash prints no JSON.
    assert result.stdout.strip().startswith("["), result.stderr
    return list(json.loads(result.stdout))


def describe(finding: dict[str, Any]) -> str:
    where = ""
    for location in finding.get("locations") or []:
        path = location["symbolic"]["key"].get("Local", {}).get("verbatim_path", "")
        row = location.get("concrete", {}).get("location", {}).get("start_point", {}).get("row")
        where = f" at {path}:{row + 1 if isinstance(row, int) else '?'}"
        break
    severity = finding.get("determinations", {}).get("severity")
    return f"{finding.get('ident')} ({severity}): {finding.get('desc')}{where}"


def test_zizmor_has_no_medium_or_higher_findings() -> None:
    findings = zizmor_findings(WORKFLOWS_DIR)
    assert not findings, "\n".join(describe(f) for f in findings)


def test_zizmor_flags_a_dangerous_workflow(tmp_path: Path) -> None:
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(BAD_WORKFLOW)
    idents = {f["ident"] for f in zizmor_findings(bad)}
    assert {"template-injection", "unpinned-uses"} & idents, idents


@pytest.mark.parametrize("path", WORKFLOWS, ids=ids(WORKFLOWS))
def test_every_action_is_pinned_to_a_sha_with_its_version(path: Path) -> None:
    uses = uses_lines(path)
    problems = [f"{u.workflow}:{u.line}: {pin_problem(u)}" for u in uses if pin_problem(u)]
    assert not problems, "\n".join(problems)
    # Every `uses:` was seen by the line reader (none hides in a form it does not know).
    declared = [s.data["uses"] for s in steps(path) if "uses" in s.data]
    assert sorted(declared) == sorted(u.ref for u in uses)


def test_one_sha_per_action_across_workflows() -> None:
    shas: dict[str, set[tuple[str, str | None]]] = {}
    for path in WORKFLOWS:
        for u in uses_lines(path):
            action, _, sha = u.ref.partition("@")
            shas.setdefault(action, set()).add((sha, u.comment))
    mixed = {action: pins for action, pins in shas.items() if len(pins) > 1}
    assert not mixed, f"actions pinned to different SHAs or versions: {mixed}"


@pytest.mark.parametrize("ref,comment,ok", [
    ("actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8", "v5.0.0", True),
    ("actions/checkout@v5", None, False),
    ("actions/checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8", None, False),
    ("actions/checkout@08c6903cd8c0", "v5.0.0", False),
    ("./.github/actions/local", None, True),
])
def test_pin_rule(ref: str, comment: str | None, ok: bool) -> None:
    assert (pin_problem(Uses("x.yml", 1, ref, comment)) is None) is ok


@pytest.mark.parametrize("path", WORKFLOWS, ids=ids(WORKFLOWS))
def test_least_privilege_and_bounded_jobs(path: Path) -> None:
    data = load(path)
    assert data.get("permissions") == {}, "top-level `permissions: {}`; raise it per job"
    assert data["concurrency"]["cancel-in-progress"] is True
    for job_id, job in data["jobs"].items():
        assert isinstance(job.get("permissions"), dict), f"job `{job_id}` sets no permissions"
        assert job["permissions"].get("contents") == "read", job_id
        writes = {scope for scope, level in job["permissions"].items() if level == "write"}
        # The one exception: release.yml pushes the image the chart's defaults name.
        allowed = {"packages"} if (path.name, job_id) == ("release.yml", "image") else set()
        assert writes <= allowed, f"job `{job_id}` asks for write access to {writes}"
        assert set(job["permissions"].values()) <= {"read", "none", "write"}, job_id
        assert 0 < int(job["timeout-minutes"]) <= 90, f"job `{job_id}` has no sane timeout"


@pytest.mark.parametrize("path", WORKFLOWS, ids=ids(WORKFLOWS))
def test_checkouts_do_not_keep_the_token(path: Path) -> None:
    checkouts = [s for s in steps(path) if str(s.data.get("uses", "")).startswith(
        "actions/checkout@")]
    assert checkouts, "every workflow checks the repository out"
    for step in checkouts:
        assert (step.data.get("with") or {}).get("persist-credentials") is False, step.label


def test_expensive_workflows_are_path_filtered() -> None:
    for name in ("dbt.yml", "mssql.yml", "kind.yml"):
        triggers = load(WORKFLOWS_DIR / name)["on"]
        assert triggers["pull_request"]["paths"], name
        assert f".github/workflows/{name}" in triggers["pull_request"]["paths"], \
            f"{name} must run when it changes itself"
        assert triggers["push"]["branches"] == ["main"], name


def test_readme_describes_every_workflow() -> None:
    readme = (WORKFLOWS_DIR / "README.md").read_text()
    for path in WORKFLOWS:
        assert f"`{path.name}`" in readme, f"{path.name} is missing from the workflows README"
    for topic in ("Triggers", "Proves", "Takes", "When it fails"):
        assert readme.count(topic) >= len(WORKFLOWS), f"each workflow needs a `{topic}` part"
