"""The benchmark's memory watchdog and its summary line for a run it had to kill."""

from __future__ import annotations

import math
import os
import sys

import pytest

from bench.run import Measured, changes_line, last_line, report, run_child

#: A child that grows to 1 GB in 25 MB steps, then prints "done".
GROW = (
    "import time\nblocks = []\nfor _ in range(40):\n"
    "    blocks.append(bytearray(25 << 20))\n    time.sleep(0.05)\nprint('done')\n"
)


def test_a_child_over_the_cap_is_killed_and_reported_not_failed() -> None:
    child = run_child([sys.executable, "-c", GROW], dict(os.environ), max_rss_mb=300)
    assert child.killed
    assert "done" not in child.stdout
    assert 300 < child.peak_rss_mb < 1000  # 1 GB had it run to the end


def test_a_child_under_the_cap_runs_to_the_end() -> None:
    child = run_child([sys.executable, "-c", GROW], dict(os.environ), max_rss_mb=4000)
    assert not child.killed
    assert child.stdout.strip() == "done"
    assert child.peak_rss_mb > 1000


def test_the_last_line_prints_nan_for_a_killed_run_and_the_funnel_runs_peak() -> None:
    baseline = Measured("baseline", 10.0, 3000.0, 100)
    killed = Measured("full", 42.0, 6100.0, 100, {"extract": 5.0}, killed=True)
    assert last_line(1000, baseline, [killed]) == (
        "leads=1000 baseline_s=10.00 full_s=nan incremental_s=nan full_vs_baseline=nan"
        " incremental_vs_full=nan peak_rss_mb=6100"
    )
    full = Measured("full", 20.0, 900.0, 100)
    incremental = Measured("incremental", 5.0, 800.0, 101)
    assert last_line(1000, baseline, [full, incremental]) == (
        "leads=1000 baseline_s=10.00 full_s=20.00 incremental_s=5.00 full_vs_baseline=2.00"
        " incremental_vs_full=0.250 peak_rss_mb=900"
    )


def test_a_child_that_may_fail_reports_its_error_and_its_figures_print_as_nan() -> None:
    fail = (
        "import sys\nprint('partial')\n"
        "sys.exit('ModelError: stage_transitions failed: Out of Memory Error\\n\\nSee also ...')\n"
    )
    child = run_child([sys.executable, "-c", fail], dict(os.environ), may_fail=True)
    assert not child.killed
    assert child.error == "ModelError: stage_transitions failed: Out of Memory Error"
    baseline = Measured("baseline", child.seconds, child.peak_rss_mb, 100, failure=child.error)
    assert math.isnan(baseline.rows_per_s)
    full = Measured("full", 20.0, 900.0, 100)
    assert last_line(1000, baseline, [full]).startswith(
        "leads=1000 baseline_s=nan full_s=20.00 incremental_s=nan full_vs_baseline=nan"
    )


def test_the_changes_only_line_is_nan_for_a_run_that_was_killed_or_never_ran() -> None:
    full = Measured("full", 20.0, 900.0, 100)
    changes = Measured("changes_only", 2.5, 700.0, 10)
    assert changes_line([full, changes]) == "changes_only_s=2.50 changes_only_vs_full=0.125"
    assert changes_line([full]) == "changes_only_s=nan changes_only_vs_full=nan"
    killed = Measured("changes_only", 2.5, 7000.0, 10, killed=True)
    assert changes_line([full, killed]) == "changes_only_s=nan changes_only_vs_full=nan"
    killed_full = Measured("full", 20.0, 9000.0, 100, killed=True)
    assert changes_line([killed_full]) == "changes_only_s=nan changes_only_vs_full=nan"


def test_a_failed_funnel_run_is_reported_with_the_others_and_prints_as_nan(
    capsys: pytest.CaptureFixture[str],
) -> None:
    full = Measured("full", 20.0, 900.0, 100)
    incremental = Measured("incremental", 5.0, 800.0, 101)
    failed = Measured("changes_only", 3.0, 2000.0, 10, failure="Out of Memory Error: ...")
    report([Measured("baseline", 10.0, 500.0, 100), full, incremental, failed])
    rows = capsys.readouterr().out.splitlines()
    assert rows[-1].startswith("changes_only") and "FAILED: Out of Memory Error" in rows[-1]
    assert rows[-2].startswith("incremental") and "FAILED" not in rows[-2]
    assert changes_line([full, incremental, failed]) == (
        "changes_only_s=nan changes_only_vs_full=nan"
    )
