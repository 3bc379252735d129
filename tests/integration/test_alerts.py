"""Alerts: one Slack-compatible POST per failed run, none for a clean one, never hiding the exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows.nightly import nightly
from funnel.errors import DataQualityError
from tests.conftest import REPO
from tests.integration.ops_helpers import DAYS, WEBHOOK_ENV, query, webhook, write_project

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]
AS_OF = DAYS[-1]


def _state(project: Path) -> Path:
    return project / "warehouse" / "funnel.state.duckdb"


def test_clean_run_sends_no_alert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_project(tmp_path)
    with webhook() as hook:
        monkeypatch.setenv(WEBHOOK_ENV, hook.url)
        summary = nightly(config_path=str(config), as_of=AS_OF)
    assert summary.status == "published"
    assert hook.posts == []
    assert query(_state(tmp_path), "select status, alerts_sent from log_pipeline_runs") == [
        ("published", 0)
    ]


def test_blocking_failure_sends_exactly_one_alert_naming_source_and_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_project(tmp_path, negative_amounts=3)
    with webhook() as hook:
        monkeypatch.setenv(WEBHOOK_ENV, hook.url)
        with pytest.raises(DataQualityError):
            nightly(config_path=str(config), as_of=AS_OF)
    assert len(hook.posts) == 1
    (text,) = hook.delivered
    ((run_id, alerts_sent),) = query(
        _state(tmp_path), "select run_id, alerts_sent from log_pipeline_runs"
    )
    assert alerts_sent == 1
    assert f"run id: `{run_id}`" in text
    assert "blocking data-quality gate failed" in text
    assert "crm_deals: 3 of 10 rows (30.0%) failed error checks" in text
    assert "• crm_deals: amount_not_negative (error) 3 of 10 rows" in text
    assert "crm_leads" in text  # the rows per source name every source
    # the ready-to-paste command, pasted into a shell, lists exactly the quarantined rows
    # (nothing was published: they are in the state file)
    lines = _pasted(text).splitlines()
    assert lines[0].split() == ["source", "source_file", "source_line", "reasons", "original_row"]
    assert [(r.split()[0], " ".join(r.split()[3:6])) for r in lines[1:]] == [
        ("crm_deals", "negative amount -12000.0"),
        ("crm_deals", "negative amount -8000.0"),
        ("crm_deals", "negative amount -15000.0"),
    ]


def _pasted(alert: str) -> str:
    """What the alert's paste-ready command prints when pasted into a shell."""
    command = alert.split("```", 1)[1].split("```", 1)[0]
    result = subprocess.run(
        command, shell=True, capture_output=True, text=True, timeout=120, cwd="/"
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_delivery_retries_until_the_webhook_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_project(tmp_path, negative_amounts=3)
    with webhook(codes=[500, 503]) as hook:
        monkeypatch.setenv(WEBHOOK_ENV, hook.url)
        with pytest.raises(DataQualityError):
            nightly(config_path=str(config), as_of=AS_OF)
    assert [p["_status"] for p in hook.posts] == [500, 503, 200]
    assert len({str(p["text"]) for p in hook.posts}) == 1  # the same message each time
    assert query(_state(tmp_path), "select alerts_sent from log_pipeline_runs") == [(1,)]


def test_warned_share_above_the_threshold_alerts_a_published_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_project(tmp_path, warn_share=0.0)
    leads = tmp_path / "export" / "leads.csv"
    leads.write_text(leads.read_text().replace("ada@acme.io", "ada-at-acme"))
    with webhook() as hook:
        monkeypatch.setenv(WEBHOOK_ENV, hook.url)
        summary = nightly(config_path=str(config), as_of=AS_OF)
    assert summary.status == "published"
    (text,) = hook.delivered
    assert text.startswith("*funnel published*: published with warnings above")
    assert "• crm_leads: email_format (warn) 1 of 11 rows" in text
    assert "from dq_quarantine where run_id" in text
    # the warned row was loaded, not quarantined: the pasted command lists no rows
    assert _pasted(text).split() == [
        "source",
        "source_file",
        "source_line",
        "reasons",
        "original_row",
    ]
    wh = tmp_path / "warehouse" / "funnel.duckdb"
    assert query(wh, "select run_id, alerts_sent from pipeline_runs") == [(summary.run_id, 1)]


def test_a_dead_webhook_never_hides_the_exit_code(tmp_path: Path) -> None:
    from prefect.settings import PREFECT_API_URL

    config = write_project(tmp_path, negative_amounts=3)
    with webhook() as hook:
        dead = hook.url  # the receiver is gone after the block: nothing listens on the port
    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PYTHONPATH": str(REPO),
        WEBHOOK_ENV: dead,
    }
    result = subprocess.run(
        [sys.executable, "-m", "funnel", "run", "--config", str(config), "--as-of", str(AS_OF)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 3, result.stderr
    assert f"alert not delivered to ${WEBHOOK_ENV}: ConnectionError" in result.stderr
    assert dead not in result.stderr + result.stdout  # the URL is a secret
    assert query(_state(tmp_path), "select status, alerts_sent from log_pipeline_runs") == [
        ("failed_dq", 0)
    ]


def test_the_webhook_url_may_come_from_a_prefect_secret_block(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.blocks.system import Secret

    config = write_project(tmp_path, negative_amounts=3)
    config.write_text(config.read_text() + 'webhook_secret_block = "funnel-test-webhook"\n')
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    with webhook() as hook:
        Secret(value=hook.url).save("funnel-test-webhook", overwrite=True)
        with pytest.raises(DataQualityError):
            nightly(config_path=str(config), as_of=AS_OF)
    assert len(hook.delivered) == 1
    assert "amount_not_negative (error) 3 of 10 rows" in hook.delivered[0]
