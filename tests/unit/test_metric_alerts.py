"""Metric alerts: each breach sent once until it recovers, one recovery, nothing when nothing
changed; a real state file, a real warehouse file and a webhook receiver on 127.0.0.1."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from funnel import metric_alerts
from funnel.config import FunnelConfig, SourceConfig
from funnel.metric_alerts import Check, plan
from tests.integration.ops_helpers import WEBHOOK_ENV, query, webhook

DAY = date(2026, 10, 31)


def _check(status: str, value: float = 0.1, metric: str = "win_rate", owner: str = "") -> Check:
    dimension, dimension_value = ("owner", owner) if owner else ("all", "(all)")
    return Check("28d", metric, dimension, dimension_value, None, status, value, 0.3, 200, -5.77)


def test_plan_new_open_escalated_and_recovered() -> None:
    first = plan([], [_check("alert"), _check("ok", owner="ann"), _check("warn", owner="bob")])
    assert [(c.dimension_value, c.status) for c in first.new] == [
        ("(all)", "alert"),
        ("bob", "warn"),
    ]
    assert (first.recovered, first.still_open) == ([], 0)
    # the same figures again: nothing new; bob's warning becomes an alert: new again
    same = plan(first.new, [_check("alert"), _check("warn", owner="bob")])
    assert same.empty and same.still_open == 2
    worse = plan(first.new, [_check("alert"), _check("alert", owner="bob")])
    assert [c.dimension_value for c in worse.new] == ["bob"]
    # the whole funnel is ok again: one recovery, with tonight's figure
    back = plan(first.new, [_check("ok", value=0.29), _check("warn", owner="bob")])
    assert back.new == [] and back.still_open == 1
    ((old, now),) = back.recovered
    assert (old.status, now.value if now else None) == ("alert", 0.29)


def test_message_names_metric_figures_and_n() -> None:
    text = metric_alerts.message(plan([], [_check("alert")]), DAY, "r1")
    assert text.splitlines()[:3] == [
        "*funnel metrics*: 1 new breach (as of 2026-10-31)",
        "run id: `r1`",
        "• ALERT win_rate (all, 28d): 10.0% against a baseline of 30.0%, n 200, z -5.8",
    ]
    money = Check("7d", "created_amount", "source", "web", "EUR", "warn", 900, 1000, 30, -2.5)
    assert "created_amount (source web, 7d): 900 EUR against a baseline of 1,000 EUR, n 30" in (
        metric_alerts.message(plan([], [money]), DAY, "r1")
    )


def _warehouse(path: Path, checks: list[Check], muted: bool = False) -> None:
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute(
            "create table metric_checks (trailing_window varchar, metric varchar,"
            " dimension varchar, dimension_value varchar, currency varchar, status varchar,"
            " value double, baseline double, n bigint, z double, is_muted boolean)"
        )
        for c in checks:
            con.execute(
                "insert into metric_checks values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [*c.key[:4], c.currency, c.status, c.value, c.baseline, c.n, c.z, muted],
            )


@pytest.fixture
def config(tmp_path: Path) -> FunnelConfig:
    source = SourceConfig(name="deals", entity="opportunities", path="deals.csv")
    return FunnelConfig.model_validate(
        {
            "sources": [source.model_dump(exclude_unset=True)],
            "warehouse": {"path": str(tmp_path / "funnel.duckdb")},
            "alerts": {"webhook_url_env": WEBHOOK_ENV},
        }
    )


def test_each_breach_once_then_one_recovery(
    config: FunnelConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    nights = [
        [_check("alert")],  # breach: sent
        [_check("alert", value=0.11)],  # still breached: nothing
        [_check("ok", value=0.28)],  # recovered: one notice
        [_check("ok", value=0.29)],  # nothing
    ]
    with webhook() as hook:
        monkeypatch.setenv(WEBHOOK_ENV, hook.url)
        sent = []
        for i, checks in enumerate(nights):
            _warehouse(config.warehouse_path, checks)
            sent.append(metric_alerts.send(config, f"r{i}", DAY))
    assert sent == [True, False, True, False]
    first, second = hook.delivered
    assert "• ALERT win_rate (all, 28d): 10.0% against a baseline of 30.0%, n 200" in first
    assert second.startswith("*funnel metrics*: 1 recovered")
    assert "• recovered win_rate (all, 28d): now 28.0% against 30.0%, n 200 (was 10.0%)" in second
    assert query(config.state_path, "select count(*) from state_metric_alerts") == [(0,)]


def test_a_muted_breach_is_never_sent(
    config: FunnelConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    _warehouse(config.warehouse_path, [_check("alert")], muted=True)
    with webhook() as hook:
        monkeypatch.setenv(WEBHOOK_ENV, hook.url)
        assert metric_alerts.send(config, "r0", DAY) is False
    assert hook.posts == []


def test_a_dead_webhook_forgets_nothing(
    config: FunnelConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    _warehouse(config.warehouse_path, [_check("alert")])
    with webhook(codes=[500, 500, 500]) as hook:
        monkeypatch.setenv(WEBHOOK_ENV, hook.url)
        assert metric_alerts.send(config, "r0", DAY) is False  # retried 3 times, then given up
        assert len(hook.posts) == 3
        assert metric_alerts.send(config, "r1", DAY) is True  # the next night sends it
    assert "run id: `r1`" in hook.delivered[0]
    assert query(config.state_path, "select run_id, status from state_metric_alerts") == [
        ("r1", "alert")
    ]


def test_off_without_the_switch_or_a_webhook(
    config: FunnelConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    _warehouse(config.warehouse_path, [_check("alert")])
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    assert metric_alerts.send(config, "r0", DAY) is False  # no webhook configured
    off = config.model_copy(
        update={"monitoring": config.monitoring.model_copy(update={"alerts": False})}
    )
    with webhook() as hook:
        monkeypatch.setenv(WEBHOOK_ENV, hook.url)
        assert metric_alerts.send(off, "r0", DAY) is False
    assert hook.posts == []
