"""Under CI=true, a skip for a missing repository-internal prerequisite fails the run;
outside prerequisites (cluster, SQL Server, Chromium, ../shared) still skip."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CASES = '''
import pytest

def test_internal():
    pytest.importorskip("deltastore.no_such_module")

def test_outside():
    pytest.skip("schemas not found (outside the repository)")

@pytest.mark.kind
def test_cluster():
    pass
'''


@pytest.mark.parametrize(("ci", "expected"), [("true", "1 failed, 2 skipped"),
                                              ("", "3 skipped")])
def test_ci_turns_internal_skips_into_failures(tmp_path: Path, ci: str, expected: str):
    shutil.copy(Path(__file__).with_name("conftest.py"), tmp_path / "conftest.py")
    (tmp_path / "test_cases.py").write_text(CASES)
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    kind: cluster\n")
    env = {**os.environ, "CI": ci}
    env.pop("DELTASTORE_KUBE_CONTEXT", None)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           str(tmp_path)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert expected in done.stdout, done.stdout
    if ci:
        assert "a prerequisite inside the repository is missing" in done.stdout
        assert "test_internal" in done.stdout
