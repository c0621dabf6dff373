"""images/pipeline/requirements.txt, the image's hash-locked dependencies, stays in step with
pyproject.toml: generated from it by pip-compile, every runtime dependency pinned at a
version its range allows, every pin hashed. After changing the dependencies, regenerate it
with the command in its header (pip-tools, from PyPI)."""

from __future__ import annotations

import re
import tomllib

from dockerfiles import REPO
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

LOCK = REPO / "images" / "pipeline" / "requirements.txt"
COMMAND = ("pip-compile --allow-unsafe --generate-hashes --no-emit-find-links "
           "--no-emit-index-url --output-file=images/pipeline/requirements.txt --strip-extras "
           "pyproject.toml")


def pins() -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) of every requirement in the lock."""
    text = LOCK.read_text().replace("\\\n", " ")
    found = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==(\S+)((?:\s+--hash=sha256:[0-9a-f]{64})+)",
                             line)
        assert match, f"not a hashed pin: `{line[:80]}`"
        name, version, hashes = match.groups()
        found[canonicalize_name(name)] = (version, re.findall(r"[0-9a-f]{64}", hashes))
    return found


def test_the_lock_was_made_from_pyproject_by_the_command_in_its_header() -> None:
    assert f"#    {COMMAND}\n" in LOCK.read_text()


def test_every_runtime_dependency_is_pinned_within_its_range_with_hashes() -> None:
    locked = pins()
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "dependencies"]
    for text in dependencies:
        requirement = Requirement(text)
        name = canonicalize_name(requirement.name)
        assert name in locked, f"`{requirement.name}` is missing from the lock: regenerate it"
        version, hashes = locked[name]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"the lock pins {name}=={version}, outside `{requirement.specifier}`: regenerate it")
        assert hashes, name


def test_the_lock_names_what_each_pin_is_for() -> None:
    """pip-compile writes `# via <parent>` under each pin: a pin nothing needs any more
    (left from an older pyproject) has none."""
    text = LOCK.read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9._-]+==)", text)[1:]
    assert blocks and len(blocks) == len(pins())
    for block in blocks:
        assert "# via" in block, block.splitlines()[0]
