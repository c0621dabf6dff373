"""The wheel, installed (not editable) into a fresh virtual environment, works outside the checkout.

This is what a user gets from `pip install deltastore-*.whl`: one import package, the dbt
project inside it, nothing written into site-packages. The build runs without build isolation
and the install without an index, so the test downloads nothing; the new environment borrows
the dependencies of the one running the tests through a path file (its own path files, such as
the editable install's finder, are not processed from there).
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def run(*argv: str | Path, cwd: Path, env: dict[str, str] | None = None,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)
    if check and done.returncode != 0:
        raise AssertionError(f"{argv} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
        "-w", out, REPO, cwd=out)
    [built] = out.glob("deltastore-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", "--without-pip", root, cwd=root)
    python = root / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps",
        "--no-index", wheel, cwd=root)
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                    cwd=root).stdout.strip())
    (site / "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return root


def outside_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DELTASTORE_", "PYTHON", "VIRTUAL_ENV"))}
    env["DELTASTORE_DATA_DIR"] = str(home / "data")
    return env


def test_wheel_holds_one_import_package_and_the_dbt_project(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"deltastore"}
    for needed in ("deltastore/dbt_project/dbt_project.yml",
                   "deltastore/dbt_project/profiles.yml",
                   "deltastore/dbt_project/models/marts/dim_customers.sql",
                   "deltastore/dbt_project/seeds/us_states.csv",
                   "deltastore/workflows/manifests/workflowtemplate-deltastore-pipeline.yaml",
                   "deltastore/dashboards/assets/dashboard.js",
                   "deltastore/sync/publish.py"):
        assert needed in names, needed
    assert not [n for n in names if "/target/" in n or "/logs/" in n]


def test_every_source_folder_is_a_listed_package(wheel: Path) -> None:
    """pyproject lists the packages by hand: a new folder missing there would not ship."""
    names = set(zipfile.ZipFile(wheel).namelist())
    mapped = {"deltastore": "deltastore", "extract": "deltastore/extract",
              "transform": "deltastore/transform", "workflows": "deltastore/workflows",
              "dashboards": "deltastore/dashboards"}
    for folder, installed in mapped.items():
        for init in (REPO / folder).rglob("__init__.py"):
            relative = init.relative_to(REPO / folder).as_posix()
            assert f"{installed}/{relative}" in names, f"{folder}/{relative} is not packaged"


def test_installed_wheel_runs_the_demo_outside_the_checkout(venv: Path,
                                                            tmp_path: Path) -> None:
    python, deltastore = venv / "bin" / "python", venv / "bin" / "deltastore"
    env = outside_env(tmp_path)
    site = Path(run(python, "-c", "import deltastore, pathlib; "
                    "print(pathlib.Path(deltastore.__file__).parent)", cwd=tmp_path,
                    env=env).stdout.strip())
    assert site.is_relative_to(venv), site
    for generic in ("workflows", "extract", "dashboards", "transform"):
        found = run(python, "-c", f"import {generic}", cwd=tmp_path, env=env, check=False)
        assert found.returncode != 0 and "ModuleNotFoundError" in found.stderr, generic
    before = sorted(p for p in site.rglob("*") if "__pycache__" not in p.parts)

    assert "deltastore demo" in run(deltastore, "--help", cwd=tmp_path, env=env).stdout
    demo = run(deltastore, "demo", "--scale", "0.1", cwd=tmp_path, env=env)
    assert "demo finished" in demo.stdout
    with duckdb.connect(str(tmp_path / "data" / "sync_target.duckdb"), read_only=True) as conn:
        rows = conn.execute("SELECT count(*) FROM analytics.dim_customers").fetchone()
    assert rows is not None and rows[0] > 0
    # dbt's target, logs and partial parse went to the data directory, not the package.
    assert sorted(p for p in site.rglob("*") if "__pycache__" not in p.parts) == before
    assert (tmp_path / "data" / "dbt" / "target").is_dir()


def test_render_outside_a_checkout_needs_an_output_folder(venv: Path, tmp_path: Path) -> None:
    deltastore = venv / "bin" / "deltastore"
    refused = run(deltastore, "workflows", "render", cwd=tmp_path, env=outside_env(tmp_path),
                  check=False)
    assert refused.returncode == 2 and "--out" in refused.stderr
    run(deltastore, "workflows", "render", "--out", tmp_path / "argo", "--no-chart",
        cwd=tmp_path, env=outside_env(tmp_path))
    assert (tmp_path / "argo" / "cronworkflow-deltastore-daily.yaml").is_file()
