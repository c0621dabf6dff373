"""Sub-commands of this group are registered here (see workflows/cli.py)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """No sub-command in this group yet."""
