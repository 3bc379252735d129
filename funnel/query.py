"""Read-only SQL on the published warehouse or the state file, for `funnel sql`."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from funnel.errors import ConfigError, FunnelError


@dataclass(frozen=True)
class Result:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def run_query(path: Path, sql: str) -> Result:
    """The rows of one query on a DuckDB file opened read-only (a run is never blocked).

    A missing file or a query DuckDB rejects is the user's to fix (ConfigError, exit 2); a file
    a running pipeline holds is reported as such (FunnelError, exit 1)."""
    if not path.is_file():
        raise ConfigError(f"{path} does not exist yet: publish it with `funnel run`")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException as e:
        raise FunnelError(f"{path} is held by a running pipeline; try again when it ends") from e
    try:
        cursor = con.execute(sql)
        columns = [d[0] for d in cursor.description or []]
        return Result(columns, cursor.fetchall())
    except duckdb.Error as e:
        raise ConfigError(f"the query failed on {path}: {e}") from e
    finally:
        con.close()


def text(value: Any) -> str:
    """A value as plain text: NULL as an empty string, everything else as DuckDB prints it."""
    return "" if value is None else str(value)


def plain_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest value, nothing cut: for pipes and logs, not terminals."""
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(header)]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip()
        for line in [header, *rows]
    )


def as_csv(result: Result) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(result.columns)
    writer.writerows([text(v) for v in row] for row in result.rows)
    return buffer.getvalue()


def as_json(result: Result) -> str:
    """One JSON array of objects; dates, times and decimals as text."""
    records = [dict(zip(result.columns, row, strict=True)) for row in result.rows]
    return json.dumps(records, default=str, ensure_ascii=False)
