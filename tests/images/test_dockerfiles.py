"""Dockerfile checks in the spirit of hadolint: pinned bases, non-root numeric user,
lean apt layers, multi-stage builds that keep build tools out of the final image."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from dockerfiles import REPO, all_dockerfiles, parse

DOCKERFILES = all_dockerfiles()
PINNED_PYTHON = re.compile(r"^python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?$")
BUILD_TOOLS = ("build-essential", "gcc", "g++", "unixodbc-dev", "curl", "wget", "git")


def test_every_image_folder_has_a_dockerfile() -> None:
    folders = [p for p in (REPO / "images").iterdir() if p.is_dir()]
    assert folders and all((f / "Dockerfile").is_file() for f in folders)
    assert (REPO / "images" / "pipeline" / "Dockerfile") in DOCKERFILES


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_base_images_are_pinned(path: Path) -> None:
    dockerfile = parse(path)
    for stage in dockerfile.stages:
        base = dockerfile.resolve(stage.base)
        if base in {s.name for s in dockerfile.stages}:
            continue
        assert ":latest" not in base and ":" in base, base
        assert PINNED_PYTHON.match(base), f"`{base}` is not a pinned python:3.11.x-slim-bookworm"


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_multi_stage_keeps_build_tools_out_of_the_final_image(path: Path) -> None:
    dockerfile = parse(path)
    assert len(dockerfile.stages) >= 2
    final = dockerfile.stages[-1]
    assert final.name is None or final.name not in ("builder",)
    copies = " ".join(final.values("COPY"))
    assert "--from=builder /opt/venv /opt/venv" in copies
    installs = " ".join(v for v in final.values("RUN") if "apt-get install" in v)
    assert not [tool for tool in BUILD_TOOLS if re.search(rf"\s{re.escape(tool)}(\s|$)", installs)]
    builder = next(s for s in dockerfile.stages if s.name == "builder")
    assert any("pip install" in run for run in builder.values("RUN"))


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_apt_layers_are_lean(path: Path) -> None:
    runs = [v for stage in parse(path).stages for v in stage.values("RUN")]
    installs = [run for run in runs if "apt-get install" in run]
    assert installs
    for run in installs:
        assert "apt-get update" in run, "update and install belong in one layer"
        assert "--no-install-recommends" in run and " -y " in run
        assert "rm -rf /var/lib/apt/lists/*" in run
        assert "apt-get upgrade" not in run and "dist-upgrade" not in run
    assert not any(re.search(r"(^|\s)(sudo|apt)\s", run) for run in runs)


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_runs_as_a_fixed_non_root_uid(path: Path) -> None:
    final = parse(path).stages[-1]
    users = final.values("USER")
    assert users, "no USER: the image would run as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) == 10001, "a numeric UID lets runAsNonRoot verify it"
    # The chart's pods run as the same UID.
    helpers = (REPO / "charts" / "deltastore" / "templates" / "_helpers.tpl").read_text()
    assert f"runAsUser: {uid}" in helpers


def test_pipeline_image_runtime_contract() -> None:
    dockerfile = parse(REPO / "images" / "pipeline" / "Dockerfile")
    final = dockerfile.stages[-1]
    env = " ".join(final.values("ENV"))
    for setting in ("PYTHONUNBUFFERED=1", "DELTASTORE_DATA_DIR=/data"):
        assert setting in env
    # The dbt project comes with the wheel; the image does not point elsewhere.
    assert "DELTASTORE_DBT_PROJECT_DIR" not in env
    assert not re.search(r"PASSWORD|WEBHOOK", env), "secrets never go into an image"
    entrypoint = json.loads(final.values("ENTRYPOINT")[-1])
    assert entrypoint == ["deltastore"]
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert "deltastore" in scripts
    # The image installs the wheel it builds, and copies no source folder into the final stage.
    builder = dockerfile.stages[0]
    install = next(run for run in builder.values("RUN") if "pip wheel" in run)
    assert "pip install --no-deps /wheels/deltastore-" in install and "pip check" in install
    assert all(v.startswith("--from=") for v in final.values("COPY"))
    parse_run = next(run for run in final.values("RUN") if "dbt parse" in run)
    assert "bundled_dbt_project" in parse_run and "test -s /app/dbt-target/manifest.json" \
        in parse_run
    odbc = next(run for run in final.values("RUN") if "msodbcsql18" in run)
    assert "ACCEPT_EULA=Y" in odbc and "unixodbc" in odbc
    assert not final.values("ADD"), "COPY, not ADD: no remote or auto-extracted sources"


def test_copied_sources_exist_and_pass_the_dockerignore() -> None:
    ignore = [line.strip() for line in (REPO / ".dockerignore").read_text().splitlines()
              if line.strip() and not line.startswith("#")]
    assert ignore[0] == "*", "allow-list: everything is excluded unless named"
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    for path in DOCKERFILES:
        for stage in parse(path).stages:
            for value in stage.values("COPY"):
                if value.startswith("--from="):
                    continue
                *sources, _ = value.split()
                for source in sources:
                    assert (REPO / source).exists(), f"COPY {source}: not in the repo"
                    top = source.rstrip("/").split("/")[0]
                    assert top in allowed or source in allowed, \
                        f"COPY {source}: excluded by .dockerignore"
    assert not allowed & {".venv", ".git", "tests", "deltastore-data", "charts"}
    for excluded in ("**/__pycache__/", "dbt/target/", "dbt/logs/"):
        assert excluded in ignore


def test_dependencies_install_only_from_the_hash_locked_file() -> None:
    """External-tools M2: pip resolves nothing at build time; every package comes from the
    lock (tests/images/test_requirements_lock.py) with its hashes checked."""
    builder = parse(REPO / "images" / "pipeline" / "Dockerfile").stages[0]
    installs = [run for run in builder.values("RUN") if "pip install" in run]
    locked = next(run for run in installs if "--require-hashes" in run)
    assert "-r /tmp/requirements.txt" in locked and "--only-binary=:all:" in locked
    assert "COPY images/pipeline/requirements.txt /tmp/requirements.txt" in [
        f"COPY {v}" for v in builder.values("COPY")]
    others = [run for run in installs if run is not locked]
    assert all("--no-deps" in run for run in others), others


def test_the_microsoft_repository_package_is_checked_before_dpkg_runs_it() -> None:
    dockerfile = (REPO / "images" / "pipeline" / "Dockerfile").read_text()
    stages = parse(REPO / "images" / "pipeline" / "Dockerfile").stages
    msrepo = next(s for s in stages if s.name == "msrepo")
    fetch = next(run for run in msrepo.values("RUN") if "packages-microsoft-prod" in run)
    assert 'sha256sum --check --strict' in fetch and "${MS_PROD_DEB_SHA256}" in fetch
    url = re.search(r"ARG MS_PROD_DEB_URL=(\S+)", dockerfile)
    digest = re.search(r"ARG MS_PROD_DEB_SHA256=([0-9a-f]{64})$", dockerfile, re.M)
    assert url and digest
    # A versioned file of the pool: the pinned sum stays right until we choose to move.
    assert re.search(r"/pool/main/p/packages-microsoft-prod/packages-microsoft-prod_[\w.-]+"
                     r"_all\.deb$", url.group(1))
