"""The shared HTTP helper against a local server: paging-free calls, retries, auth errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from funnel.connectors.http import (
    ApiClient,
    ConnectorAuthError,
    ConnectorError,
    retry_after_seconds,
)
from tests.integration.crm_standins.server import Fault, MockApi, Request, Response

TOKEN = "tok-very-secret-123"


@pytest.fixture
def api() -> Iterator[MockApi]:
    server = MockApi(
        route=lambda r: Response(200, {"path": r.path, "q": r.query}),
        authorized=lambda r: r.headers.get("authorization") == f"Bearer {TOKEN}",
        denied={"message": "bad token"},
    ).start()
    yield server
    server.stop()


def client(api: MockApi, token: str = TOKEN, **kw: object) -> tuple[ApiClient, list[float]]:
    waits: list[float] = []
    c = ApiClient(
        source="crm",
        base_url=api.url,
        headers={"Authorization": f"Bearer {token}"},
        token_env="CRM_TOKEN",
        sleep=waits.append,
        **kw,  # type: ignore[arg-type]
    )
    return c, waits


def test_429_waits_as_retry_after_says_then_succeeds(api: MockApi) -> None:
    api.faults["/x"] = [Fault(429, {"Retry-After": "7"}), Fault(429, {"Retry-After": "2"})]
    c, waits = client(api)
    assert c.request("GET", "/x", params={"a": "1"}) == {"path": "/x", "q": {"a": "1"}}
    assert waits == [7.0, 2.0]
    assert len(api.requests_to("/x")) == 3


def test_5xx_backs_off_exponentially(api: MockApi) -> None:
    api.faults["/x"] = [Fault(500), Fault(502), Fault(503)]
    c, waits = client(api)
    assert c.request("GET", "/x")["path"] == "/x"
    assert waits == [1.0, 2.0, 4.0]


def test_timeout_is_retried(api: MockApi) -> None:
    api.faults["/slow"] = [Fault(delay=1.5)]
    c, waits = client(api, timeout=1.0)
    assert c.request("GET", "/slow")["path"] == "/slow"
    assert waits == [1.0]
    assert len(api.requests_to("/slow")) == 2


def test_gives_up_after_the_retries_with_a_clear_error(api: MockApi) -> None:
    api.broken["/down"] = Fault(500)
    c, waits = client(api, retries=2)
    with pytest.raises(ConnectorError) as e:
        c.request("GET", "/down")
    assert str(e.value) == "source 'crm': GET /down failed after 3 attempts: HTTP 500"
    assert waits == [1.0, 2.0]


@pytest.mark.parametrize("status", [401, 403])
def test_auth_error_names_the_source_and_variable_never_the_token(
    api: MockApi, status: int
) -> None:
    wrong = "wrong-secret-456"
    if status == 403:
        api.broken["/x"] = Fault(403)
    c, waits = client(api, token=wrong if status == 401 else TOKEN)
    with pytest.raises(ConnectorAuthError) as e:
        c.request("GET", "/x")
    message = str(e.value)
    assert message == (
        f"source 'crm': GET /x was refused with HTTP {status}: check the token in $CRM_TOKEN"
        " (its value is not shown)"
    )
    assert wrong not in message and TOKEN not in message
    assert e.value.exit_code == 2
    assert waits == []  # never retried


def test_other_4xx_is_not_retried(api: MockApi) -> None:
    api.broken["/x"] = Fault(400)
    c, waits = client(api)
    with pytest.raises(ConnectorError, match=r"GET /x answered HTTP 400"):
        c.request("GET", "/x")
    assert waits == [] and len(api.log) == 1


def test_retry_after_forms() -> None:
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds("0") == 0.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_request_log_has_paths_only(api: MockApi) -> None:
    c, _ = client(api)
    c.request("GET", f"{api.url}/next?cursor=abc")
    assert c.calls == [("GET", "/next?cursor=abc")]
    assert isinstance(api.log[0], Request)
