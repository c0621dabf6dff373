"""The documentation tells the truth: in README.md, docs/ and the chart, dbt and workflows
READMEs every relative link and anchor resolves, every `deltastore` command shown parses
with the real CLI, and the generated CLI reference matches the parser."""

from __future__ import annotations

import argparse
import contextlib
import io
import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from markdown_pages import (
    ROOT,
    Command,
    anchors,
    argv,
    commands,
    doc_pages,
    github_anchor,
    is_external,
    link_targets,
    synopsis_words,
)

from deltastore.workflows import cli_reference
from deltastore.workflows.cli import build_parser

PAGES = doc_pages()


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


def test_every_page_listed_exists() -> None:
    missing = [page_id(p) for p in PAGES if not p.is_file()]
    assert not missing, f"documentation pages missing: {missing}"
    assert len(PAGES) > 10


def broken_links(page: Path) -> list[str]:
    """Relative links of ``page`` whose file or heading anchor does not exist."""
    broken = []
    for target in link_targets(page.read_text("utf-8")):
        if is_external(target):
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / unquote(path)).resolve() if path else page
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif (anchor and resolved.suffix == ".md"
              and anchor not in anchors(resolved.read_text("utf-8"))):
            broken.append(f"{target}: no heading with anchor #{anchor} in {resolved.name}")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=page_id)
def test_every_relative_link_and_anchor_resolves(page: Path) -> None:
    broken = broken_links(page)
    assert not broken, f"{page_id(page)}: broken links:\n" + "\n".join(broken)


def test_a_broken_link_or_anchor_is_caught(tmp_path: Path) -> None:
    (tmp_path / "b.md").write_text("# Title\n\n## Notes\n")
    page = tmp_path / "a.md"
    page.write_text("# Here\n\n[ok](b.md#notes) [ok](#here) [ok](b.md) [ok](https://x.org)\n"
                    "[bad](b.md#note) [bad](missing.md) [bad](#there)\n"
                    "`[code](missing.md)` is not a link\n")
    assert broken_links(page) == ["b.md#note: no heading with anchor #note in b.md",
                                  "missing.md: no such file",
                                  "#there: no heading with anchor #there in a.md"]


@pytest.mark.parametrize("page", [p for p in PAGES if p.is_relative_to(ROOT / "docs")],
                         ids=page_id)
def test_every_docs_page_says_who_it_is_for(page: Path) -> None:
    first = page.read_text("utf-8").split("\n\n")[1]
    assert first.startswith("For "), f"{page_id(page)} should open with who it is for"


def _leaf(words: list[list[str]]) -> list[argparse.ArgumentParser]:
    """The parsers a synopsis's command words name (several for `a|b`)."""
    current = [build_parser()]
    for alternatives in words:
        following = []
        for parser in current:
            choices = next((a.choices for a in parser._actions
                            if isinstance(a, argparse._SubParsersAction)), None)
            if choices is None:
                break
            for word in alternatives:
                assert word in choices, f"`{word}` is not a command of `{parser.prog}`"
                following.append(choices[word])
        if not following:
            break
        current = following
    return current


def check_synopsis(command: Command) -> None:
    """Its command words are commands, and every option it names is an option of them."""
    words, options = synopsis_words(command)
    parsers = _leaf(words)
    for option in options:
        assert any(option in p._option_string_actions for p in parsers), (
            f"`{command.text}`: `{option}` is not an option of "
            f"{' / '.join(p.prog for p in parsers)}")


def check_command(command: Command) -> None:
    if command.synopsis:
        check_synopsis(command)
        return
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            build_parser().parse_args(argv(command))
    except SystemExit as exc:
        message = stderr.getvalue().strip()
        if command.inline and "the following arguments are required" in message:
            check_synopsis(command)  # prose naming a command, e.g. `deltastore notify`
            return
        assert exc.code in (0, None), f"`{command.text}`: {message}"


SHOWN = [(page, command) for page in PAGES for command in commands(page.read_text("utf-8"))]


def command_id(page: Path, command: Command) -> str:
    return f"{page_id(page)}: " + re.sub(r"[][|\\<>…]", "", command.text)[:60]


@pytest.mark.parametrize(("page", "command"), SHOWN,
                         ids=[command_id(p, c) for p, c in SHOWN])
def test_every_command_shown_parses(page: Path, command: Command) -> None:
    check_command(command)


def test_commands_are_found_on_every_kind_of_page() -> None:
    pages = {page_id(page) for page, _ in SHOWN}
    for expected in ("README.md", "docs/operations.md", "docs/kubernetes.md",
                     "docs/reference/cli.md", ".github/workflows/README.md"):
        assert expected in pages
    assert any(c.synopsis for _, c in SHOWN) and any(not c.synopsis for _, c in SHOWN)


@pytest.mark.parametrize(("markdown", "problem"), [
    ("`deltastore biuld`", "invalid choice"),
    ("`deltastore build --selekt x`", "unrecognized"),
    ("`deltastore build [--selekt …]`", "not an option"),
    ("`deltastore workflows render|sumbit`", "not a command"),
    ("`deltastore notify --wrokflow`", "not an option"),
    # Inline code may name a command; a code block runs it, so it needs its arguments.
    ("```sh\ndeltastore notify --status Failed  # the exit handler\n```", "required"),
])
def test_a_wrong_command_is_caught(markdown: str, problem: str) -> None:
    [command] = commands(markdown)
    with pytest.raises(AssertionError, match=problem):
        check_command(command)


@pytest.mark.parametrize(("heading", "anchor"), [
    # The forms GitHub produces (github-slugger's fixtures, test/fixtures.json).
    ("Change capture (legacy DB)", "change-capture-legacy-db"),
    ("Tableau, Power BI and exports", "tableau-power-bi-and-exports"),
    ("`deltastore sync` & friends", "deltastore-sync--friends"),
    ("One pipeline, two runners", "one-pipeline-two-runners"),
    ("Devices, print and accessibility", "devices-print-and-accessibility"),
    ("[Links](x.md) and **bold** keep_underscores", "links-and-bold-keep_underscores"),
])
def test_github_anchor_rules(heading: str, anchor: str) -> None:
    assert github_anchor(heading) == anchor


def test_duplicate_headings_are_numbered_and_code_is_not_a_heading() -> None:
    text = "# A\n\n## Notes\n\n```sh\n# Notes\n```\n\n## Notes\n\n### Notes\n"
    assert anchors(text) == {"a", "notes", "notes-1", "notes-2"}


def test_cli_reference_is_up_to_date() -> None:
    page = ROOT / cli_reference.PAGE
    assert page.read_text("utf-8") == cli_reference.render(), (
        f"{cli_reference.PAGE} is stale: run python -m deltastore.workflows.cli_reference")


def test_cli_reference_covers_every_command() -> None:
    page = (ROOT / cli_reference.PAGE).read_text("utf-8")
    every = [" ".join(path) for path, _ in cli_reference.commands(build_parser())]
    assert len(every) > 15
    for name in every:
        assert f"## deltastore {name}\n" in page
