-- int_snapshots__opportunity_dates: the dates the pipeline's own snapshots give an opportunity
-- whose export leaves them blank: the day it was first seen, and the moment a close was seen.
-- grain: opportunity_id (only opportunities without created_at, or closed without closed_at)
-- inputs: stg_opportunities, stg_state_snapshots
-- decisions:
--   Snapshots up to the as-of day only; of several loads of one day the last one counts; days
--   the opportunity was not loaded (present false) are skipped (absence is no move).
--   first_seen_date: its first snapshot day.
--   snapshot_closed_at: set when its current stage is closed (won, lost, post_sale) and the
--   snapshots saw it in another outcome before (open, or lost before won): the run of
--   consecutive snapshots in its current outcome (won and post_sale are one outcome) started
--   on day d after the previous snapshot on day p. It is the opportunity's updated_at on day d
--   when that lies in (p, d], else the start of day d - the rule int_snapshots__record_states
--   dates the stage entry by, so stage_transitions and the metrics agree. An opportunity first
--   seen already closed has no snapshot close (it closed before the pipeline saw it, nobody
--   knows when).
-- implementation: only the opportunities that need a date are read from the snapshots, so an
--   export that carries its dates costs next to nothing here.

with

as_of as (

    select cast(getvariable('as_of') as date) as as_of_day

),

candidates as (

    select
        opportunity_id,
        case
            when stage in ('won', 'post_sale') then 'won'
            when stage = 'lost' then 'lost'
            else 'open'
        end as outcome

    from stg_opportunities
    where
        created_at is null
        or (stage in ('won', 'lost', 'post_sale') and closed_at is null)

),

snapshots as (

    select
        stg_state_snapshots.id as opportunity_id,
        stg_state_snapshots.snapshot_day,
        stg_state_snapshots.updated_at,
        case
            when stg_state_snapshots.stage in ('won', 'post_sale') then 'won'
            when stg_state_snapshots.stage = 'lost' then 'lost'
            else 'open'
        end as outcome

    from stg_state_snapshots
    cross join as_of
    semi join candidates
        on stg_state_snapshots.id = candidates.opportunity_id
    where
        stg_state_snapshots.kind = 'opportunity'
        and stg_state_snapshots.snapshot_day <= as_of.as_of_day
    qualify
        row_number() over (
            partition by stg_state_snapshots.id, stg_state_snapshots.snapshot_day
            order by stg_state_snapshots.load_seq desc
        ) = 1
        and stg_state_snapshots.present

),

sequenced as (

    select
        *,
        lag(outcome) over by_opportunity as previous_outcome,
        lag(snapshot_day) over by_opportunity as previous_day,
        min(snapshot_day) over (partition by opportunity_id) as first_seen_date

    from snapshots
    window by_opportunity as (partition by opportunity_id order by snapshot_day)

),

-- the start of each opportunity's latest outcome run
latest_runs as (

    select
        opportunity_id,
        first_seen_date,
        outcome,
        previous_day,
        case
            when
                cast(updated_at as date) > previous_day
                and cast(updated_at as date) <= snapshot_day
                then updated_at
            else cast(snapshot_day as timestamp)
        end as seen_at

    from sequenced
    where outcome is distinct from previous_outcome
    qualify row_number() over (partition by opportunity_id order by snapshot_day desc) = 1

),

final as (

    select
        candidates.opportunity_id,
        latest_runs.first_seen_date,
        case
            when
                candidates.outcome <> 'open'
                and latest_runs.outcome = candidates.outcome
                and latest_runs.previous_day is not null
                then latest_runs.seen_at
        end as snapshot_closed_at

    from candidates
    inner join latest_runs
        on candidates.opportunity_id = latest_runs.opportunity_id

)

select * from final
