"""The one HTTP helper every CRM connector uses: session, timeouts, retries, clear auth errors.

Every call has a timeout. 429 and 5xx answers, timeouts and dropped connections are retried
with exponential backoff; a 429 or 503 that says `Retry-After` is waited out as asked. A 401 or
403 is a `ConnectorAuthError` naming the source and the environment variable, never the token.
Error messages carry the endpoint path only (no host, no query string).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from funnel.errors import ConfigError, FunnelError

#: The longest wait a Retry-After header may ask for before we give up waiting (seconds).
MAX_RETRY_AFTER = 120.0
#: The longest backoff between retries without Retry-After (seconds).
BACKOFF_MAX = 30.0


class ConnectorError(FunnelError):
    """An API pull failed (after retries); nothing of it is loaded. Exit 1."""


class ConnectorAuthError(ConfigError):
    """The API refused the token (401/403): the config's credentials are wrong. Exit 2."""


class _Retryable(Exception):
    """A transient failure worth another try; `retry_after` is the server's own wait, if any."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header as seconds: delta-seconds or an HTTP date; None when absent/bad."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass
class ApiClient:
    """A requests session bound to one source: base URL, auth headers, timeout, retries."""

    source: str
    base_url: str
    #: Auth headers: they hold the token, so they never show in a repr.
    headers: Mapping[str, str] = field(repr=False)
    token_env: str
    timeout: float = 30.0
    retries: int = 5
    #: The first wait between retries without Retry-After; it doubles each time.
    backoff: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    #: Every request made, as (method, path with query) - for logs and tests; never the token.
    calls: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.session = requests.Session()
        self.session.headers.update(self.headers)
        self.session.headers["Accept"] = "application/json"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def url(self, path: str) -> str:
        """An absolute URL for an endpoint path (or a next-page URL the API returned)."""
        return urljoin(self.base_url.rstrip("/") + "/", path.lstrip("/"))

    def _wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, _Retryable) and error.retry_after is not None:
            return min(error.retry_after, MAX_RETRY_AFTER)
        return min(self.backoff * 2 ** (state.attempt_number - 1), BACKOFF_MAX)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """One API call, retried on 429/5xx/timeouts; the decoded JSON body."""
        url = self.url(path)
        endpoint = urlsplit(url).path
        retrying = Retrying(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_after_attempt(self.retries + 1),
            wait=self._wait,
            sleep=self.sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._once(method, url, endpoint, params, json)
        except _Retryable as e:
            raise ConnectorError(
                f"source {self.source!r}: {method} {endpoint} failed after "
                f"{self.retries + 1} attempts: {e}"
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(
        self,
        method: str,
        url: str,
        endpoint: str,
        params: Mapping[str, Any] | None,
        json: Any,
    ) -> Any:
        query = urlsplit(url).query
        self.calls.append((method, endpoint + (f"?{query}" if query else "")))
        try:
            response = self.session.request(
                method, url, params=params, json=json, timeout=self.timeout
            )
        except (requests.Timeout, requests.ConnectionError) as e:
            raise _Retryable(f"{type(e).__name__} (timeout {self.timeout:g} s)") from None
        except requests.RequestException as e:
            raise ConnectorError(
                f"source {self.source!r}: {method} {endpoint}: {type(e).__name__}"
            ) from None
        status = response.status_code
        if status in (401, 403):
            raise ConnectorAuthError(
                f"source {self.source!r}: {method} {endpoint} was refused with HTTP {status}: "
                f"check the token in ${self.token_env} (its value is not shown)"
            )
        if status == 429 or status >= 500:
            raise _Retryable(
                f"HTTP {status}", retry_after_seconds(response.headers.get("Retry-After"))
            )
        if status >= 400:
            raise ConnectorError(
                f"source {self.source!r}: {method} {endpoint} answered HTTP {status}: "
                f"{response.text[:300]}"
            )
        try:
            return response.json()
        except ValueError:
            raise ConnectorError(
                f"source {self.source!r}: {method} {endpoint} did not answer JSON"
            ) from None
