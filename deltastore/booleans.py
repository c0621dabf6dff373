"""The one vocabulary for yes/no values in settings, command-line flags and URL options.

``true``, ``yes``, ``on``, ``1`` mean yes; ``false``, ``no``, ``off``, ``0`` mean no; any
case, surrounding spaces ignored. Argo passes its ``true``/``false`` workflow parameters
to flags, so they arrive here too. (dbt's Jinja reads only what the runner writes,
``true`` or ``false``, and keeps its own test.)
"""

from __future__ import annotations

TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")
HOW = "write `true` or `false` (also yes/no, on/off, 1/0)"


def parse_bool(text: str) -> bool:
    """``text`` as a boolean; ValueError saying what to write for anything else."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(HOW)
