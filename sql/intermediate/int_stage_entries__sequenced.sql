-- int_stage_entries__sequenced: every record's entries into stages in order, with the next
-- entry, including entries whose moment is unknown (entered_at NULL, always last).
-- grain: (record_id, stage, entered_at) (entered_at NULL at most once per record)
-- inputs: int_records__current, int_stage_history__mapped, int_stages__ranked
-- decisions:
--   Entries of a record come from three places (entry_source):
--     'stage_history'  the source's stage-history rows of the record, where it has any;
--     'lead_created'   a lead record enters 'prospecting' at the lead's created_at (for a record
--                      with history, only when that is before its first history row);
--     'record_state'   the record's current stage (int_records__current) at its best-known
--                      moment: for a record with history only when the history's last stage is
--                      not the current one (then at a moment strictly after the last history
--                      row, else unknown); for a record without history always (a moment before
--                      the lead was created is unknown).
--   Order: entered_at (unknown last), then funnel sort order, then the source order above.
--   Consecutive entries into the same stage collapse into the first, so the last entry is always
--   the record's current stage (record_stage).
--   exited_at = the next entry's entered_at (NULL while current or when the next moment is
--   unknown); days_in_stage = exited_at - entered_at in days (double), NULL when not exited.
--   direction: NULL while current; 'close' when the next stage is won or lost; 'forward' when
--   the next stage is further down the funnel (post_sale after won is forward); else 'back'
--   (lost counts as level 6, so a reopened lost deal moves back).
--   later_max_rank: the highest funnel_rank entered after this entry (lost has none);
--   advanced_later: later_max_rank is above the entry's own rank (lost counting as 6).
-- implementation: a record without stage history has at most two entries (lead_created, then
--   record_state), built without a window. The entries of records with history are sequenced
--   in one windowed pass over the uncollapsed rows: a run of one entry takes its exit from the
--   next row, a run of two or more from the run's last row (long_runs).

with

records as (

    select * from int_records__current

),

history as (

    select * from int_stage_history__mapped

),

stages as (

    select
        stage,
        sort_order,
        funnel_rank

    from int_stages__ranked

),

history_bounds as (

    select
        history.record_id,
        min(history.entered_at) as first_entered_at,
        max(history.entered_at) as last_entered_at,
        arg_max(
            history.stage, epoch_us(history.entered_at) * 16 + stages.sort_order
        ) as last_stage

    from history
    inner join stages
        on history.stage = stages.stage
    group by history.record_id

),

as_of as (

    select cast(getvariable('as_of') as date) as as_of_day

),

-- every record with its current stage's best-known moment, and its history bounds if any
record_states as (

    select
        records.*,
        history_bounds.record_id is not null as has_history,
        history_bounds.first_entered_at,
        history_bounds.last_stage,
        stages.sort_order,
        stages.funnel_rank,
        case
            when cast(records.current_entered_at as date) > as_of.as_of_day
                then null
            when history_bounds.last_entered_at is not null
                then case
                    when records.current_entered_at > history_bounds.last_entered_at
                        then records.current_entered_at
                end
            when records.lead_created_at is not null
                then case
                    when records.current_entered_at >= records.lead_created_at
                        then records.current_entered_at
                end
            else records.current_entered_at
        end as state_entered_at

    from records
    cross join as_of
    inner join stages
        on records.current_stage = stages.stage
    left join history_bounds
        on records.record_id = history_bounds.record_id

),

-- records with stage history ------------------------------------------------------------------

history_entries as (

    select
        record_id,
        lead_id,
        opportunity_id,
        stage,
        entered_at,
        'stage_history' as entry_source,
        0 as source_order

    from history

),

lead_created_entries as (

    select
        record_id,
        lead_id,
        cast(null as varchar) as opportunity_id,
        'prospecting' as stage,
        lead_created_at as entered_at,
        'lead_created' as entry_source,
        1 as source_order

    from record_states
    where has_history and record_type = 'lead' and lead_created_at < first_entered_at

),

record_state_entries as (

    select
        record_id,
        lead_id,
        opportunity_id,
        current_stage as stage,
        state_entered_at as entered_at,
        'record_state' as entry_source,
        2 as source_order

    from record_states
    -- only where the history does not already end in the current stage
    where has_history and current_stage <> last_stage

),

entries as (

    select * from history_entries
    union all
    select * from lead_created_entries
    union all
    select * from record_state_entries

),

keyed as (

    select
        entries.*,
        stages.sort_order,
        stages.funnel_rank,
        epoch_us(entries.entered_at) * 64 + stages.sort_order * 4 + entries.source_order
            as order_key

    from entries
    inner join stages
        on entries.stage = stages.stage

),

scanned as (

    select
        record_id,
        lead_id,
        opportunity_id,
        stage,
        sort_order,
        funnel_rank,
        entered_at,
        entry_source,
        row_number() over by_record as position,
        lag(stage) over by_record as previous_stage,
        lead(stage) over by_record as following_stage,
        lead(entered_at) over by_record as following_entered_at,
        lead(funnel_rank) over by_record as following_funnel_rank,
        max(funnel_rank) over (
            by_record rows between 1 following and unbounded following
        ) as later_max_rank,
        last_value(stage) over (
            by_record rows between unbounded preceding and unbounded following
        ) as record_stage

    from keyed
    window by_record as (partition by record_id order by order_key asc nulls last)

),

long_runs as (

    -- the first and the last row of every run of 2+ consecutive entries into one stage; the
    -- first takes its exit from the last
    select
        record_id,
        position,
        lead(following_stage) over by_run as run_next_stage,
        lead(following_entered_at) over by_run as run_exited_at,
        lead(following_funnel_rank) over by_run as run_next_funnel_rank

    from scanned
    where
        (stage is distinct from previous_stage and stage = following_stage)
        or (stage = previous_stage and stage is distinct from following_stage)
    window by_run as (partition by record_id order by position)

),

sequenced as (

    select
        scanned.record_id,
        scanned.lead_id,
        scanned.opportunity_id,
        scanned.stage,
        scanned.sort_order,
        scanned.funnel_rank,
        scanned.entered_at,
        scanned.entry_source,
        case
            when long_runs.position is null then scanned.following_stage
            else long_runs.run_next_stage
        end as next_stage,
        case
            when long_runs.position is null then scanned.following_funnel_rank
            else long_runs.run_next_funnel_rank
        end as next_funnel_rank,
        case
            when long_runs.position is null then scanned.following_entered_at
            else long_runs.run_exited_at
        end as exited_at,
        scanned.later_max_rank,
        scanned.record_stage

    from scanned
    left join long_runs
        on scanned.record_id = long_runs.record_id and scanned.position = long_runs.position
    where scanned.stage is distinct from scanned.previous_stage

),

-- records without stage history: a lead's 'prospecting' entry, then the current stage ----------

without_history as (

    select
        *,
        record_type = 'opportunity' or current_stage <> 'prospecting' as has_state_entry

    from record_states
    where not has_history

),

derived as (

    select
        record_id,
        lead_id,
        cast(null as varchar) as opportunity_id,
        'prospecting' as stage,
        1 as sort_order,
        1 as funnel_rank,
        lead_created_at as entered_at,
        'lead_created' as entry_source,
        case when has_state_entry then current_stage end as next_stage,
        case when has_state_entry then funnel_rank end as next_funnel_rank,
        case when has_state_entry then state_entered_at end as exited_at,
        case when has_state_entry then funnel_rank end as later_max_rank,
        current_stage as record_stage

    from without_history
    where record_type = 'lead'

    union all

    select
        record_id,
        lead_id,
        opportunity_id,
        current_stage,
        sort_order,
        funnel_rank,
        state_entered_at,
        'record_state',
        null,
        null,
        null,
        null,
        current_stage

    from without_history
    where has_state_entry

),

collapsed as (

    select * from sequenced
    union all
    select * from derived

),

final as (

    select
        -- keys
        record_id,
        lead_id,
        opportunity_id,

        -- the entry
        stage,
        sort_order,
        funnel_rank,
        entered_at,
        entry_source,

        -- the exit
        exited_at,
        next_stage,
        next_stage is null as is_current,
        date_diff('second', entered_at, exited_at) / 86400.0 as days_in_stage,
        case
            when next_stage is null then null
            when next_stage in ('won', 'lost') then 'close'
            when next_funnel_rank > coalesce(funnel_rank, 6) then 'forward'
            else 'back'
        end as direction,

        -- what came later
        later_max_rank,
        coalesce(later_max_rank > coalesce(funnel_rank, 6), false) as advanced_later,
        record_stage

    from collapsed

)

select * from final
