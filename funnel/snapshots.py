"""The pipeline's own daily snapshots: the tracked state of every lead and opportunity, kept as
changes only, so stage history accrues even from exports that only show the current state.

`state_snapshots` (in the state file) is append-only. A run that loads appends, in its load
transaction, one row per lead and opportunity whose tracked state differs from its latest
snapshot at or before the run's as-of day (a record seen for the first time included), and one
row with `present = false` per record that was present in that snapshot and is no longer loaded.
Everything is one set-based INSERT ... SELECT in DuckDB.

Backfill and re-runs: rows are keyed by their as-of day, and a model for day d reads the rows
with `as_of <= d` (per record and day, the row of the last load wins). A run writes snapshots
only when its as-of day is on or after the newest snapshot day already stored (the nightly
order, a backfill run oldest first, or a re-run of the newest day). A run for an earlier day
(re-running a past day after later days ran) writes none: today's export cannot tell that day's
state, and the days after it were recorded against the older state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from funnel.state import now

#: Fields whose change appends a snapshot row (besides presence). updated_at is stored with the
#: row but is not tracked: an edit of an untracked field alone writes nothing.
TRACKED = (
    "stage",
    "lead_id",
    "owner",
    "amount",
    "probability",
    "expected_close_date",
    "created_at",
    "closed_at",
    "forecast_category",
)

_COLUMNS = (
    "kind, id, present, stage, lead_id, owner, amount, probability, expected_close_date,"
    " is_open, created_at, closed_at, updated_at, forecast_category"
)

APPEND_SQL = f"""
insert into state_snapshots
with

loaded as materialized (

    select
        'lead' as kind,
        lead_id as id,
        true as present,
        stage,
        cast(null as varchar) as lead_id,
        owner,
        cast(null as double) as amount,
        cast(null as double) as probability,
        cast(null as date) as expected_close_date,
        coalesce(stage, 'prospecting') <> 'lost' as is_open,
        created_at,
        cast(null as timestamp) as closed_at,
        updated_at,
        cast(null as varchar) as forecast_category

    from raw_leads

    union all

    select
        'opportunity',
        opportunity_id,
        true,
        stage,
        lead_id,
        owner,
        amount,
        probability,
        expected_close_date,
        stage not in ('won', 'lost', 'post_sale'),
        created_at,
        closed_at,
        updated_at,
        forecast_category

    from raw_opportunities

),

latest as materialized (

    select {_COLUMNS}
    from state_snapshots
    where as_of <= $as_of
    qualify row_number() over (
        partition by kind, id order by as_of desc, load_seq desc
    ) = 1

),

changed as (

    select loaded.*
    from loaded
    left join latest
        on loaded.kind = latest.kind and loaded.id = latest.id
    where
        latest.id is null
        or not latest.present
        or {" or ".join(f"loaded.{c} is distinct from latest.{c}" for c in TRACKED)}

),

gone as (

    select
        latest.kind,
        latest.id,
        false as present,
        latest.* exclude (kind, id, present)
    from latest
    anti join loaded
        on latest.kind = loaded.kind and latest.id = loaded.id
    where latest.present

),

appended as (

    select * from changed
    union all
    select * from gone

)

select
    kind,
    id,
    $as_of as as_of,
    $load_seq as load_seq,
    $run_id as run_id,
    present,
    stage,
    lead_id,
    owner,
    amount,
    probability,
    expected_close_date,
    is_open,
    created_at,
    closed_at,
    updated_at,
    forecast_category
from appended
"""


@dataclass(frozen=True)
class Load:
    """One load of the state file: its order, run and as-of day."""

    load_seq: int
    run_id: str
    as_of: date


def last_load(con: duckdb.DuckDBPyConnection) -> Load | None:
    """The load whose rows the state file holds now (None before the first load)."""
    row = con.execute(
        "select load_seq, run_id, as_of from state_loads order by load_seq desc limit 1"
    ).fetchone()
    return None if row is None else Load(int(row[0]), str(row[1]), row[2])


def record_load(con: duckdb.DuckDBPyConnection, run_id: str, as_of: date) -> int:
    """Log the run's load and append its snapshot rows (changes only); returns rows appended.

    Call inside the load transaction, after the raw tables hold the run's rows.
    """
    (seq, newest) = con.execute(
        "select coalesce((select max(load_seq) from state_loads), 0) + 1,"
        " (select max(as_of) from state_snapshots)"
    ).fetchone() or (1, None)
    written = 0
    if newest is None or as_of >= newest:
        row = con.execute(
            APPEND_SQL, {"as_of": as_of, "load_seq": seq, "run_id": run_id}
        ).fetchone()
        written = int(row[0]) if row else 0
    con.execute(
        "insert into state_loads values (?, ?, ?, ?, ?)", [seq, run_id, as_of, now(), written]
    )
    return written
