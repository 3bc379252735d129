"""One redaction for every text that leaves a run: errors, log lines, alerts and table text.

It knows every configured secret value (the API tokens the sources' `token_env` name, the alert
webhook URL), registered when the config is loaded or the secret is read, and it masks the
values of Authorization-like headers and parameters wherever they appear, registered or not.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

import polars as pl

MASK = "[redacted]"
#: Shorter values are not treated as secrets: masking every "abc" would garble the text, and no
#: real API token or webhook URL is this short.
MIN_SECRET_LENGTH = 8

#: `Authorization: Bearer x`, `"x-api-token": "x"`, `api_key=x`, `access_token=x` ...: the value.
_HEADER = re.compile(
    r"(?i)(\b(?:proxy-)?authorization|\bx-api-(?:token|key)|\bapi[_-]?(?:token|key)"
    r"|\baccess[_-]?token|\bclient[_-]?secret|\bpassword)"
    r"(\s*[\"']?\s*[:=]\s*[\"']?)"
    r"((?:bearer|basic|token|oauth)\s+)?"
    r"[^\s\"'&,;}]+"
)
#: A bearer credential on its own (`Bearer eyJ...`), wherever it stands.
_BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}")
#: Slack-compatible incoming webhook paths carry their secret in the URL itself.
_WEBHOOK = re.compile(r"(?i)(https?://hooks\.slack\.com/)\S+")

_lock = threading.Lock()
_secrets: set[str] = set()


def register(value: str | None) -> None:
    """Mask this value from now on (and its URL- and JSON-escaped spellings)."""
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    forms = {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
    with _lock:
        _secrets.update(f for f in forms if len(f) >= MIN_SECRET_LENGTH)


def secrets() -> list[str]:
    """The registered secret spellings, longest first (a secret containing another goes whole)."""
    with _lock:
        return sorted(_secrets, key=len, reverse=True)


def forget_all() -> None:
    """Drop every registered secret (tests)."""
    with _lock:
        _secrets.clear()


def redact(text: str) -> str:
    """`text` with every registered secret and every Authorization-like value masked."""
    if not text:
        return text
    for secret in secrets():
        if secret in text:
            text = text.replace(secret, MASK)
    text = _HEADER.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3) or ''}{MASK}", text)
    text = _BEARER.sub(f"Bearer {MASK}", text)
    return _WEBHOOK.sub(rf"\1{MASK}", text)


def redact_columns(frame: pl.DataFrame, columns: Iterable[str]) -> pl.DataFrame:
    """Registered secrets masked in those text columns (vectorised; nothing to do: no copy)."""
    found = secrets()
    names = [c for c in columns if c in frame.columns]
    if not found or not names or frame.is_empty():
        return frame
    hit = frame.select(
        pl.any_horizontal(pl.col(c).str.contains_any(found).fill_null(False) for c in names).any()
    ).item()
    if not hit:
        return frame
    return frame.with_columns(
        pl.col(c).str.replace_many(found, [MASK] * len(found)).alias(c) for c in names
    )


def _redacted(record: logging.LogRecord) -> logging.LogRecord:
    """The record with its message and traceback text redacted as it is made, so every handler
    (the terminal, Prefect's API log handler, files) only ever sees the masked text."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: left for logging's own error report
        return record
    record.msg, record.args = redact(message), None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def install_logging() -> None:
    """Pass every log record of this process through the redaction (once per process)."""
    make = logging.getLogRecordFactory()
    if getattr(make, "_funnel_redacts", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _redacted(make(*args, **kwargs))

    factory._funnel_redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
