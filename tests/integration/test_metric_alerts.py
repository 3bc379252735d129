"""Metric alerts through real nightly runs: a win rate that falls is sent once, with its figures.

Each week of the export closes 28 deals. For five weeks half of them are won; the second export
adds a week in which 3 of 28 are won. With 7-day windows, the run on the new week's last day
compares 3 / 28 (10.7 %) with the 56 / 112 (50 %) of the four weeks before: z is -3.8, n 28.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from flows.nightly import nightly
from tests.integration.ops_helpers import WEBHOOK_ENV, query, webhook

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]

FIRST = date(2026, 10, 31)
SECOND = FIRST + timedelta(days=7)

CONFIG = f"""
[warehouse]
path = "warehouse/funnel.duckdb"

[[sources]]
name = "crm_deals"
entity = "opportunities"
path = "export/deals.csv"
[sources.columns]
opportunity_id = "Deal ID"
stage = "Stage"
amount = "Amount"
created_at = "Created Date"
closed_at = "Close Date"
[sources.stages]
"Closed Won" = "won"
"Closed Lost" = "lost"

[alerts]
webhook_url_env = "{WEBHOOK_ENV}"

[monitoring]
windows = ["7d"]
metrics = ["win_rate"]
dimensions = []
"""


def _week(last_day: date, won: int) -> list[tuple[date, bool]]:
    """28 closes over the 7 days ending on last_day, 4 a day; the first `won` are won."""
    closes = [last_day - timedelta(days=6 - i // 4) for i in range(28)]
    return [(day, i < won) for i, day in enumerate(closes)]


def _write_export(root: Path, weeks: list[list[tuple[date, bool]]]) -> None:
    lines = ["Deal ID,Stage,Amount,Created Date,Close Date"]
    closes = [c for week in weeks for c in week]
    for i, (day, won) in enumerate(closes, 1):
        closed = datetime.combine(day, time(15))
        lines.append(
            f"D-{i:04d},{'Closed Won' if won else 'Closed Lost'},1000,"
            f"{closed - timedelta(days=14):%Y-%m-%d %H:%M:%S},{closed:%Y-%m-%d %H:%M:%S}"
        )
    (root / "export").mkdir(parents=True, exist_ok=True)
    (root / "export" / "deals.csv").write_text("\n".join(lines) + "\n")


def test_a_falling_win_rate_is_sent_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "funnel.toml"
    config.write_text(CONFIG)
    steady = [_week(FIRST - timedelta(days=7 * k), won=14) for k in reversed(range(5))]
    _write_export(tmp_path, steady)
    state = tmp_path / "warehouse" / "funnel.state.duckdb"
    wh = tmp_path / "warehouse" / "funnel.duckdb"
    with webhook() as hook:
        monkeypatch.setenv(WEBHOOK_ENV, hook.url)
        nightly(config_path=str(config), as_of=FIRST)
        assert hook.posts == []  # 50 % against 50 %: nothing to say
        _write_export(tmp_path, [*steady, _week(SECOND, won=3)])
        second = nightly(config_path=str(config), as_of=SECOND)
        assert query(wh, "select status, n from metric_checks") == [("alert", 28)]
        assert len(hook.posts) == 1
        nightly(config_path=str(config), as_of=SECOND)  # the same figures again
        assert len(hook.posts) == 1
    (text,) = hook.delivered
    assert text.splitlines()[:3] == [
        f"*funnel metrics*: 1 new breach (as of {SECOND})",
        f"run id: `{second.run_id}`",
        "• ALERT win_rate (all, 7d): 10.7% against a baseline of 50.0%, n 28, z -3.8",
    ]
    assert "failed" not in text and "quarantined" not in text  # no run alert mixed in
    assert query(state, "select metric, status, run_id from state_metric_alerts") == [
        ("win_rate", "alert", second.run_id)
    ]
    assert query(state, "select sum(alerts_sent) from log_pipeline_runs") == [(0,)]
