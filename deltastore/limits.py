"""What this process may use: memory and CPUs, as the container's cgroup limits say.

DuckDB sizes itself from the machine (80 % of physical memory, one thread per core). In a pod
the machine is the node, not the pod's limits, so a 2 GiB pod on a 64 GiB node would let
DuckDB take 51 GiB and be OOM-killed. The defaults of ``DELTASTORE_DUCKDB_MEMORY_LIMIT`` and
``DELTASTORE_DUCKDB_THREADS`` come from here instead.

Files read (Linux kernel docs, Documentation/admin-guide/cgroup-v2.rst and cgroup-v1):
- cgroup v2: ``memory.max`` ("max" or bytes), ``cpu.max`` ("$MAX $PERIOD", MAX may be "max");
- cgroup v1: ``memory/memory.limit_in_bytes`` (a huge number when unlimited),
  ``cpu/cpu.cfs_quota_us`` (-1 when unlimited) and ``cpu/cpu.cfs_period_us``.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
# DuckDB gets this share of the memory limit; the rest is Python, dbt and the driver.
DUCKDB_MEMORY_SHARE = 0.5
_UNLIMITED_V1 = 1 << 60  # v1 reports "no limit" as a page-rounded 2^63 - 1


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def memory_limit_bytes(root: Path = CGROUP_ROOT) -> int | None:
    """The container's memory limit, or None when there is none."""
    v2 = _read(root / "memory.max")
    if v2 is not None:
        return None if v2 == "max" else int(v2)
    v1 = _read(root / "memory" / "memory.limit_in_bytes")
    if v1 is not None and int(v1) < _UNLIMITED_V1:
        return int(v1)
    return None


def cpu_limit(root: Path = CGROUP_ROOT) -> float | None:
    """CPUs the container may use (quota / period), or None when unlimited."""
    v2 = _read(root / "cpu.max")
    if v2 is not None:
        quota, _, period = v2.partition(" ")
        return None if quota == "max" else int(quota) / int(period or 100_000)
    quota_v1 = _read(root / "cpu" / "cpu.cfs_quota_us")
    period_v1 = _read(root / "cpu" / "cpu.cfs_period_us")
    if quota_v1 is not None and period_v1 is not None and int(quota_v1) > 0:
        return int(quota_v1) / int(period_v1)
    return None


def physical_memory_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def available_cpus(root: Path = CGROUP_ROOT) -> int:
    """Whole CPUs to use: the cgroup quota rounded up, never more than this process may run on."""
    cores = len(os.sched_getaffinity(0))
    quota = cpu_limit(root)
    return max(1, min(cores, math.ceil(quota))) if quota else cores


def duckdb_memory_limit(root: Path = CGROUP_ROOT) -> str:
    """DuckDB's ``memory_limit`` for this container, in MiB as DuckDB accepts it."""
    limit = memory_limit_bytes(root) or physical_memory_bytes()
    return f"{max(64, int(limit * DUCKDB_MEMORY_SHARE) >> 20)}MiB"
