"""Wall time and peak memory of `deltastore demo`, first (cold) and second (incremental) run.

Each run is a separate `deltastore demo` process in a fresh temporary data directory (the
second run reuses the first one's); peak memory is that process's maximum resident set
size as the kernel reports it when it exits (``os.wait4``), dbt included (it runs
in-process). Prints figures; asserts nothing.

    .venv/bin/python benchmarks/bench_demo.py --scales 1 10
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_SCRIPT = Path(sys.executable).with_name("deltastore")
CLI = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "deltastore.workflows.cli"]


def run_demo(data_dir: Path, scale: float, log: Path) -> tuple[int, float, float, float]:
    """Exit code, wall seconds, CPU seconds and peak RSS in MiB of one `deltastore demo`.

    CPU seconds (user + system) do not grow when other processes compete for the cores,
    so they compare runs on a busy machine better than wall time does.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("DELTASTORE_")}
    env["DELTASTORE_DATA_DIR"] = str(data_dir)
    started = time.perf_counter()
    with log.open("ab") as out:
        process = subprocess.Popen([*CLI, "demo", "--scale", str(scale)], env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    return process.returncode, seconds, cpu, usage.ru_maxrss / 1024  # Linux reports KiB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", type=float, default=[1.0, 10.0])
    parser.add_argument("--keep", action="store_true", help="keep the data directories")
    args = parser.parse_args()

    print(f"{'scale':>6}  {'run':<11}  {'exit':>4}  {'wall s':>8}  {'CPU s':>8}  {'peak MiB':>8}"
          f"  (load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)",
          flush=True)
    for scale in args.scales:
        root = Path(tempfile.mkdtemp(prefix=f"deltastore-bench-{scale:g}-"))
        log = root / "demo.log"
        try:
            for run in ("first", "incremental"):
                code, seconds, cpu, peak = run_demo(root / "data", scale, log)
                print(f"{scale:>6g}  {run:<11}  {code:>4}  {seconds:>8.1f}  {cpu:>8.1f}  "
                      f"{peak:>8.0f}", flush=True)
                if code != 0:
                    print(f"  demo failed; its output is in {log}", flush=True)
                    args.keep = True
                    break
        finally:
            if args.keep:
                print(f"  data and log kept in {root}")
            else:
                shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
