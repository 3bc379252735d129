-- int_snapshots__record_states: the stage of every funnel record on each day the pipeline's own
-- snapshots recorded a change of the record (its lead or any of its opportunities), up to the
-- as-of day, and the moment each stage run began.
-- grain: (record_id, snapshot_day)
-- inputs: stg_state_snapshots
-- decisions:
--   Snapshots up to the as-of day only; of several loads of one day the last one counts.
--   record_id: as in int_opportunities__linked, an opportunity belongs to its lead's record when
--   its (latest) lead_id names a lead the snapshots know, else it stands alone.
--   On each day the record's state is its lead's and opportunities' latest snapshots at or
--   before that day. stage = the stage of its current opportunity (the present one
--   created last; ties by the larger id), else the lead's stage, else 'prospecting'.
--   present: the lead (a lead record) or the opportunity (a record that stands alone) is loaded.
--   is_stage_start: the record is present and its stage differs from the stage on the previous
--   day it was present (its first present day included). Absence is no move: a record that
--   disappears and comes back in the same stage has no new entry.
--   entered_at and entry_source of a stage start:
--     first seen (is_first_seen): the moment int_records__current would give that state (won /
--       lost / post_sale opportunity: closed_at - or the close date a later snapshot of the same
--       stage run shows, when a past day's run had it hidden - else created_at; open
--       opportunity: created_at;
--       lead in prospecting: created_at; lead in a later stage: updated_at when not before
--       created_at): 'record_state'; when those timestamps give none (an export without
--       dates), the start of the first snapshot day: 'first_seen';
--     a change seen between two runs (previous present day p, this day d): the record's own
--       timestamp when its date lies in (p, d] - closed_at for a move to won or lost, else
--       updated_at, else created_at (a new opportunity) of the lead or opportunity that gives
--       the stage - else the start of day d (the first day the pipeline saw the new stage):
--       'snapshot'.
--   So every stage start is dated, a change is never dated on or before a day the pipeline
--   still saw the old stage, and later runs never move an entry they already dated (history
--   does not shift).

with

run_day as (

    select cast(getvariable('as_of') as date) as as_of_day

),

snapshots as (

    -- each row valid from its day until the record's next snapshot day; of several loads of one
    -- day the last one (the row whose next row, in day and load order, is of a later day)
    select
        stg_state_snapshots.*,
        coalesce(
            lead(stg_state_snapshots.snapshot_day) over by_record, date '9999-12-31'
        ) as valid_until

    from stg_state_snapshots
    cross join run_day
    where stg_state_snapshots.snapshot_day <= run_day.as_of_day
    window by_record as (
        partition by stg_state_snapshots.kind, stg_state_snapshots.id
        order by stg_state_snapshots.snapshot_day, stg_state_snapshots.load_seq
    )
    qualify valid_until <> stg_state_snapshots.snapshot_day

),

lead_snapshots as (

    select * from snapshots where kind = 'lead'

),

opportunity_snapshots as (

    select * from snapshots where kind = 'opportunity'

),

known_leads as (

    select distinct id as lead_id from lead_snapshots

),

opportunity_records as (

    select
        latest.id as opportunity_id,
        coalesce(known_leads.lead_id, latest.id) as record_id,
        known_leads.lead_id as record_lead_id

    from (
        select
            id,
            lead_id

        from opportunity_snapshots
        where valid_until = date '9999-12-31'  -- the latest snapshot of each opportunity
    ) as latest
    left join known_leads
        on latest.lead_id = known_leads.lead_id

),

record_days as (

    select distinct
        record_id,
        record_lead_id,
        snapshot_day

    from (
        select
            id as record_id,
            id as record_lead_id,
            snapshot_day

        from lead_snapshots

        union all

        select
            opportunity_records.record_id,
            opportunity_records.record_lead_id,
            opportunity_snapshots.snapshot_day

        from opportunity_snapshots
        inner join opportunity_records
            on opportunity_snapshots.id = opportunity_records.opportunity_id
    )

),

lead_states as (

    select
        record_days.record_id,
        record_days.snapshot_day,
        lead_snapshots.present,
        lead_snapshots.stage,
        lead_snapshots.created_at,
        lead_snapshots.updated_at

    from record_days
    inner join lead_snapshots
        on
            record_days.record_lead_id = lead_snapshots.id
            and record_days.snapshot_day >= lead_snapshots.snapshot_day
            and record_days.snapshot_day < lead_snapshots.valid_until

),

record_opportunity_days as (

    select
        record_days.record_id,
        record_days.snapshot_day,
        opportunity_records.opportunity_id

    from record_days
    inner join opportunity_records
        on record_days.record_id = opportunity_records.record_id

),

opportunity_states as (

    select
        record_opportunity_days.record_id,
        record_opportunity_days.snapshot_day,
        opportunity_snapshots.id as opportunity_id,
        opportunity_snapshots.stage,
        opportunity_snapshots.is_open,
        opportunity_snapshots.created_at,
        opportunity_snapshots.closed_at,
        opportunity_snapshots.updated_at

    from record_opportunity_days
    inner join opportunity_snapshots
        on
            record_opportunity_days.opportunity_id = opportunity_snapshots.id
            and record_opportunity_days.snapshot_day >= opportunity_snapshots.snapshot_day
            and record_opportunity_days.snapshot_day < opportunity_snapshots.valid_until
    where opportunity_snapshots.present
    qualify row_number() over (
        partition by record_opportunity_days.record_id, record_opportunity_days.snapshot_day
        order by opportunity_snapshots.created_at desc nulls last, opportunity_snapshots.id desc
    ) = 1

),

states as (

    select
        record_days.record_id,
        case when record_days.record_lead_id is null then 'opportunity' else 'lead' end
            as record_type,
        record_days.record_lead_id as lead_id,
        opportunity_states.opportunity_id,
        record_days.snapshot_day,
        case
            when record_days.record_lead_id is null
                then opportunity_states.opportunity_id is not null
            else coalesce(lead_states.present, false)
        end as present,
        coalesce(opportunity_states.stage, lead_states.stage, 'prospecting') as stage,
        case
            when opportunity_states.opportunity_id is not null
                then case
                    when not opportunity_states.is_open
                        then coalesce(opportunity_states.closed_at, opportunity_states.created_at)
                    else opportunity_states.created_at
                end
            when coalesce(lead_states.stage, 'prospecting') = 'prospecting'
                then lead_states.created_at
            when lead_states.updated_at >= lead_states.created_at
                then lead_states.updated_at
        end as first_seen_at,
        opportunity_states.closed_at,
        coalesce(not opportunity_states.is_open, false) as is_closed_opportunity,
        case
            when opportunity_states.opportunity_id is not null then opportunity_states.updated_at
            else lead_states.updated_at
        end as stage_updated_at,
        case
            when opportunity_states.opportunity_id is not null then opportunity_states.created_at
            else lead_states.created_at
        end as stage_created_at

    from record_days
    left join lead_states
        on
            record_days.record_id = lead_states.record_id
            and record_days.snapshot_day = lead_states.snapshot_day
    left join opportunity_states
        on
            record_days.record_id = opportunity_states.record_id
            and record_days.snapshot_day = opportunity_states.snapshot_day

),

present_days as (

    select
        record_id,
        snapshot_day,
        stage,
        closed_at,
        lag(stage) over by_record as previous_stage,
        lag(snapshot_day) over by_record as previous_day

    from states
    where present
    window by_record as (partition by record_id order by snapshot_day)

),

numbered as (

    select
        *,
        count(*) filter (where stage is distinct from previous_stage) over (
            partition by record_id
            order by snapshot_day
            rows between unbounded preceding and current row
        ) as stage_run

    from present_days

),

present_runs as (

    select
        *,
        -- a close date known later in the same stage run (hidden on a past day's backfill run)
        max(closed_at) over (partition by record_id, stage_run) as run_closed_at

    from numbered

),

final as (

    select
        -- keys
        states.record_id,
        states.record_type,
        states.lead_id,
        states.opportunity_id,
        states.snapshot_day,

        -- the state that day
        states.present,
        states.stage,

        -- a stage run starting that day
        coalesce(
            states.present and states.stage is distinct from present_runs.previous_stage,
            false
        ) as is_stage_start,
        states.present and present_runs.previous_day is null as is_first_seen,
        present_runs.previous_day as previous_present_day,
        case
            when not states.present
                or states.stage is not distinct from present_runs.previous_stage
                then null
            when present_runs.previous_day is null and states.is_closed_opportunity
                then coalesce(
                    states.closed_at,
                    present_runs.run_closed_at,
                    states.first_seen_at,
                    cast(states.snapshot_day as timestamp)
                )
            when present_runs.previous_day is null
                then coalesce(states.first_seen_at, cast(states.snapshot_day as timestamp))
            when
                states.stage in ('won', 'lost')
                and cast(states.closed_at as date) > present_runs.previous_day
                and cast(states.closed_at as date) <= states.snapshot_day
                then states.closed_at
            when
                cast(states.stage_updated_at as date) > present_runs.previous_day
                and cast(states.stage_updated_at as date) <= states.snapshot_day
                then states.stage_updated_at
            when
                cast(states.stage_created_at as date) > present_runs.previous_day
                and cast(states.stage_created_at as date) <= states.snapshot_day
                then states.stage_created_at
            else cast(states.snapshot_day as timestamp)
        end as entered_at,
        case
            when not states.present
                or states.stage is not distinct from present_runs.previous_stage
                then null
            when present_runs.previous_day is not null
                then 'snapshot'
            when
                states.first_seen_at is not null
                or (
                    states.is_closed_opportunity
                    and coalesce(states.closed_at, present_runs.run_closed_at) is not null
                )
                then 'record_state'
            else 'first_seen'
        end as entry_source

    from states
    left join present_runs
        on
            states.record_id = present_runs.record_id
            and states.snapshot_day = present_runs.snapshot_day

)

select * from final
