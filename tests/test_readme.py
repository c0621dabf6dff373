"""The README is a short front page that tells the truth: the commands a newcomer types
first, the test command `.ci/run` runs, the main commands, and a configuration table (in
docs/configuration.md) that documents every setting the code reads. Links, anchors and every
command shown on any page are checked in test_docs.py."""

from __future__ import annotations

import re

from markdown_pages import ROOT, commands, split_fences

from deltastore import errors
from deltastore.settings import settings_table

README = (ROOT / "README.md").read_text("utf-8")
CONFIGURATION = (ROOT / "docs" / "configuration.md").read_text("utf-8")


def test_the_readme_is_a_short_front_page() -> None:
    assert len(README.splitlines()) <= 260


def test_the_readme_shows_the_two_commands_and_the_test_command() -> None:
    _, blocks = split_fences(README)
    shell = [block.text for block in blocks if block.language == "sh"]
    assert "pip install -e .\n" in shell
    assert "deltastore demo\n" in shell
    # .ci/run runs exactly this; a newcomer copies it from here.
    assert "pip install -e '.[dev]'\npython -m pytest\n" in shell


def test_the_readme_shows_the_main_commands() -> None:
    shown = {" ".join(c.text.split()[:2]) for c in commands(README)}
    for name in ("demo", "run", "extract", "build", "sync", "dashboards", "export",
                 "workflows"):
        assert f"deltastore {name}" in shown


def test_the_exit_codes_are_the_same_everywhere() -> None:
    """The contract: 0 ok, 1 transient, 2 configuration, 3 data, 4 bug, 130 interrupted,
    141 the output's reader left, 143 terminated (SIGTERM), as deltastore/errors.py
    declares them."""
    listed_in_readme = re.findall(r"\*\*(\d+)\*\* ", README.split("## Commands", 1)[1])
    operations = (ROOT / "docs" / "operations.md").read_text("utf-8")
    table = operations.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    in_operations = re.findall(r"^\| (\d+) \|", table, flags=re.M)
    declared = [str(code) for code in sorted(
        value for name, value in vars(errors).items() if name.startswith("EXIT_"))]
    assert declared == ["0", "1", "2", "3", "4", "130", "141", "143"]
    assert listed_in_readme == in_operations == declared


def test_configuration_table_is_the_settings_declaration() -> None:
    """Names, defaults, help and secret flags as declared once in deltastore/settings.py."""
    table = CONFIGURATION[CONFIGURATION.index("| variable |"):]
    table = table[:table.index("\n\n") + 1]
    assert table == settings_table(), (
        "docs/configuration.md's table differs from deltastore/settings.py SETTINGS; print "
        "the declared one with: python -c 'from deltastore.settings import settings_table; "
        "print(settings_table())'")
