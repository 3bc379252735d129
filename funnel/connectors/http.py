"""The one HTTP helper every CRM connector uses: session, timeouts, retries, clear auth errors.

Every call has a timeout. 429 and 5xx answers, timeouts and dropped connections are retried
with exponential backoff; a 429 or 503 that says `Retry-After` is waited out as asked. A 401 or
403 is a `ConnectorAuthError` naming the source and the environment variable, never the token.
Error messages carry the endpoint path only (no host, no query string), and an API's error
answer only as its status and a short, redacted reason (funnel.redact).

Credentials only go to the configured host: a redirect or a next-page URL to another host (or
scheme or port) is refused, never followed. Page loops are bounded (`PageGuard`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from funnel import redact
from funnel.errors import ConfigError, FunnelError

#: The longest wait a Retry-After header may ask for before we give up waiting (seconds).
MAX_RETRY_AFTER = 120.0
#: The longest backoff between retries without Retry-After (seconds).
BACKOFF_MAX = 30.0
#: Redirects within the configured host followed for one call, at most.
MAX_REDIRECTS = 5
#: The longest reason kept from an API's error answer (characters, after redaction).
REASON_CHARS = 120
#: Pages one paged listing may take by default (`[[sources]] max_pages`).
MAX_PAGES = 10_000


class ConnectorError(FunnelError):
    """An API pull failed (after retries); nothing of it is loaded. Exit 1."""


class ConnectorAuthError(ConfigError):
    """The API refused the token (401/403): the config's credentials are wrong. Exit 2."""


class _Retryable(Exception):
    """A transient failure worth another try; `retry_after` is the server's own wait, if any."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, the port filled in for http and https."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def error_reason(response: requests.Response) -> str:
    """A short, redacted reason from an API's error answer: the message field of a JSON body
    (`message`, `error_description`, `error`, ...), else its first line of text."""
    text = response.text or ""
    reason = ""
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    items = body if isinstance(body, list) else [body]
    for item in items:
        if isinstance(item, dict):
            for key in ("message", "error_description", "error", "errorCode", "category"):
                value = item.get(key)
                if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                    reason = str(value)
                    break
        if reason:
            break
    if not reason and body is None:
        reason = text.strip().splitlines()[0] if text.strip() else ""
    reason = redact.redact(" ".join(reason.split()))
    return reason[:REASON_CHARS] + ("..." if len(reason) > REASON_CHARS else "")


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
    #: Pages one paged listing may take (PageGuard).
    max_pages: int = MAX_PAGES
    #: Every request made, as (method, path with query) - for logs and tests; never the token.
    calls: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for value in self.headers.values():
            redact.register(value)  # the credentials, masked wherever text leaves the run
            redact.register(value.split(" ", 1)[-1])  # "Bearer x": x alone too
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
        """An absolute URL for an endpoint path (or a next-page URL the API returned); a URL on
        another host, scheme or port than `base_url` is refused (the credentials go along)."""
        base = self.base_url.rstrip("/") + "/"
        url = urljoin(base, path if "://" in path else path.lstrip("/"))
        self._same_origin(url, "a next-page URL points")
        return url

    def _same_origin(self, url: str, what: str) -> None:
        if origin(url) != origin(self.base_url):
            scheme, host, port = origin(url)
            raise ConnectorError(
                f"source {self.source!r}: {what} to another host ({scheme}://{host}:{port});"
                f" refused, so the credentials are not sent there (base_url is"
                f" {'://'.join(origin(self.base_url)[:2])})"
            )

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
        response = self._send(method, url, endpoint, params, json)
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
            reason = error_reason(response)
            raise ConnectorError(
                f"source {self.source!r}: {method} {endpoint} answered HTTP {status}"
                + (f": {reason}" if reason else "")
            )
        try:
            return response.json()
        except ValueError:
            raise ConnectorError(
                f"source {self.source!r}: {method} {endpoint} did not answer JSON"
            ) from None

    def _send(
        self,
        method: str,
        url: str,
        endpoint: str,
        params: Mapping[str, Any] | None,
        json: Any,
    ) -> requests.Response:
        """One request, following redirects by hand within the configured host only (requests
        would resend a custom auth header such as Pipedrive's to any host)."""
        for _ in range(MAX_REDIRECTS + 1):
            query = urlsplit(url).query
            self.calls.append((method, urlsplit(url).path + (f"?{query}" if query else "")))
            try:
                response = self.session.request(
                    method, url, params=params, json=json, timeout=self.timeout,
                    allow_redirects=False,
                )  # fmt: skip
            except (requests.Timeout, requests.ConnectionError) as e:
                raise _Retryable(f"{type(e).__name__} (timeout {self.timeout:g} s)") from None
            except requests.RequestException as e:
                raise ConnectorError(
                    f"source {self.source!r}: {method} {endpoint}: {type(e).__name__}"
                ) from None
            if not response.is_redirect:
                return response
            url = urljoin(url, response.headers.get("Location", ""))
            self._same_origin(
                url, f"{method} {endpoint} answered HTTP {response.status_code}, a redirect"
            )
            params = None  # the Location names the whole URL
            if response.status_code == 303:
                method, json = "GET", None
        raise ConnectorError(
            f"source {self.source!r}: {method} {endpoint}: more than {MAX_REDIRECTS} redirects"
        )


class PageGuard:
    """Bounds one paged listing: a cursor seen before, an empty page that still names a next
    page, or more than `max_pages` pages is a ConnectorError naming the source (an API that
    pages forever never holds a run)."""

    def __init__(self, client: ApiClient, listing: str) -> None:
        self.client, self.listing = client, listing
        self.pages = 0
        self.seen: set[Hashable] = set()

    def next(self, cursor: Hashable, page_rows: int) -> None:
        """Check the cursor of the page after one that held `page_rows` rows."""
        self.pages += 1
        source = self.client.source
        if page_rows == 0:
            self._fail("an empty page still names a next page")
        if cursor in self.seen:
            self._fail(f"the next-page cursor {str(cursor)[:40]!r} came before")
        if self.pages >= self.client.max_pages:
            raise ConnectorError(
                f"source {source!r}: {self.listing}: more than {self.client.max_pages:,} pages;"
                f" stopped (raise sources[{source}].max_pages if the source is that large)"
            )
        self.seen.add(cursor)

    def _fail(self, why: str) -> None:
        raise ConnectorError(
            f"source {self.client.source!r}: {self.listing}: {why} after {self.pages:,}"
            " page(s); stopped (the API would page forever)"
        )
