"""docs/reference/cli.md: every `deltastore` command, its help, options and example.

Generated from the real parser (``build_parser``), so the reference cannot drift from the
CLI; a test fails when the committed page is stale. Regenerate on request:

    python -m deltastore.workflows.cli_reference          # write docs/reference/cli.md
    python -m deltastore.workflows.cli_reference --check  # exit 1 when it is stale

The page is built from the parser's actions rather than argparse's own help text, whose
layout changes between Python versions and terminal widths.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from deltastore.resources import find_checkout
from deltastore.workflows.cli import build_parser

PAGE = Path("docs") / "reference" / "cli.md"

HEADER = """# CLI reference

For anyone running the pipeline by hand or from a script: every `deltastore` command, its
options and an example. Generated from the parser by
`python -m deltastore.workflows.cli_reference`; do not edit by hand. Exit codes are in
[operations.md](../operations.md#exit-codes), settings in
[configuration.md](../configuration.md).

Every command accepts `-v` / `--verbose` before its name (`deltastore -v build`): debug
logging for the project's own loggers.
"""


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _help_of(parser: argparse.ArgumentParser) -> dict[str, str]:
    """The one-line help each sub-command was registered with."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return {choice.dest: choice.help or "" for choice in action._choices_actions}
    return {}


def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
             ) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every leaf and group below ``parser``, depth first, in registration order."""
    for name, sub in _subcommands(parser).items():
        yield (*path, name), sub
        yield from commands(sub, (*path, name))


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _argument(action: argparse.Action) -> str:
    """How the option is written: `--select SELECTOR`, `--wait [true|false]`, `<table>`."""
    metavar = action.metavar
    if metavar is None and action.choices is not None:
        metavar = "{" + ",".join(str(c) for c in action.choices) + "}"
    if metavar is None:
        metavar = action.dest.upper() if action.option_strings else action.dest
    if isinstance(metavar, tuple):
        metavar = " ".join(metavar)
    if not action.option_strings:
        return f"`{metavar}`"
    if action.nargs == 0:
        value = ""
    elif action.nargs == "?":
        value = f" [{metavar}]"
    elif action.nargs in ("*", "+"):
        value = f" {metavar} …"
    else:
        value = f" {metavar}"
    return ", ".join(f"`{flag}{value}`" for flag in action.option_strings)


def _options(parser: argparse.ArgumentParser) -> list[str]:
    formatter = parser._get_formatter()
    rows = []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        if action.help == argparse.SUPPRESS:
            continue
        text = formatter._expand_help(action) if action.help else ""
        required = " (required)" if action.required and action.option_strings else ""
        rows.append(f"| {_cell(_argument(action))} | {_cell(text)}{required} |")
    return rows


def _examples(parser: argparse.ArgumentParser) -> list[str]:
    epilog = parser.epilog or ""
    lines = epilog.splitlines()
    return [line.strip() for line in lines[1:] if line.strip()] if lines else []


def _anchor(path: tuple[str, ...]) -> str:
    return "deltastore-" + "-".join(path)


def render() -> str:
    """The whole page, as committed."""
    parser = build_parser()
    found = list(commands(parser))
    top = _help_of(parser)
    out = [HEADER, "## Commands", "", "| command | what it does |", "|---|---|"]
    for path, _ in found:
        if len(path) == 1:
            out.append(f"| [`deltastore {path[0]}`](#{_anchor(path)}) | {_cell(top[path[0]])} |")
    for path, sub in found:
        out += ["", f"## deltastore {' '.join(path)}", ""]
        out.append(" ".join((sub.description or "").split()))
        children = _help_of(sub)
        if children:
            out += ["", "| sub-command | what it does |", "|---|---|"]
            out += [f"| [`{name}`](#{_anchor((*path, name))}) | {_cell(text)} |"
                    for name, text in children.items()]
        options = _options(sub)
        if options:
            out += ["", "| option | what it does |", "|---|---|", *options]
        examples = _examples(sub)
        if examples:
            out += ["", "```sh", *examples, "```"]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deltastore.workflows.cli_reference",
        description=f"Write {PAGE} from the CLI parser, or check that it is up to date.")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when the committed page differs from a fresh render")
    args = parser.parse_args(argv)
    checkout = find_checkout(Path(__file__).parent) or find_checkout()
    if checkout is None:
        print("not inside a deltastore checkout: run this from the repository", file=sys.stderr)
        return 2
    page = checkout / PAGE
    text = render()
    if args.check:
        if not page.is_file() or page.read_text("utf-8") != text:
            print(f"{PAGE} is stale: run python -m deltastore.workflows.cli_reference",
                  file=sys.stderr)
            return 1
        return 0
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(text, "utf-8")
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
