"""Smoke run of the benchmark: bench/run.py end to end at a small size, with its own Prefect
server. Asserts the report's shape and that every figure is positive; never a timing."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAST_LINE = re.compile(
    r"leads=(?P<leads>\d+) baseline_s=(?P<baseline_s>[\d.]+) full_s=(?P<full_s>[\d.]+)"
    r" incremental_s=(?P<incremental_s>[\d.]+) full_vs_baseline=(?P<full_vs_baseline>[\d.]+)"
    r" incremental_vs_full=(?P<incremental_vs_full>[\d.]+) peak_rss_mb=(?P<peak_rss_mb>\d+)"
)
CHANGES_LINE = re.compile(
    r"changes_only_s=(?P<changes_only_s>[\d.]+)"
    r" changes_only_vs_full=(?P<changes_only_vs_full>[\d.]+)"
)


@pytest.mark.slow
def test_bench_runs_end_to_end_at_2000_leads(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "run.py"),
            "--leads",
            "2000",
            "--seed",
            "3",
            "--cache-dir",
            str(tmp_path / "cache"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.strip().splitlines()
    match = LAST_LINE.fullmatch(lines[-1])
    assert match, lines[-1]
    figures = {k: float(v) for k, v in match.groupdict().items()}
    assert figures["leads"] == 2000
    assert all(v > 0 for v in figures.values()), figures
    # the line before it: the changes-only run's, finite
    changes = CHANGES_LINE.fullmatch(lines[-2])
    assert changes, lines[-2]
    changes_figures = {k: float(v) for k, v in changes.groupdict().items()}
    assert all(math.isfinite(v) and v > 0 for v in changes_figures.values()), changes_figures
    assert changes_figures["changes_only_vs_full"] == pytest.approx(
        changes_figures["changes_only_s"] / figures["full_s"], abs=0.002
    )
    # the per-run table: one row per measured run, each with its steps from the server
    table = {
        line.split()[0]: line
        for line in lines
        if line.split()[:1] in (["baseline"], ["full"], ["incremental"], ["changes_only"])
    }
    assert set(table) == {"baseline", "full", "incremental", "changes_only"}
    for step in ("extract", "clean", "validate", "load", "models", "publish"):
        for run in ("full", "incremental", "changes_only"):
            assert re.search(rf"\b{step}=\d+\.\d+", table[run]), table[run]
    # the changes-only run read the changes-only export's lines: far fewer than the night's
    rows = {run: int(table[run].split()[3].replace(",", "")) for run in table}
    assert 0 < rows["changes_only"] < rows["incremental"] / 10, rows
    # the export was cached, and the next night's and its changes-only export derived from it
    cached = sorted(p.name for p in (tmp_path / "cache").iterdir() if p.is_dir())
    assert cached == [cached[0], cached[0] + "-changes", cached[0] + "-next"], cached
    assert cached[0].startswith("leads2000-seed3-gen")
