"""Fixtures shared by the integration tests: the sample project, and the CRM API stand-ins on
127.0.0.1 (port 0, tests/integration/crm_standins/), started and stopped per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import copy_sample
from tests.integration.crm_standins import mock_hubspot, mock_pipedrive, mock_salesforce
from tests.integration.crm_standins.records import deals
from tests.integration.crm_standins.server import MockApi


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the default config and the bundled sample in a temp folder."""
    copy_sample(tmp_path)
    return tmp_path


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
