"""Slack-compatible webhook alerts: POST {"text": ...}; delivery retries, never raises."""

from __future__ import annotations

import logging
import os

import requests
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from funnel.config import AlertsConfig

log = logging.getLogger(__name__)


def webhook_url(alerts: AlertsConfig) -> str | None:
    """The webhook URL from the environment variable the config names (None: alerts off)."""
    if not alerts.webhook_url_env:
        return None
    return os.environ.get(alerts.webhook_url_env) or None


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
    """Post the alert; True when delivered. A dead webhook is logged, never raised."""
    url = webhook_url(alerts)
    if url is None:
        log.info("alert not sent: no webhook configured (alerts.webhook_url_env)")
        return False
    try:
        _post(url, text, timeout)
    except requests.RequestException as e:
        # The URL is a secret: name the variable, never the value.
        log.warning("alert not delivered to $%s: %s", alerts.webhook_url_env, type(e).__name__)
        return False
    return True
