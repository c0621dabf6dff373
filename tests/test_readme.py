"""The README tells the truth: every `deltastore` command it shows parses with the real CLI,
and its configuration table documents every setting the code reads."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from deltastore.settings import SETTINGS
from deltastore.workflows.cli import build_parser

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def readme_commands() -> list[str]:
    """`deltastore …` invocations from code blocks and inline code, placeholders filled."""
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.S)
    lines = [line.split("#")[0].replace("\\\n", " ") for block in blocks
             for line in block.replace("\\\n", " ").splitlines()]
    inline = re.findall(r"`(deltastore [^`]+)`", README)
    found: list[str] = []
    for text in lines + inline:
        for part in re.split(r"&&|;", text):
            part = part.strip()
            if part.startswith("DELTASTORE_") and " deltastore " in part:
                part = part[part.index("deltastore "):]
            # Synopses (`[--opt]`, `a|b`) describe a command rather than invoke it.
            if part.startswith("deltastore ") and not re.search(r"[\[|<]|--[a-z-]+$", part):
                found.append(part)
    return found


COMMANDS = readme_commands()


def test_the_readme_shows_the_main_commands() -> None:
    assert "deltastore demo" in COMMANDS
    assert len(COMMANDS) > 15


@pytest.mark.parametrize("command", COMMANDS)
def test_every_readme_command_parses(command: str) -> None:
    argv = shlex.split(command)[1:]
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            build_parser().parse_args(argv)
    except SystemExit as exc:
        assert exc.code in (0, None), f"`{command}`: {stderr.getvalue().strip()}"


def test_configuration_table_lists_every_setting() -> None:
    documented = set(re.findall(r"^\| `(DELTASTORE_[A-Z_]+)` \|", README, flags=re.M))
    assert documented == {s.name for s in SETTINGS}
