"""Under CI=true, a skip for a missing repository-internal prerequisite fails the run;
outside prerequisites (cluster, SQL Server, ../shared) still skip. A Debian package's shared
library that is missing (pyodbc installed, libodbc.so.2 not) skips with the apt-get line,
never errors at collection, and fails under CI=true."""

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


TESTS = Path(__file__).parent
# What the loader raises for `import pyodbc` on a machine without Debian's unixodbc: the
# module is installed, its shared library is not (the text is glibc's dlopen error).
NO_LIBODBC = "libodbc.so.2: cannot open shared object file: No such file or directory"


def _copy_conftest(folder: Path) -> None:
    for name in ("conftest.py", "prerequisites.py"):
        shutil.copy(TESTS / name, folder / name)


def _pytest(args: list[str], cwd: Path, ci: str, pythonpath: Path | None = None,
            ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": ci}
    env.pop("DELTASTORE_KUBE_CONTEXT", None)
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath),
                                                          env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
                          check=False)


@pytest.fixture
def without_libodbc(tmp_path: Path) -> Path:
    """A folder that, first on PYTHONPATH, makes `import pyodbc` fail as it does without
    unixODBC: an importable module whose import raises the loader's ImportError."""
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "pyodbc.py").write_text(f"raise ImportError({NO_LIBODBC!r})\n")
    return shim


@pytest.mark.parametrize(("ci", "expected"), [("true", "1 failed, 2 skipped"),
                                              ("", "3 skipped")])
def test_ci_turns_internal_skips_into_failures(tmp_path: Path, ci: str, expected: str):
    _copy_conftest(tmp_path)
    (tmp_path / "test_cases.py").write_text(CASES)
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    kind: cluster\n")
    done = _pytest(["-q", str(tmp_path)], tmp_path, ci)
    assert expected in done.stdout, done.stdout
    if ci:
        assert "a prerequisite inside the repository is missing" in done.stdout
        assert "test_internal" in done.stdout


@pytest.mark.parametrize(("ci", "expected"), [("", "1 skipped"), ("true", "1 error")])
def test_a_module_importing_pyodbc_without_libodbc_skips_at_collection(
        tmp_path: Path, without_libodbc: Path, ci: str, expected: str) -> None:
    _copy_conftest(tmp_path)
    (tmp_path / "test_top_level_import.py").write_text(
        "import pyodbc\n\ndef test_uses_it():\n    assert pyodbc\n")
    done = _pytest(["-q", "-rs", str(tmp_path)], tmp_path, ci, without_libodbc)
    assert expected in done.stdout, done.stdout
    assert "apt-get install unixodbc" in done.stdout, done.stdout
    if ci:  # a collection error: loud, and the run stops
        assert "CI=true: cannot load libodbc.so.2" in done.stdout, done.stdout
    else:
        assert "error" not in done.stdout, done.stdout


def test_the_whole_suite_collects_without_libodbc(without_libodbc: Path) -> None:
    done = _pytest(["-q", "--collect-only", str(TESTS)], TESTS.parent, "", without_libodbc)
    assert done.returncode == 0, done.stdout[-3000:]
    assert "error" not in done.stdout.splitlines()[-1], done.stdout[-3000:]


@pytest.mark.parametrize(("ci", "outcome"), [("", "skipped"), ("true", "error")])
def test_odbc_tests_skip_with_the_apt_line_without_libodbc(
        without_libodbc: Path, ci: str, outcome: str) -> None:
    modules = [TESTS / "core" / "test_mssql_errors.py",
               TESTS / "extract" / "sources" / "test_change_tracking.py"]
    done = _pytest(["-q", "-rs", *map(str, modules)], TESTS.parent, ci, without_libodbc)
    summary = done.stdout.splitlines()[-1]
    assert outcome in summary, done.stdout[-3000:]
    assert "apt-get install unixodbc" in done.stdout, done.stdout[-3000:]
    # Tests of change_tracking that do not need pyodbc still run and pass.
    assert "passed" in summary, done.stdout[-3000:]
    assert ("error" in summary) == bool(ci), done.stdout[-3000:]
