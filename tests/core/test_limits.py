"""DuckDB's memory and threads follow the container's cgroup limits, not the node's size."""

from __future__ import annotations

from pathlib import Path

import pytest

from deltastore import db, limits
from deltastore.dburl import DatabaseURL
from deltastore.errors import ConfigError
from deltastore.settings import Settings
from deltastore.transform.runner import dbt_environment


def cgroup(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text + "\n")
    return tmp_path


def test_cgroup_v2_limits(tmp_path: Path) -> None:
    # A pod with limits memory: 2Gi, cpu: 1500m, as the kubelet writes them.
    root = cgroup(tmp_path, {"memory.max": "2147483648", "cpu.max": "150000 100000"})
    assert limits.memory_limit_bytes(root) == 2 << 30
    assert limits.cpu_limit(root) == 1.5
    assert limits.duckdb_memory_limit(root) == "1024MiB"
    assert limits.available_cpus(root) == min(2, len(__import__("os").sched_getaffinity(0)))


def test_cgroup_v2_without_limits_falls_back_to_the_machine(tmp_path: Path) -> None:
    root = cgroup(tmp_path, {"memory.max": "max", "cpu.max": "max 100000"})
    assert limits.memory_limit_bytes(root) is None and limits.cpu_limit(root) is None
    half = limits.physical_memory_bytes() // 2 >> 20
    assert limits.duckdb_memory_limit(root) == f"{half}MiB"


def test_cgroup_v1_limits_and_its_unlimited_marker(tmp_path: Path) -> None:
    root = cgroup(tmp_path, {"memory/memory.limit_in_bytes": "536870912",
                             "cpu/cpu.cfs_quota_us": "50000", "cpu/cpu.cfs_period_us": "100000"})
    assert limits.memory_limit_bytes(root) == 512 << 20 and limits.cpu_limit(root) == 0.5
    assert limits.available_cpus(root) == 1
    unlimited = cgroup(tmp_path / "u", {"memory/memory.limit_in_bytes": "9223372036854771712",
                                        "cpu/cpu.cfs_quota_us": "-1",
                                        "cpu/cpu.cfs_period_us": "100000"})
    assert limits.memory_limit_bytes(unlimited) is None and limits.cpu_limit(unlimited) is None


def test_settings_override_and_reject_a_bad_size(tmp_path: Path) -> None:
    settings = Settings.from_env({"DELTASTORE_DATA_DIR": str(tmp_path),
                                  "DELTASTORE_DUCKDB_MEMORY_LIMIT": "300MiB",
                                  "DELTASTORE_DUCKDB_THREADS": "1"})
    assert (settings.duckdb_memory_limit, settings.duckdb_threads) == ("300MiB", 1)
    with pytest.raises(ConfigError, match="DELTASTORE_DUCKDB_MEMORY_LIMIT.*2GiB"):
        Settings.from_env({"DELTASTORE_DUCKDB_MEMORY_LIMIT": "lots"})
    env = dbt_environment(settings)
    assert env["DELTASTORE_DBT_DUCKDB_MEMORY_LIMIT"] == "300MiB"
    assert env["DELTASTORE_DBT_DUCKDB_THREADS"] == "1"


def test_duckdb_connections_get_the_configured_limits(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "_DUCKDB_CONFIG", {})
    db.configure_duckdb("300MiB", 1)
    conn = db.connect(DatabaseURL.parse(f"duckdb:///{tmp_path / 'w.duckdb'}", "TEST"))
    try:
        memory, threads = conn.execute("SELECT current_setting('memory_limit'), "
                                       "current_setting('threads')").fetchone()
    finally:
        conn.close()
    assert threads == 1
    assert memory.replace(" ", "") in ("300.0MiB", "314.5MB")  # DuckDB prints its own units
