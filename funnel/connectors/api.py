"""Pulling an API source (`salesforce_api`, `hubspot_api`, `pipedrive_api`): the token, the client,
the connector's puller. funnel.extract.extract_api turns what it pulled into an Extract."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from funnel.connectors.base import Pulled
from funnel.connectors.http import ApiClient
from funnel.connectors.registry import FORMATS
from funnel.errors import ConfigError

if TYPE_CHECKING:
    from funnel.config import SourceConfig


def api_token(source: SourceConfig) -> str:
    """The token from the environment variable the source names; ConfigError when unset."""
    assert source.token_env is not None
    token = os.environ.get(source.token_env, "")
    if not token:
        raise ConfigError(
            f"sources[{source.name}].token_env: environment variable ${source.token_env} "
            "is not set (it must hold the API token)"
        )
    return token


def pull_source(
    source: SourceConfig,
    watermark: str | None,
    sleep: Callable[[float], None] = time.sleep,
) -> Pulled:
    """Pull one API source's records (a full pull when `watermark` is None)."""
    connector = FORMATS[source.format]
    assert connector.pull is not None and connector.auth_headers is not None
    base_url = source.base_url or connector.default_base_url
    if not base_url:
        raise ConfigError(f"sources[{source.name}].base_url: required for {source.format}")
    with ApiClient(
        source=source.name,
        base_url=base_url,
        headers=connector.auth_headers(api_token(source)),
        token_env=source.token_env or "",
        timeout=source.timeout,
        retries=source.retries,
        backoff=source.backoff,
        sleep=sleep,
        max_pages=source.max_pages,
    ) as client:
        return connector.pull(client, source.entity, watermark)
