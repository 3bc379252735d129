"""The volume guard: a source whose loaded rows fall too far from its last published run.

A cut export (a file truncated to its header, an API that answered with nothing) reads as a
source with few rows, every one of them valid: no row check can see it. Compared with the
rows the same source loaded in the last published run (of an as-of day on or before this
one), a fall by more than `[validation] max_row_drop` (or the source's own `max_row_drop`)
blocks the run. A source whose rows are changes only tonight (an incremental API pull, a
`changes_only` export) is not compared: few rows are what it should bring.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date

import duckdb

from funnel.config import FunnelConfig
from funnel.quality.validate import EntityOutcome
from funnel.state import now

CHECK = "row_volume"

LAST_PUBLISHED_SQL = """
select s.rows_loaded, r.run_id
from log_run_sources as s
join log_pipeline_runs as r using (run_id)
where r.status = 'published' and s.source = ? and r.as_of <= ? and r.run_id <> ?
order by r.started_at desc, r.run_id desc
limit 1
"""


@dataclass(frozen=True)
class RowDrop:
    """One source's loaded rows against its last published run's."""

    source: str
    entity: str
    rows_loaded: int
    before: int
    before_run: str
    max_drop: float

    @property
    def drop(self) -> float:
        return 1 - self.rows_loaded / self.before if self.before else 0.0

    @property
    def blocking(self) -> bool:
        return self.drop > self.max_drop

    @property
    def message(self) -> str:
        return (
            f"{self.source}: {self.rows_loaded:,} rows loaded, {self.before:,} in the last"
            f" published run {self.before_run}: a drop of {self.drop:.1%}, above max_row_drop"
            f" {self.max_drop:.0%} (a cut export?). If the drop is real, set"
            f" max_row_drop = 1.0 for this source for one run."
        )


def row_drops(
    con: duckdb.DuckDBPyConnection,
    config: FunnelConfig,
    run_id: str,
    as_of: date,
    outcomes: Iterable[EntityOutcome],
    changes_only: Collection[str] = (),
) -> list[RowDrop]:
    """Every compared source's rows against its last published run (none the first time)."""
    limits = {s.name: s.max_row_drop for s in config.sources}
    out = []
    for outcome in outcomes:
        for s in outcome.sources:
            if s.source in changes_only:
                continue
            row = con.execute(LAST_PUBLISHED_SQL, [s.source, as_of, run_id]).fetchone()
            if row is None or not row[0]:
                continue
            limit = limits.get(s.source)
            out.append(
                RowDrop(
                    s.source,
                    s.entity,
                    s.rows_loaded,
                    int(row[0]),
                    str(row[1]),
                    config.validation.max_row_drop if limit is None else limit,
                )
            )
    return out


def record(con: duckdb.DuckDBPyConnection, run_id: str, drops: Iterable[RowDrop]) -> None:
    """One dq_results row per compared source: rows_checked the last run's rows, rows_failed
    the rows missing beyond those allowed to go (0 when it passed)."""
    stamp = now()
    for d in drops:
        missing = d.before - d.rows_loaded if d.blocking else 0
        con.execute(
            'insert into log_dq_results (run_id, source, entity, "check", column_name, severity,'
            " rows_checked, rows_failed, passed, checked_at, details)"
            " values (?, ?, ?, ?, null, 'error', ?, ?, ?, ?, ?)",
            [
                run_id, d.source, d.entity, CHECK, d.before, missing, not d.blocking, stamp,
                d.message if d.blocking else None,
            ],
        )  # fmt: skip
