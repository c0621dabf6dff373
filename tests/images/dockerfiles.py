"""A small Dockerfile reader for structure checks (instructions, stages, RUN commands)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
IMAGES = REPO / "images"


@dataclass(frozen=True)
class Instruction:
    keyword: str      # upper case: FROM, RUN, COPY, …
    value: str        # the rest, continuation lines joined


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def values(self, keyword: str) -> list[str]:
        return [i.value for i in self.instructions if i.keyword == keyword]


@dataclass
class Dockerfile:
    path: Path
    args: dict[str, str]          # ARG defaults declared before the first FROM
    stages: list[Stage]

    def resolve(self, text: str) -> str:
        return re.sub(r"\$\{?(\w+)\}?", lambda m: self.args.get(m.group(1), m.group(0)), text)


def instructions(text: str) -> list[Instruction]:
    joined = re.sub(r"\\\n", " ", text)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, value = line.partition(" ")
        found.append(Instruction(keyword.upper(), " ".join(value.split())))
    return found


def parse(path: Path) -> Dockerfile:
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for item in instructions(path.read_text()):
        if item.keyword == "FROM":
            parts = item.value.split()
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            stages.append(Stage(parts[0], name))
        elif not stages and item.keyword == "ARG":
            key, _, default = item.value.partition("=")
            args[key] = default
        elif stages:
            stages[-1].instructions.append(item)
    return Dockerfile(path, args, stages)


def all_dockerfiles() -> list[Path]:
    return sorted(IMAGES.glob("*/Dockerfile"))
