"""Reading the project's Markdown pages as GitHub shows them: links, anchors, commands.

Anchors follow GitHub's rules for heading ids (github/cmark-gfm's anchor filter as
github.com applies it, and `github-slugger`, which reimplements it): the heading's text as
rendered (code spans keep their content, link and emphasis marks go), lowercased, every
character that is not a letter, digit, `_`, `-` or space dropped, spaces turned into
hyphens; a repeated id gets `-1`, `-2`, … in order.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Every page a reader of the repository follows links through.
SINGLE_PAGES = ("README.md", "charts/deltastore/README.md", "dbt/README.md",
                ".github/workflows/README.md")


def doc_pages() -> list[Path]:
    return [ROOT / name for name in SINGLE_PAGES] + sorted((ROOT / "docs").rglob("*.md"))


_FENCE = re.compile(r"^ {0,3}(```|~~~)(.*)$")


@dataclass(frozen=True)
class CodeBlock:
    language: str
    text: str


def split_fences(text: str) -> tuple[str, list[CodeBlock]]:
    """The page with fenced code blocks blanked out (line numbers kept), and the blocks."""
    prose: list[str] = []
    blocks: list[CodeBlock] = []
    fence: str | None = None
    language = ""
    body: list[str] = []
    for line in text.splitlines():
        opened = _FENCE.match(line)
        if fence is None and opened:
            fence, language, body = opened.group(1), opened.group(2).strip(), []
            prose.append("")
        elif fence is not None and line.strip().startswith(fence) and not line.strip()[3:]:
            blocks.append(CodeBlock(language, "\n".join(body) + "\n"))
            fence = None
            prose.append("")
        elif fence is not None:
            body.append(line)
            prose.append("")
        else:
            prose.append(line)
    return "\n".join(prose) + "\n", blocks


_CODE_SPAN = re.compile(r"(`+)(.+?)\1", flags=re.S)


def code_spans(prose: str) -> list[str]:
    return [m.group(2).strip() for m in _CODE_SPAN.finditer(prose)]


def without_code_spans(prose: str) -> str:
    return _CODE_SPAN.sub(" ", prose)


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading with this Markdown text (before de-duplication)."""
    parts = []
    for i, piece in enumerate(re.split(r"(`+[^`]*`+)", heading)):
        if i % 2:  # a code span: its content, as is
            parts.append(piece.strip("`"))
            continue
        piece = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", piece)  # links and images: the text
        piece = re.sub(r"<[^>]+>", "", piece)                      # inline HTML tags
        parts.append(piece.replace("*", ""))
    text = "".join(parts).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every id a link may point at on this page: headings, then explicit HTML ids."""
    prose, _ = split_fences(text)
    seen: dict[str, int] = {}
    found: set[str] = set()
    for line in prose.splitlines():
        heading = re.match(r"^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not heading:
            continue
        base = github_anchor(heading.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    found.update(re.findall(r"<a\s+(?:id|name)=\"([^\"]+)\"", prose))
    return found


_INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]"     # [text], one level of [] inside
                          r"\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")  # (target "title")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$", flags=re.M)


def link_targets(text: str) -> list[str]:
    """Targets of inline links, images and reference definitions outside code."""
    prose = without_code_spans(split_fences(text)[0])
    return _INLINE_LINK.findall(prose) + _REFERENCE.findall(prose)


def is_external(target: str) -> bool:
    return bool(re.match(r"^[a-z][a-z0-9+.-]*:", target, flags=re.I))


# --- `deltastore …` commands shown on a page -------------------------------------------

SHELL_LANGUAGES = ("sh", "bash", "shell", "console", "")


@dataclass(frozen=True)
class Command:
    text: str
    # `[--opt]`, `a|b`, `<x>`, `S …`, or ending in a bare option: describes a command rather
    # than invokes it; its command words and option names are checked, not parsed.
    synopsis: bool
    inline: bool  # inline code may name a command (`deltastore notify`) without its options


def commands(text: str) -> list[Command]:
    """`deltastore …` invocations from shell code blocks and inline code."""
    prose, blocks = split_fences(text)
    lines: list[tuple[str, bool]] = []
    for block in blocks:
        if block.language in SHELL_LANGUAGES:
            joined = block.text.replace("\\\n", " ")
            lines += [(line.split(" #")[0].removeprefix("$ "), False)
                      for line in joined.splitlines()]
    lines += [(span, True) for span in code_spans(prose)
              if span.startswith(("deltastore ", "DELTASTORE_"))]
    found: list[Command] = []
    for line, inline in lines:
        for part in re.split(r"&&|;", line):
            part = " ".join(part.split())
            if part.startswith("DELTASTORE_") and " deltastore " in part:
                part = part[part.index("deltastore "):]
            if part.startswith("deltastore "):
                # A trailing option names an option rather than passing it a value.
                synopsis = bool(re.search(r"[\[|<…]|\s--?[a-z][a-z-]*$", part))
                found.append(Command(part, synopsis, inline))
    return found


def argv(command: Command) -> list[str]:
    return shlex.split(command.text)[1:]


def synopsis_words(command: Command) -> tuple[list[list[str]], list[str]]:
    """A synopsis read as (command words, each with its `a|b` alternatives) and the options
    it names, e.g. `deltastore workflows render|submit [--wait]` ->
    ([['workflows'], ['render', 'submit']], ['--wait'])."""
    text = command.text.replace("\\|", "|")
    words: list[list[str]] = []
    rest = text.split()[1:]
    while rest and re.fullmatch(r"[a-z][a-z-]*(\|[a-z][a-z-]*)*", rest[0]):
        words.append(rest.pop(0).split("|"))
    options = re.findall(r"(?<![\w-])(--?[a-z][a-z0-9-]*)", " ".join(rest))
    return words, options
