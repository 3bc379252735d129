"""Slack-compatible webhook alerts: POST {"text": ...}; delivery retries, never raises."""

from __future__ import annotations

import logging
import os

import requests
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from funnel import redact, state
from funnel.config import AlertsConfig, FunnelConfig
from funnel.summary import RunSummary, alert_text

log = logging.getLogger(__name__)


def webhook_url(alerts: AlertsConfig) -> str | None:
    """The webhook URL: the config's environment variable, else its Prefect Secret block.

    None when neither is configured or set (alerts off).
    """
    if alerts.webhook_url_env and os.environ.get(alerts.webhook_url_env):
        url = os.environ[alerts.webhook_url_env]
        redact.register(url)
        return url
    if alerts.webhook_secret_block:
        from prefect.blocks.system import Secret

        value = Secret.load(alerts.webhook_secret_block).get()  # type: ignore[union-attr]
        redact.register(str(value) if value else None)
        return str(value) if value else None
    return None


def _where(alerts: AlertsConfig) -> str:
    """Where the URL comes from, for logs (never the URL itself: it is a secret)."""
    if alerts.webhook_url_env and os.environ.get(alerts.webhook_url_env):
        return f"${alerts.webhook_url_env}"
    return f"Secret block {alerts.webhook_secret_block!r}"


@retry(
    retry=retry_if_exception_type(requests.RequestException),
    stop=stop_after_attempt(3),
    wait=wait_exponential(multiplier=0.5, max=4),
    reraise=True,
)
def _post(url: str, text: str, timeout: float) -> None:
    response = requests.post(url, json={"text": text}, timeout=timeout)
    response.raise_for_status()


def send_alert(alerts: AlertsConfig, text: str, timeout: float = 5.0) -> bool:
    """Post the alert (redacted: funnel.redact); True when delivered. A dead webhook is logged,
    never raised."""
    try:
        url = webhook_url(alerts)
    except Exception as e:  # a missing block or an unreachable API must not fail the run
        log.warning("alert not sent: webhook secret unavailable: %s", type(e).__name__)
        return False
    if url is None:
        log.info("alert not sent: no webhook configured (alerts.webhook_url_env)")
        return False
    try:
        _post(url, redact.redact(text), timeout)
    except requests.RequestException as e:
        # The URL is a secret: name where it comes from, never the value.
        log.warning("alert not delivered to %s: %s", _where(alerts), type(e).__name__)
        return False
    return True


def alert_run(config: FunnelConfig, summary: RunSummary) -> bool:
    """Post the run's alert (its failed checks listed) and count it on the run when delivered."""
    with state.open_state(config.state_path) as con:
        failed = state.failed_checks(con, summary.run_id)
    sent = send_alert(config.alerts, alert_text(summary, config, failed))
    if sent:
        with state.open_state(config.state_path) as con:
            state.record_alert(con, summary.run_id)
    return sent
