"""Alert text, backfill resume and the run log behind `funnel status` (no Prefect needed)."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest

from funnel import state
from funnel.config import load_config
from funnel.runlog import days, last_runs, resume_index
from funnel.summary import RunSummary, SourceCounts, alert_text
from tests.conftest import REPO
from tests.integration.ops_helpers import write_project

D1, D2, D3 = days(date(2026, 10, 29), date(2026, 10, 31))


def test_days_are_inclusive_and_in_order() -> None:
    assert [date(2026, 10, 29), date(2026, 10, 30), date(2026, 10, 31)] == [D1, D2, D3]
    assert days(D2, D2) == [D2]


def test_resume_continues_after_the_days_this_backfill_published() -> None:
    wanted = [D1, D2, D3]
    earlier = [(date(2026, 10, 28), "r0")]
    assert resume_index(wanted, earlier, {"r0"}) == 0
    assert resume_index(wanted, [*earlier, (D1, "r1")], {"r1"}) == 1
    assert resume_index(wanted, [*earlier, (D1, "r1"), (D2, "r2")], {"r2"}) == 2
    assert resume_index(wanted, [(D1, "r1"), (D2, "r2"), (D3, "r3")], {"r3"}) == 3


def test_resume_starts_over_when_the_log_does_not_end_with_this_backfill() -> None:
    wanted = [D1, D2, D3]
    # a nightly run of another day came after: the warehouse no longer shows this backfill
    assert resume_index(wanted, [(D1, "r1"), (D2, "r2"), (date(2026, 11, 26), "n")], {"n"}) == 0
    # D2 logged as published but its file never landed (killed between load and publish)
    assert resume_index(wanted, [(D1, "r1"), (D2, "r2")], {"r1"}) == 0
    # a gap: D2 never published
    assert resume_index(wanted, [(D1, "r1"), (D3, "r3")], {"r3"}) == 0


def _summary(status: str, message: str = "") -> RunSummary:
    return RunSummary(
        "20261031-020000-abc123",
        D3,
        status,
        [
            SourceCounts("crm_deals", "opportunities", 10, 7, 3, 0),
            SourceCounts("crm_leads", "leads", 11, 10, 0, 2),
        ],
        [],
        message,
    )


def test_alert_for_a_failed_run_points_at_the_state_file(tmp_path: Path) -> None:
    config = load_config(write_project(tmp_path))
    failed = [
        ("crm_deals", "amount_not_negative", "error", 3, 10),
        ("crm_deals", "closed_after_created", "error", 1, 10),
        ("crm_leads", "email_format", "warn", 2, 11),
    ]
    text = alert_text(_summary("failed_dq", "crm_deals: 3 of 10 rows failed"), config, failed)
    lines = text.splitlines()
    assert lines[0] == (
        "*funnel failed_dq*: blocking data-quality gate failed, nothing published"
        " (as of 2026-10-31)"
    )
    assert lines[1] == "run id: `20261031-020000-abc123`"
    assert (
        "• crm_deals: amount_not_negative (error) 3 of 10 rows;"
        " closed_after_created (error) 1 of 10 rows"
    ) in lines
    assert "• crm_leads: email_format (warn) 2 of 11 rows" in lines
    assert "• crm_deals (opportunities): read 10, loaded 7, quarantined 3, warned 0" in lines
    funnel = Path(sys.executable).with_name("funnel")
    assert lines[-1] == (
        f"```{funnel} sql --config {config.config_path.resolve()} --state 'select source,"
        " source_file, source_line, reasons, original_row from log_dq_quarantine where run_id ="
        " '\"'\"'20261031-020000-abc123'\"'\"' order by source, source_file, source_line'```"
    )


def test_alert_for_a_published_run_points_at_the_warehouse(tmp_path: Path) -> None:
    config = load_config(write_project(tmp_path, warn_share=0.05))
    text = alert_text(_summary("published"), config, [])
    assert "9.5% of 21 rows warned (alerts.warn_share 5.0%)" in text
    assert f" sql --config {config.config_path.resolve()} 'select " in text
    assert "--state" not in text
    assert "from dq_quarantine where run_id = '\"'\"'20261031-020000-abc123'\"'\"'" in text


def _log(config_path: Path) -> None:
    """A run log with a published, a failed and a running run."""
    config = load_config(config_path)
    with state.open_state(config.state_path) as con:
        for run_id, day, status, code, started, ended, alerts in (
            ("r1", D1, "published", 0, "2026-10-30 02:00:00", "2026-10-30 02:00:42", 0),
            ("r2", D2, "failed_dq", 3, "2026-10-31 02:00:00", "2026-10-31 02:00:09", 1),
            ("r3", D3, "running", None, "2026-11-01 02:00:00", None, 0),
        ):
            con.execute(
                "insert into log_pipeline_runs values (?, ?, ?, ?, ?, ?, ?, ?)",
                [run_id, day, started, ended, status, code, f"{status} msg", alerts],
            )
            con.execute(
                "insert into log_run_sources (run_id, source, entity, rows_read, rows_loaded,"
                " rows_quarantined, rows_warned, mode)"
                " values (?, 'crm_deals', 'opportunities', 10, 7, 3, 0, 'full')",
                [run_id],
            )


def test_last_runs_newest_first_with_rows_duration_and_alerts(tmp_path: Path) -> None:
    config_path = write_project(tmp_path)
    _log(config_path)
    runs = last_runs(load_config(config_path), limit=2)
    assert [(r.run_id, r.status, r.rows_read, r.rows_loaded, r.alerts_sent) for r in runs] == [
        ("r3", "running", 10, None, 0),
        ("r2", "failed_dq", 10, None, 1),
    ]
    assert runs[1].duration is not None and runs[1].duration.total_seconds() == 9
    assert runs[0].started_at == datetime(2026, 11, 1, 2, 0)


def _status(config_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`funnel status` with its output in a pipe of 80 columns, as in a cron log."""
    return subprocess.run(
        [sys.executable, "-m", "funnel", "status", "--config", str(config_path), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "COLUMNS": "80"},
    )


def _cells(output: str) -> list[list[str]]:
    """The rows of `funnel status`'s plain table, cut at its header's column starts."""
    header, *rows = output.splitlines()
    labels = ("run id", "as of", "status", "exit", "started", "duration", "read", "loaded")
    labels += ("quarantined", "alerts", "message")
    starts = [header.index(label) for label in labels]
    ends = [*starts[1:], None]
    return [[row[a:b].strip() for a, b in zip(starts, ends, strict=True)] for row in rows]


def test_status_in_a_pipe_prints_every_value_whole(tmp_path: Path) -> None:
    config_path = write_project(tmp_path)
    _log(config_path)
    result = _status(config_path, "--limit", "5")
    assert result.returncode == 0, result.stderr
    rows = _cells(result.stdout)
    assert [r[0] for r in rows] == ["r3", "r2", "r1"]
    assert rows[2] == [
        "r1",
        "2026-10-29",
        "published",
        "0",
        "2026-10-30 02:00:00",
        "42 s",
        "10",
        "7",
        "3",
        "0",
        "published msg",
    ]
    assert "…" not in result.stdout


def test_status_json_lists_the_runs_newest_first(tmp_path: Path) -> None:
    import json

    config_path = write_project(tmp_path)
    _log(config_path)
    result = _status(config_path, "--json")
    assert result.returncode == 0, result.stderr
    runs = json.loads(result.stdout)
    assert [r["run_id"] for r in runs] == ["r3", "r2", "r1"]
    assert runs[2] | {"run_id": "r1"} == {
        "run_id": "r1",
        "as_of": "2026-10-29",
        "status": "published",
        "exit_code": 0,
        "started_at": "2026-10-30T02:00:00",
        "ended_at": "2026-10-30T02:00:42",
        "rows_read": 10,
        "rows_loaded": 7,
        "rows_quarantined": 3,
        "alerts_sent": 0,
        "message": "published msg",
        "duration_seconds": 42.0,
    }


def test_status_without_any_run_says_so_and_exits_0(tmp_path: Path) -> None:
    config_path = write_project(tmp_path)
    result = _status(config_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("no runs yet (")
    assert result.stdout.rstrip().endswith("start one with `funnel run`")
    assert len(result.stdout.splitlines()) == 1
    assert _status(config_path, "--json").stdout.strip() == "[]"


def test_serve_without_a_prefect_server_exits_2_saying_what_to_start(tmp_path: Path) -> None:
    config_path = write_project(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "funnel", "serve", "--config", str(config_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "PYTHONPATH": str(REPO),
            "PATH": "/usr/bin:/bin",
            "COLUMNS": "200",
            "PREFECT_HOME": str(tmp_path / "prefect-home"),
        },
    )
    assert result.returncode == 2
    assert "prefect server start" in result.stderr and "PREFECT_API_URL" in result.stderr


def test_help_lists_the_operations_commands() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "funnel", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )
    assert result.returncode == 0
    for command in ("backfill", "status", "serve"):
        assert command in result.stdout


def test_the_schedule_is_kept_in_the_config_alone() -> None:
    """`funnel serve` and `funnel deploy` read [schedule]; no prefect.yaml repeats it."""
    from flows.deploy import ENTRYPOINT, SOURCE, nightly_schedule

    assert not (REPO / "prefect.yaml").exists()
    schedule = nightly_schedule(REPO / "funnel.toml", load_config(REPO / "funnel.toml").schedule)
    assert (schedule.cron, schedule.timezone) == ("0 2 * * *", "UTC")
    assert (SOURCE / ENTRYPOINT.split(":")[0]).is_file()


def test_a_cron_prefect_cannot_read_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    from flows.deploy import nightly_schedule
    from funnel.config import ScheduleConfig
    from funnel.errors import ConfigError

    with pytest.raises(ConfigError, match=r"funnel.toml: schedule.cron: "):
        nightly_schedule(tmp_path / "funnel.toml", ScheduleConfig(cron="0 25 * * *"))


def test_status_reads_the_published_pipeline_runs_while_a_run_holds_the_state(
    tmp_path: Path,
) -> None:
    import duckdb

    config_path = write_project(tmp_path)
    _log(config_path)
    config = load_config(config_path)
    with duckdb.connect(str(config.warehouse_path)) as wh:
        wh.execute(
            "create table pipeline_runs as select 'r1' as run_id, date '2026-10-29' as as_of,"
            " timestamp '2026-10-30 02:00:00' as started_at,"
            " timestamp '2026-10-30 02:00:42' as ended_at, 'published' as status, 0 as exit_code,"
            " null::varchar as message, 10::bigint as rows_read, 7::bigint as rows_loaded,"
            " 3::bigint as rows_quarantined, 0 as alerts_sent"
        )
    holder = duckdb.connect(str(config.state_path))  # a running pipeline holds the state file
    try:
        result = subprocess.run(
            [sys.executable, "-m", "funnel", "status", "--config", str(config_path)],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
        )
    finally:
        holder.close()
    assert result.returncode == 0, result.stderr
    assert "held by a running pipeline" in result.stderr
    assert _cells(result.stdout)[0][:5] == [
        "r1",
        "2026-10-29",
        "published",
        "0",
        "2026-10-30 02:00:00",
    ]
