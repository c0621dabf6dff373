"""What the session's scale-1 demo run (the `demo_run` fixture in tests/conftest.py) left
behind, for the tests that read it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class DemoRun:
    """A whole `deltastore demo` at scale 1, run once per session (about 15 s)."""

    data_dir: Path
    sync_target: Path
    dashboards: Path

    def query(self, sql: str, params: list[object] | None = None) -> list[tuple]:
        """Rows of one query over the published marts (read-only connection)."""
        with duckdb.connect(str(self.sync_target), read_only=True) as connection:
            return connection.execute(sql, params or []).fetchall()
