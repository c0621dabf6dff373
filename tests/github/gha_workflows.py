"""Read the GitHub Actions workflow files: jobs, steps, `uses:` pins and the shell commands
of `run:` steps, so offline tests can check what GitHub would only find out at run time.

The shell reading is deliberately small: it knows line continuations, heredocs, `&&`, `||`,
`;`, `|`, `&`, redirections and leading `VAR=value` assignments, which is all the project's
workflows use. It is not a shell parser for arbitrary scripts.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS_DIR = REPO / ".github" / "workflows"

# A GitHub expression `${{ … }}`; shell text never contains one once GitHub has run.
EXPRESSION = re.compile(r"\$\{\{.*?\}\}", re.DOTALL)
SHELL_VARIABLE = re.compile(r"\$(\{[A-Za-z_][A-Za-z0-9_]*\}|[A-Za-z_][A-Za-z0-9_]*)")
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>[^\s#]+)\s*(?:#\s*(?P<comment>.*))?$")
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^v\d+(\.\d+){0,2}$")

_OPERATORS = {"&&", "||", ";", "|", "&", "(", ")", "|&", ";;"}
_PREFIX_WORDS = {"if", "then", "else", "elif", "do", "while", "until", "!", "time", "exec",
                 "nohup", "command"}
_REDIRECTION = re.compile(r"(?<![\S])\d*(?:>>?|<)(?:&\d+|\s*(?:\"[^\"]*\"|'[^']*'|[^\s;&|]+))")
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)(?P<word>\w+)\1")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def workflow_paths() -> list[Path]:
    return sorted(WORKFLOWS_DIR.glob("*.yml")) + sorted(WORKFLOWS_DIR.glob("*.yaml"))


def load(path: Path) -> dict[str, Any]:
    """The workflow as data. PyYAML reads the key `on` as True; it is put back as "on"."""
    data = yaml.safe_load(path.read_text())
    if True in data:
        data["on"] = data.pop(True)
    return dict(data)


@dataclass(frozen=True)
class Step:
    workflow: str          # file name
    job: str
    index: int
    data: Mapping[str, Any]

    @property
    def label(self) -> str:
        return f"{self.workflow} job `{self.job}` step `{self.data.get('name', self.index)}`"

    @property
    def run(self) -> str | None:
        return self.data.get("run")

    @property
    def env(self) -> Mapping[str, Any]:
        return self.data.get("env") or {}


def steps(path: Path) -> Iterator[Step]:
    for job_id, job in (load(path).get("jobs") or {}).items():
        for index, step in enumerate(job.get("steps") or []):
            yield Step(path.name, job_id, index, step)


@dataclass(frozen=True)
class Uses:
    workflow: str
    line: int
    ref: str
    comment: str | None


def uses_lines(path: Path) -> list[Uses]:
    """Every `uses:` with the comment on its line (YAML loaders drop comments)."""
    found = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        match = USES_LINE.match(line)
        if match:
            comment = match.group("comment")
            found.append(Uses(path.name, number, match.group("ref"),
                              comment.strip() if comment else None))
    return found


def pin_problem(uses: Uses) -> str | None:
    """Why a `uses:` is not pinned the project's way, or None when it is."""
    if uses.ref.startswith("./"):
        return None  # an action in this repository: pinned by the checkout itself
    if not PINNED.match(uses.ref):
        return f"`{uses.ref}` is not pinned to a full 40-hex commit SHA"
    if not uses.comment or not VERSION_COMMENT.match(uses.comment.split()[0]):
        return f"`{uses.ref}` has no `# vX.Y.Z` comment naming the version of that SHA"
    return None


def without_expressions(script: str, placeholder: str = "GHA_EXPRESSION") -> str:
    return EXPRESSION.sub(placeholder, script)


def logical_lines(script: str) -> list[str]:
    """Lines with `\\` continuations joined and heredoc bodies left out."""
    joined = re.sub(r"\\\n", " ", script)
    lines: list[str] = []
    heredoc_end: str | None = None
    for line in joined.splitlines():
        if heredoc_end is not None:
            if line.strip() == heredoc_end:
                heredoc_end = None
            continue
        match = _HEREDOC.search(line)
        if match:
            heredoc_end = match.group("word")
            line = line[:match.start()]
        if line.strip() and not line.lstrip().startswith("#"):
            lines.append(line)
    return lines


def commands(script: str) -> list[list[str]]:
    """The simple commands of a script, each as its argv (words still hold `$VAR`)."""
    found: list[list[str]] = []
    for line in logical_lines(without_expressions(script)):
        line = _REDIRECTION.sub(" ", line)
        lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
        lexer.whitespace_split = True
        lexer.commenters = "#"
        current: list[str] = []
        for token in lexer:
            if token in _OPERATORS:
                if current:
                    found.append(current)
                current = []
                continue
            if not current and (token in _PREFIX_WORDS or _ASSIGNMENT.match(token)):
                continue
            current.append(token)
        if current:
            found.append(current)
    return found


def resolve(word: str, env: Mapping[str, Any]) -> str:
    """A word with `$NAME`/`${NAME}` replaced from `env` (unknown names are left as they are)."""
    def value(match: re.Match[str]) -> str:
        name = match.group(1).strip("{}")
        return str(env[name]) if name in env else match.group(0)

    return SHELL_VARIABLE.sub(value, word)


def deltastore_calls(script: str) -> list[list[str]]:
    """The argv after `deltastore` of every command that runs the CLI."""
    return [argv[1:] for argv in commands(script) if argv and argv[0] == "deltastore"]


def option_values(argv: list[str], *names: str) -> list[str]:
    """Values of an option given as `--name value` or `--name=value`, in order."""
    values = []
    for position, word in enumerate(argv):
        for name in names:
            if word == name and position + 1 < len(argv):
                values.append(argv[position + 1])
            elif word.startswith(name + "="):
                values.append(word.split("=", 1)[1])
    return values


def workflow_env(path: Path, *, job: str | None = None) -> dict[str, Any]:
    """Workflow-level `env:` (and the job's on top of it when `job` is given)."""
    data = load(path)
    env = dict(data.get("env") or {})
    if job is not None:
        env.update(data["jobs"][job].get("env") or {})
    return env
