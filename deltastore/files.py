"""Files replaced whole: a reader sees the old file or the new one, never half of either.

The new content goes to a temporary file in the target's own folder (so the rename stays on
one filesystem), which gets its final mode and then takes the target's name with
``os.replace``, atomic on POSIX. Whatever fails on the way, the temporary file is removed
and the target is left as it was. Dashboards, BI exports and the Prometheus textfiles of
``deltastore.metrics`` (read by a collector at any moment) are written this way.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar, overload

T = TypeVar("T")
PUBLIC_READ = 0o644  # what a plain open() gives under the usual umask 022


@overload
def write_atomically(path: Path, content: str | bytes, *, mode: int = PUBLIC_READ) -> None: ...


@overload
def write_atomically(path: Path, content: Callable[[Path], T], *, mode: int = PUBLIC_READ
                     ) -> T: ...


def write_atomically(path: Path, content: str | bytes | Callable[[Path], T], *,
                     mode: int = PUBLIC_READ) -> T | None:
    """Replace ``path`` with ``content``: text (UTF-8), bytes, or a writer called with the
    temporary path that writes the file itself (DuckDB's ``COPY``, a Parquet writer) and
    whose result is returned."""
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as file:
            if isinstance(content, str):
                file.write(content.encode("utf-8"))
            elif isinstance(content, bytes):
                file.write(content)
        result = content(temporary) if callable(content) else None
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return result
