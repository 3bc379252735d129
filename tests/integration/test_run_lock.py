"""One run at a time per warehouse, and honest bookkeeping after a kill (issue 20, failure 7).

Attacks: a second `funnel run` started while the first runs (they interleaved on the state file
and the first could not record its end); `kill -9` of a run after its load and before its
publish (the next run's pipeline_runs showed the killed run as published, and its build file
stayed forever). Now the second run exits at once (exit 1) naming the first one's run id, or
waits with `--wait`; the killed run is found `abandoned` by the next one, which removes its
build file.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.nightly import nightly
from funnel import runlock
from tests.conftest import REPO
from tests.integration.ops_helpers import DAYS, query, write_project

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]
AS_OF = str(DAYS[-1])

#: `funnel` with the warehouse's publish replaced by a SIGKILL of the process itself: a run
#: killed after its load and its models, before its publish.
KILLED_BEFORE_PUBLISH = """
import os, signal, sys
import funnel.warehouse
funnel.warehouse.publish = lambda *args: os.kill(os.getpid(), signal.SIGKILL)
from funnel.cli import main
main()
"""


def _env() -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    return {**os.environ, "PREFECT_API_URL": str(PREFECT_API_URL.value()), "PYTHONPATH": str(REPO)}


def _funnel(*args: str, code: str | None = None) -> subprocess.Popen[str]:
    program = ["-c", code] if code else ["-m", "funnel"]
    return subprocess.Popen(
        [sys.executable, *program, *args],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _state(config: Path) -> Path:
    return config.parent / "warehouse" / "funnel.state.duckdb"


def test_a_run_killed_before_its_publish_is_abandoned_by_the_next(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    warehouse = tmp_path / "warehouse" / "funnel.duckdb"
    first = nightly(config_path=str(config), as_of=DAYS[-1])

    killed = _funnel("run", "--config", str(config), "--as-of", AS_OF, code=KILLED_BEFORE_PUBLISH)
    killed.communicate(timeout=300)
    assert killed.returncode == -9
    ((killed_id, status),) = query(
        _state(config),
        f"select run_id, status from log_pipeline_runs where run_id <> '{first.run_id}'",
    )
    assert status == "publishing"  # loaded and built: only the publish was missing
    builds = sorted(p.name for p in warehouse.parent.glob(".funnel.duckdb.build-*"))
    assert builds == [f".funnel.duckdb.build-{killed_id}"]

    # the kill released the lock: the next run starts, and settles the killed one
    third = nightly(config_path=str(config), as_of=DAYS[-1])
    assert query(
        warehouse,
        "select run_id, status, exit_code, message from pipeline_runs order by started_at",
    ) == [
        (first.run_id, "published", 0, None),
        (
            killed_id,
            "abandoned",
            None,
            "abandoned: the run stopped while publishing (its process ended without finishing;"
            f" found by run {third.run_id})",
        ),
        (third.run_id, "published", 0, None),
    ]
    assert query(_state(config), "select status from log_pipeline_runs order by started_at") == [
        ("published",),
        ("abandoned",),
        ("published",),
    ]
    assert list(warehouse.parent.glob(".funnel.duckdb.build-*")) == []


def _wait_for_holder(config: Path, timeout: float = 60) -> str:
    """The run id the lock file names once a run holds it."""
    lock = runlock.lock_path(_state(config).resolve())
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = lock.read_text() if lock.exists() else ""
        if '"run_id"' in text:
            return str(runlock.describe(text).split()[1])
        time.sleep(0.05)
    raise AssertionError("no run took the lock")


def test_a_second_run_exits_at_once_naming_the_first(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    first = _funnel("run", "--config", str(config), "--as-of", AS_OF)
    holder = _wait_for_holder(config)

    started = time.monotonic()
    second = subprocess.run(
        [sys.executable, "-m", "funnel", "run", "--config", str(config), "--as-of", AS_OF],
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    took = time.monotonic() - started
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err[-3000:]
    assert second.returncode == 1, second.stderr
    assert f"another funnel run holds this warehouse: run {holder} (funnel run, pid" in " ".join(
        second.stderr.split()
    )
    assert took < 30  # no Prefect, no read: it stops at the lock
    # the second run wrote nothing; the first finished and recorded its end
    assert query(_state(config), "select run_id, status from log_pipeline_runs") == [
        (holder, "published")
    ]


def test_wait_waits_for_the_holder_and_rebuild_and_backfill_exit(tmp_path: Path) -> None:
    config = write_project(tmp_path)
    nightly(config_path=str(config), as_of=DAYS[-1])
    lock = runlock.take(_state(config), "20261031-020000-holder", "funnel run")
    try:
        for args in (
            ("rebuild", "--config", str(config)),
            ("backfill", "--config", str(config), "--start", str(DAYS[0]), "--end", AS_OF),
        ):
            done = subprocess.run(
                [sys.executable, "-m", "funnel", *args],
                env=_env(),
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 1, (args, done.stderr)
            assert "run 20261031-020000-holder (funnel run, pid" in " ".join(done.stderr.split())

        waiting = _funnel("run", "--config", str(config), "--as-of", AS_OF, "--wait")
        assert waiting.stderr is not None
        line = waiting.stderr.readline()
        assert line.startswith("waiting for run 20261031-020000-holder"), line
        time.sleep(1)
        assert waiting.poll() is None  # still waiting
    finally:
        lock.release()
    _, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err[-3000:]
    assert query(_state(config), "select status from log_pipeline_runs") == [
        ("published",),
        ("published",),
    ]
