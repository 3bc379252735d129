"""Every `format` a source may name, and whether a (format, entity) pair is usable."""

from __future__ import annotations

from funnel.connectors import ecb, hubspot, pipedrive, salesforce
from funnel.connectors.base import Connector

_CSV = Connector(format="csv", presets={})

#: Every `format` a source may name.
FORMATS: dict[str, Connector] = {
    c.format: c
    for c in (
        _CSV,
        salesforce.EXPORT,
        salesforce.API,
        hubspot.EXPORT,
        hubspot.API,
        pipedrive.EXPORT,
        pipedrive.API,
        ecb.EXPORT,
    )
}


def is_api(fmt: str) -> bool:
    """True for a format that pulls over HTTP instead of reading files."""
    connector = FORMATS.get(fmt)
    return connector is not None and connector.is_api


def check_source(fmt: str, entity: str) -> str | None:
    """Why a (format, entity) pair is not usable, or None when it is (for the config check)."""
    connector = FORMATS.get(fmt)
    if connector is None:
        return f"unknown format {fmt!r}; known formats: {', '.join(FORMATS)}"
    if connector.format != "csv" and entity not in connector.presets:
        return (
            f"format {fmt!r} does not provide {entity}; it provides: "
            f"{', '.join(connector.entities)}"
        )
    return None
