"""The daily benchmark end to end at a small scale: the figures issue 26 asks for are printed
by it, so it must keep running. Real processes (the demo store, every pipeline step, the
scale-1 run) on loopback; no figure is asserted, only that each one is printed and that the
two days built the same nodes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).parents[2] / "benchmarks" / "bench_pipeline.py"
STEPS = ("extract store-api", "extract legacy-db", "freshness", "build", "sync",
         "total, no store API")


@pytest.mark.slow
def test_the_daily_benchmark_prints_every_figure_and_the_fixed_cost(tmp_path: Path) -> None:
    # Two alternated pairs: the medians and each ratio's range are printed too.
    done = subprocess.run([sys.executable, str(BENCHMARK), "--daily", "--scale", "0.2",
                           "--repeat", "2"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    for step in STEPS:   # full s, daily s, daily/full, fixed s
        assert re.search(rf"^{re.escape(step)} +[\d.]+ +[\d.]+ +\d+% +[\d.]+", out, re.M), step
    fixed = re.search(r"its build ran (\d+) nodes, this one (\d+)\)", out)
    assert fixed and fixed.group(1) == fixed.group(2) and int(fixed.group(1)) > 0, out
    assert re.search(r"daily run \d+% of the full run \(target <= 35 %\): (met|MISSED); "
                     r"in CPU seconds [\d.]+ of [\d.]+", out)
    wrote = re.search(r"sync wrote ([\d,]+) of ([\d,]+) mart rows", out)
    assert wrote, out
    written, marts = (int(g.replace(",", "")) for g in wrote.groups())
    assert 0 < written < marts   # a day's changes, not a full copy
    assert re.search(r"build \d+% of a full build \(target <= 50 %\)", out)
    assert re.search(r"peak RSS of any step [\d,]+ MiB", out)
    assert "slowest nodes of the full build" in out
    assert re.search(r"^over 2 alternated pairs \(each run on the data the first run left\), "
                     r"daily/full: run \d+%-\d+% \(median \d+%\), in CPU seconds "
                     r"\d+%-\d+% \(median \d+%\); build \d+%-\d+% \(median \d+%\); "
                     r"sync \d+%-\d+% \(median \d+%\)", out, re.M), out
    # The last day's build again without the snapshots and summaries: fewer nodes, and
    # what the daily run would then take.
    bound = re.search(r"^without the snapshots and the models that summarise all history "
                      r"\((\d+) of the day's (\d+) nodes, .* the daily run would take "
                      r"[\d.]+ s, \d+% of that pair's full run \(target <= 35 %; the daily run "
                      r"itself took [\d.]+ s of [\d.]+ s\)", out, re.M)
    assert bound and 0 < int(bound.group(1)) < int(bound.group(2)), out
    # The same day twice: each pair's daily run took in the same legacy changes.
    days = re.findall(r"day (\d{4}-\d{2}-\d{2}) written", out)
    assert len(days) == 3 and days[0] == days[1], days   # the third is the scale-1 day
