-- funnel_daily: how many records entered each stage on each day and how many sit in it.
-- grain: (day, stage) for the 8 canonical stages on every spine day
-- inputs: int_day_spine, int_stages__ranked, stage_transitions, leads, opportunities,
--   int_snapshots__record_states
-- decisions:
--   entered: distinct records with an entry into the stage dated that day (stage_transitions).
--   in_stage: records whose stage at the end of the day is this stage, from the entry intervals
--   (+1 on the entered date, -1 on the exited date; won and lost are never exited, so they
--   accumulate). On the as-of day it is the current stage of every record: leads.funnel_stage
--   of every lead plus the stage of every opportunity that stands alone (no loaded lead); this
--   also counts the records whose entry moment is unknown (a re-run of a past day without
--   snapshots of its own; with snapshots every entry is dated, see stage_transitions).
--   On a past day the pipeline's own snapshots cover (from the first snapshot day on), in_stage
--   is the stage each present record had in the snapshots as of that day - what that day's run
--   saw as the current state - so a later run or a rebuild gives the same number for that day.
--   The spine (int_day_spine) starts at the first snapshot day at the latest, so an export
--   without dates keeps a row for every night since its first run.
--   Before the first snapshot day it comes from the entry intervals; a record whose last dated
--   entry is followed by an undated one stays in the dated stage there (the move's moment is
--   unknown).

with

spine as (

    select day from int_day_spine

),

as_of as (

    select cast(getvariable('as_of') as date) as as_of_day

),

stages as (

    select
        stage,
        sort_order

    from int_stages__ranked

),

entries as (

    select
        record_id,
        stage,
        cast(entered_at as date) as entered_day,
        cast(exited_at as date) as exited_day

    from stage_transitions

),

entered as (

    select
        entered_day as day,
        stage,
        count(distinct record_id) as entered

    from entries
    group by entered_day, stage

),

moves as (

    select
        entered_day as day,
        stage,
        1 as delta

    from entries

    union all

    select
        exited_day as day,
        stage,
        -1 as delta

    from entries
    where exited_day is not null

),

deltas as (

    select
        day,
        stage,
        sum(delta) as delta

    from moves
    group by day, stage

),

snapshot_states as (

    select
        record_id,
        snapshot_day,
        present,
        stage,
        lag(present) over by_record as previous_present,
        lag(stage) over by_record as previous_stage

    from int_snapshots__record_states
    window by_record as (partition by record_id order by snapshot_day)

),

snapshot_moves as (

    select
        snapshot_day as day,
        stage,
        1 as delta

    from snapshot_states
    where
        present
        and (not coalesce(previous_present, false) or stage is distinct from previous_stage)

    union all

    select
        snapshot_day as day,
        previous_stage as stage,
        -1 as delta

    from snapshot_states
    where
        previous_present
        and (not present or stage is distinct from previous_stage)

),

snapshot_deltas as (

    select
        day,
        stage,
        sum(delta) as delta

    from snapshot_moves
    group by day, stage

),

first_snapshot as (

    select min(snapshot_day) as first_snapshot_day
    from int_snapshots__record_states

),

current_state as (

    select
        stage,
        count(*) as records

    from (
        select funnel_stage as stage from leads
        union all
        select stage from opportunities
        where not has_loaded_lead
    )
    group by stage

),

running as (

    select
        spine.day,
        stages.stage,
        stages.sort_order,
        coalesce(entered.entered, 0) as entered,
        sum(coalesce(deltas.delta, 0)) over (
            partition by stages.stage
            order by spine.day
            rows between unbounded preceding and current row
        ) as in_stage_from_entries,
        sum(coalesce(snapshot_deltas.delta, 0)) over (
            partition by stages.stage
            order by spine.day
            rows between unbounded preceding and current row
        ) as in_stage_from_snapshots

    from spine
    cross join stages
    left join entered
        on spine.day = entered.day and stages.stage = entered.stage
    left join deltas
        on spine.day = deltas.day and stages.stage = deltas.stage
    left join snapshot_deltas
        on spine.day = snapshot_deltas.day and stages.stage = snapshot_deltas.stage

),

final as (

    select
        running.day,
        running.stage,
        running.sort_order as stage_order,
        cast(running.entered as bigint) as entered,
        cast(
            case
                when running.day = as_of.as_of_day then coalesce(current_state.records, 0)
                when running.day >= first_snapshot.first_snapshot_day
                    then running.in_stage_from_snapshots
                else running.in_stage_from_entries
            end as bigint
        ) as in_stage

    from running
    cross join as_of
    cross join first_snapshot
    left join current_state
        on running.stage = current_state.stage

)

select * from final
order by day, stage_order
