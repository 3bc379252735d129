"""Pulling an API source (`salesforce_api`, `hubspot_api`, `pipedrive_api`) into an Extract."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import polars as pl

from funnel.config import SourceConfig
from funnel.connectors.base import text_frame
from funnel.connectors.http import ApiClient
from funnel.connectors.registry import FORMATS
from funnel.errors import ConfigError
from funnel.extract import REJECT_SCHEMA, Extract


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


def extract_api(
    source: SourceConfig,
    watermark: str | None,
    sleep: Callable[[float], None] = time.sleep,
) -> Extract:
    """Pull one API source into an Extract (a full pull when `watermark` is None)."""
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
        pulled = connector.pull(client, source.entity, watermark)
    rows = text_frame(pulled.records, pulled.fields)
    rows = rows.with_row_index("_rid").with_columns(
        pl.col("_rid").cast(pl.Int64),
        pl.lit(pulled.endpoint).alias("_file"),
        (pl.col("_rid").cast(pl.Int64) + 1).alias("_line"),
    )
    return Extract(
        source=source.name,
        rows=rows,
        rejects=pl.DataFrame(schema=REJECT_SCHEMA),
        files=(pulled.endpoint,),
        watermark=pulled.watermark,
        incremental=pulled.incremental,
    )
