"""Run a command and report its peak resident memory; fail above a limit.

Used by mssql.yml around `deltastore sync`: the figure goes to the job summary next to the
bound the sync prints per table (bytes a row bound x rows per insert call).
Usage: python tests/mssql/peak_memory.py --limit-mib 1024 -- deltastore sync
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit-mib", type=float, required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = [c for c in args.command if c != "--"] if args.command[:1] == ["--"] \
        else args.command
    if not command:
        parser.error("give the command after --")
    code = subprocess.run(command, check=False).returncode
    # Linux reports ru_maxrss in KiB, for the largest child waited for.
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    line = f"peak client memory of `{' '.join(command)}`: {peak_mib:.0f} MiB " \
           f"(limit {args.limit_mib:.0f} MiB)"
    print(line)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(f"- {line}\n")
    if code:
        return code
    if peak_mib > args.limit_mib:
        print(f"::error::{line}: over the limit")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
