"""Attacks on the API pullers, each against local servers (issue 20, failures 1 and 6).

Credentials never leave the configured host: a Pipedrive 302 to another host and a Salesforce
`nextRecordsUrl` on another host are refused, and the other host (a second local server on
another port) never sees a request. An API error answer is reduced to its status and a short,
redacted reason. Page loops end: a HubSpot `after` cursor that repeats forever, a Pipedrive
`start` that does not move, a Salesforce `nextRecordsUrl` that comes back, an empty page that
names a next one and a listing longer than `max_pages` each stop with an error naming the
source. (The stand-ins stop paging after a few hundred requests, so before the guards these
tests fail instead of hanging.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest

from funnel import redact
from funnel.config import SourceConfig
from funnel.connectors.http import ConnectorError
from funnel.extract import extract_api
from tests.integration.crm_standins import mock_hubspot, mock_pipedrive, mock_salesforce
from tests.integration.crm_standins.records import deals
from tests.integration.crm_standins.server import MockApi, Request, Response

#: The stand-ins answer this many requests of a listing at most, then end it.
LOOP_LIMIT = 300


def _source(fmt: str, api: MockApi, env: str, **extra: object) -> SourceConfig:
    return SourceConfig.model_validate(
        {
            "name": "crm",
            "entity": "opportunities",
            "format": fmt,
            "token_env": env,
            "base_url": api.url,
            "timeout": 2.0,
            "retries": 0,
            **extra,
        }
    )


def _serve(api: MockApi) -> Iterator[MockApi]:
    api.start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def elsewhere() -> Iterator[MockApi]:
    """Another host (another port on 127.0.0.1 is another origin): it records what reaches it."""
    yield from _serve(
        MockApi(lambda r: Response(200, {}), lambda r: True, denied={})  # accepts anything
    )


def _carried_credentials(api: MockApi) -> list[Request]:
    return [r for r in api.log if "authorization" in r.headers or "x-api-token" in r.headers]


class RedirectingPipedrive(mock_pipedrive.PipedriveApi):
    """Pipedrive whose stages endpoint answers 302 to `target` + the path."""

    target = ""

    def route(self, request: Request) -> Response:
        if request.path == "/v1/stages":
            return Response(302, {}, {"Location": f"{self.target}/v1/stages?start=0"})
        return super().route(request)


def test_pipedrive_redirect_to_another_host_is_refused(
    elsewhere: MockApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = RedirectingPipedrive(deals())
    api.target = elsewhere.url
    monkeypatch.setenv("PD_TOKEN", mock_pipedrive.TOKEN)
    with api, pytest.raises(ConnectorError) as e:
        extract_api(_source("pipedrive_api", api, "PD_TOKEN"), None)
    message = str(e.value)
    assert "source 'crm'" in message and "redirect" in message and "another host" in message
    assert f"127.0.0.1:{elsewhere.server.server_port}" in message
    assert elsewhere.log == []  # the token's header never went there
    assert mock_pipedrive.TOKEN not in message


def test_a_redirect_within_the_host_is_followed(monkeypatch: pytest.MonkeyPatch) -> None:
    api = RedirectingPipedrive(deals())
    monkeypatch.setenv("PD_TOKEN", mock_pipedrive.TOKEN)
    with api:
        api.target = api.url
        original = mock_pipedrive.PipedriveApi.route

        def route(request: Request) -> Response:  # the stages now live under /v2
            if request.path == "/v2/stages":
                return original(api, Request("GET", "/v1/stages", request.query, None, {}))
            if request.path == "/v1/stages":
                return Response(302, {}, {"Location": f"/v2/stages?{urlencode(request.query)}"})
            return original(api, request)

        api.route = route  # type: ignore[method-assign]
        extract = extract_api(_source("pipedrive_api", api, "PD_TOKEN"), None)
    assert extract.rows.height == len(deals())
    assert [r.path for r in api.log[:2]] == ["/v1/stages", "/v2/stages"]


class ForeignNextSalesforce(mock_salesforce.SalesforceApi):
    """Salesforce whose first batch points `nextRecordsUrl` at another host."""

    target = ""

    def route(self, request: Request) -> Response:
        answer = super().route(request)
        if isinstance(answer.body, dict) and answer.body.get("nextRecordsUrl"):
            body = {**answer.body, "nextRecordsUrl": self.target + answer.body["nextRecordsUrl"]}
            return Response(answer.status, body, answer.headers)
        return answer


def test_salesforce_next_records_url_on_another_host_is_refused(
    elsewhere: MockApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = ForeignNextSalesforce(deals())
    api.target = elsewhere.url
    monkeypatch.setenv("SF_TOKEN", mock_salesforce.TOKEN)
    with api, pytest.raises(ConnectorError, match="source 'crm': a next-page URL points to"):
        extract_api(_source("salesforce_api", api, "SF_TOKEN"), None)
    assert _carried_credentials(elsewhere) == [] and elsewhere.log == []


class EchoingHubSpot(mock_hubspot.HubSpotApi):
    """HubSpot answering 400 with the request's credentials echoed in its body."""

    def route(self, request: Request) -> Response:
        echoed = request.headers.get("authorization", "")
        return Response(
            400,
            {
                "status": "error",
                "message": f"Invalid input JSON: request with authorization {echoed} rejected"
                + " because the filter is bad" * 20,
                "correlationId": "0f4e",
                "context": {"headers": dict(request.headers)},
            },
        )


def test_an_error_answer_becomes_status_and_a_short_redacted_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HS_TOKEN", mock_hubspot.TOKEN)
    with EchoingHubSpot(deals()) as api, pytest.raises(ConnectorError) as e:
        extract_api(_source("hubspot_api", api, "HS_TOKEN"), None)
    message = str(e.value)
    assert mock_hubspot.TOKEN not in message
    assert message.startswith(
        "source 'crm': GET /crm/v3/objects/deals answered HTTP 400: Invalid input JSON:"
        f" request with authorization {redact.MASK} rejected because"
    )
    assert len(message) < 250 and message.endswith("...")
    assert "correlationId" not in message and "context" not in message


# --- endless paging ---------------------------------------------------------------------------


class LoopingHubSpot(mock_hubspot.HubSpotApi):
    """HubSpot deals whose every page names the same `after` cursor (or a new one each time,
    `fresh`), for LOOP_LIMIT pages."""

    fresh = False

    def _page(self, items: list[dict[str, Any]], after: str | None) -> dict[str, Any]:
        served = len(self.requests_to("/crm/v3/objects/deals"))
        body: dict[str, Any] = {"results": items[:2]}
        if served < LOOP_LIMIT:
            cursor = str(served) if self.fresh else "MTAw"
            body["paging"] = {"next": {"after": cursor, "link": "?after=..."}}
        return body


def test_hubspot_after_cursor_that_repeats_stops_the_pull(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HS_TOKEN", mock_hubspot.TOKEN)
    with LoopingHubSpot(deals()) as api:
        with pytest.raises(ConnectorError) as e:
            extract_api(_source("hubspot_api", api, "HS_TOKEN"), None)
        served = len(api.requests_to("/crm/v3/objects/deals"))
    assert str(e.value) == (
        "source 'crm': GET /crm/v3/objects/deals: the next-page cursor 'MTAw' came before"
        " after 2 page(s); stopped (the API would page forever)"
    )
    assert served == 2


def test_a_listing_longer_than_max_pages_stops(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HS_TOKEN", mock_hubspot.TOKEN)
    api = LoopingHubSpot(deals())
    api.fresh = True
    with api:
        with pytest.raises(ConnectorError) as e:
            extract_api(_source("hubspot_api", api, "HS_TOKEN", max_pages=25), None)
        served = len(api.requests_to("/crm/v3/objects/deals"))
    assert str(e.value) == (
        "source 'crm': GET /crm/v3/objects/deals: more than 25 pages; stopped"
        " (raise sources[crm].max_pages if the source is that large)"
    )
    assert served == 25


class StuckPipedrive(mock_pipedrive.PipedriveApi):
    """Pipedrive deals: `more_items_in_collection` with the same `next_start` (or an empty page
    that still says there is more, `empty`), for LOOP_LIMIT pages."""

    empty = False

    def route(self, request: Request) -> Response:
        if request.path != "/v1/deals":
            return super().route(request)
        served = len(self.requests_to("/v1/deals"))
        more = served < LOOP_LIMIT
        data = [] if self.empty else [mock_pipedrive.deal_json(d) for d in self.deals[:2]]
        pagination = {"start": 0, "limit": 2, "more_items_in_collection": more, "next_start": 2}
        return Response(
            200, {"success": True, "data": data, "additional_data": {"pagination": pagination}}
        )


@pytest.mark.parametrize(
    ("empty", "why", "pages"),
    [
        (False, "the next-page cursor '2' came before after 2 page(s)", 2),
        (True, "an empty page still names a next page after 1 page(s)", 1),
    ],
)
def test_pipedrive_start_that_does_not_move_stops_the_pull(
    empty: bool, why: str, pages: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PD_TOKEN", mock_pipedrive.TOKEN)
    api = StuckPipedrive(deals())
    api.empty = empty
    with api:
        with pytest.raises(ConnectorError) as e:
            extract_api(_source("pipedrive_api", api, "PD_TOKEN"), None)
        served = len(api.requests_to("/v1/deals"))
    assert (
        str(e.value) == f"source 'crm': GET /v1/deals: {why}; stopped (the API would page forever)"
    )
    assert served == pages


class CirclingSalesforce(mock_salesforce.SalesforceApi):
    """Salesforce whose every batch points back at the same `nextRecordsUrl`."""

    def route(self, request: Request) -> Response:
        served = len(self.log)
        body = {"totalSize": 9, "done": served >= LOOP_LIMIT, "records": []}
        if served < LOOP_LIMIT:
            body["records"] = [mock_salesforce.opportunity(d) for d in self.deals[:1]]
            body["nextRecordsUrl"] = "/services/data/v60.0/query/01gAAA-2000"
        return Response(200, body)


def test_salesforce_next_records_url_that_comes_back_stops_the_pull(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SF_TOKEN", mock_salesforce.TOKEN)
    with CirclingSalesforce(deals()) as api:
        with pytest.raises(ConnectorError, match="came before after 2 page"):
            extract_api(_source("salesforce_api", api, "SF_TOKEN"), None)
        assert len(api.log) == 2
