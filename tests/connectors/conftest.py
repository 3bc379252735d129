"""Local CRM API servers on 127.0.0.1 (port 0), started and stopped per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.connectors import mock_hubspot, mock_pipedrive, mock_salesforce
from tests.connectors.records import deals
from tests.connectors.server import MockApi


def _serve(api: MockApi) -> Iterator[MockApi]:
    api.start()
    try:
        yield api
    finally:
        api.stop()


@pytest.fixture
def hubspot_api() -> Iterator[mock_hubspot.HubSpotApi]:
    yield from _serve(mock_hubspot.HubSpotApi(deals()))  # type: ignore[misc]


@pytest.fixture
def pipedrive_api() -> Iterator[mock_pipedrive.PipedriveApi]:
    yield from _serve(mock_pipedrive.PipedriveApi(deals()))  # type: ignore[misc]


@pytest.fixture
def salesforce_api() -> Iterator[mock_salesforce.SalesforceApi]:
    yield from _serve(mock_salesforce.SalesforceApi(deals()))  # type: ignore[misc]
