-- int_stage_entries__sequenced: every record's entries into stages in order, with the next
-- entry, including entries whose moment is unknown (entered_at NULL).
-- grain: (record_id, stage, entered_at) (entered_at NULL at most once per record)
-- inputs: int_records__current, int_stage_history__mapped, int_snapshots__record_states,
--   int_stages__ranked
-- decisions:
--   Entries of a record come from five places (entry_source), source history first:
--     'stage_history'  the source's stage-history rows of the record, where it has any;
--     'snapshot'       a stage change the pipeline's own snapshots saw between two runs
--                      (int_snapshots__record_states: at the record's own timestamp when it lies
--                      between the two runs' days, else at the start of the later run's day);
--                      for a record with stage history only changes dated after its last
--                      history row (the history is authoritative for its period, the snapshots
--                      fill in where it lags behind) or before its first;
--     'lead_created'   a lead record enters 'prospecting' at the lead's created_at, when that is
--                      before its first history or snapshot entry (or it has none);
--     'record_state'   the stage a record had when the snapshots first saw it, at the moment
--                      its timestamps give (int_records__current's rules applied to that first
--                      snapshot, so a later edit of updated_at never moves it); and the record's
--                      current stage when no earlier entry already ends in it (no snapshots, or
--                      a re-run of a past day whose export shows a later stage): at its
--                      best-known moment when that is after the record's last earlier entry,
--                      else unknown;
--     'first_seen'     the stage a record had when the snapshots first saw it, when its
--                      timestamps give no moment (an export without dates): at the start of
--                      its first snapshot day (it was in the stage by then); with stage history,
--                      kept, as snapshot entries are, when before its first row or after its
--                      last.
--   A record's last snapshot stage run, when it is the current stage, is the record's current
--   entry (its moment and source come from the snapshot), unless it precedes the record's stage
--   history (the history then continues from it).
--   Rules for moves (the same whatever the entry source):
--     skipped stages: an entry into a later stage without the stages between gives those stages
--       no entry (they count in neither entered nor advanced of stage_conversion); the entry
--       before the skip counts as advanced.
--     moves back: an entry into an earlier stage is a new entry; the one it leaves has
--       direction 'back'.
--     re-entry: entering a stage visited before is a new row with its own entered_at; both
--       entries keep their own exit and days_in_stage.
--     reopened: a lost record (lead disqualified, deal lost) that comes back to an open stage
--       (a nurtured lead returning, a reopened deal) moves back from lost (level 6): the lost
--       entry gets exited_at and direction 'back', and the new entry is a re-entry as above.
--   Order: entered_at (unknown last), then funnel sort order, then the source order above.
--   Consecutive entries into the same stage collapse into the first, so the last entry is
--   always the record's current stage (record_stage).
--   exited_at = the next entry's entered_at (NULL while current or when the next moment is
--   unknown); days_in_stage = exited_at - entered_at in days (double), NULL when not exited.
--   direction: NULL while current; 'close' when the next stage is won or lost; 'forward' when
--   the next stage is further down the funnel (post_sale after won is forward); else 'back'
--   (lost counts as level 6, so a reopened lost deal moves back).
--   later_max_rank: the highest funnel_rank entered after this entry (lost has none);
--   advanced_later: later_max_rank is above the entry's own rank (lost counting as 6).
-- implementation: a record without history or snapshot changes has at most two entries
--   (lead_created, then record_state), built without a window. The entries of the other records
--   are sequenced in one windowed pass over the uncollapsed rows: a run of one entry takes its
--   exit from the next row, a run of two or more from the run's last row (long_runs).

with

records as (

    select * from int_records__current

),

history as (

    select * from int_stage_history__mapped

),

snapshot_starts as (

    select * from int_snapshots__record_states
    where is_stage_start

),

stages as (

    select
        stage,
        sort_order,
        funnel_rank

    from int_stages__ranked

),

source_history_bounds as (

    select
        record_id,
        min(entered_at) as first_entered_at,
        max(entered_at) as last_entered_at

    from history
    group by record_id

),

-- each record's last snapshot stage run (the current one, when it is the current stage)
snapshot_last as (

    select
        record_id,
        stage as last_stage,
        entered_at as last_entered_at,
        entry_source as last_source,
        snapshot_day as last_day

    from snapshot_starts
    qualify row_number() over (partition by record_id order by snapshot_day desc) = 1

),

-- the snapshot stage runs, each with where it lies against the record's source history
snapshot_runs as (

    select
        snapshot_starts.*,
        snapshot_starts.snapshot_day = snapshot_last.last_day
        and snapshot_last.last_stage = records.current_stage as is_current_run,
        source_history_bounds.record_id is null
        or snapshot_starts.entered_at > source_history_bounds.last_entered_at
            as is_after_history,
        -- a stage the pipeline saw before the history begins (a lead's stage before its
        -- opportunity's history): an observation, not a guess from today's timestamps
        coalesce(
            snapshot_starts.entry_source <> 'record_state'
            and snapshot_starts.entered_at < source_history_bounds.first_entered_at,
            false
        ) as is_before_history

    from snapshot_starts
    inner join records
        on snapshot_starts.record_id = records.record_id
    inner join snapshot_last
        on snapshot_starts.record_id = snapshot_last.record_id
    left join source_history_bounds
        on snapshot_starts.record_id = source_history_bounds.record_id

),

-- the earlier entries of every record: its stage history, then the snapshot stage runs it does
-- not already cover (not the last run when that is the current stage: see record_states)
prior as (

    select
        record_id,
        lead_id,
        opportunity_id,
        stage,
        entered_at,
        entered_at as sort_at,
        'stage_history' as entry_source,
        0 as source_order

    from history

    union all

    select
        record_id,
        lead_id,
        opportunity_id,
        stage,
        entered_at,
        entered_at as sort_at,
        entry_source,
        case when is_first_seen then 2 else 3 end

    from snapshot_runs
    where
        -- the current stage run is the record_state entry below (unless it precedes the
        -- source history, which then continues from it)
        (not is_current_run or is_before_history)
        -- a lead first seen in prospecting: its lead_created entry says the same
        and not (is_first_seen and record_type = 'lead' and stage = 'prospecting')
        -- source history first: snapshots only fill in after it, or before it begins
        and (is_after_history or is_before_history)

),

history_bounds as (

    select
        prior.record_id,
        min(prior.entered_at) as first_entered_at,
        max(prior.entered_at) as last_entered_at,
        arg_max(
            prior.stage, epoch_us(prior.sort_at) * 16 + stages.sort_order
        ) as last_stage

    from prior
    inner join stages
        on prior.stage = stages.stage
    group by prior.record_id

),

as_of as (

    select cast(getvariable('as_of') as date) as as_of_day

),

-- every record with its current stage's best-known moment, and its earlier entries' bounds
record_states as (

    select
        records.*,
        history_bounds.record_id is not null as has_history,
        history_bounds.first_entered_at,
        history_bounds.last_entered_at,
        history_bounds.last_stage,
        stages.sort_order,
        stages.funnel_rank,
        case
            when snapshot_last.last_stage = records.current_stage
                then snapshot_last.last_source
            else 'record_state'
        end as state_entry_source,
        case
            when snapshot_last.last_stage = records.current_stage
                then snapshot_last.last_entered_at
            else records.current_entered_at
        end as state_moment

    from records
    inner join stages
        on records.current_stage = stages.stage
    left join history_bounds
        on records.record_id = history_bounds.record_id
    left join snapshot_last
        on records.record_id = snapshot_last.record_id

),

record_moments as (

    select
        record_states.* exclude (state_moment),
        case
            when cast(record_states.state_moment as date) > as_of.as_of_day
                then null
            when record_states.has_history
                then case
                    when record_states.state_moment > record_states.last_entered_at
                        then record_states.state_moment
                end
            when record_states.lead_created_at is not null
                then case
                    when record_states.state_moment >= record_states.lead_created_at
                        then record_states.state_moment
                end
            else record_states.state_moment
        end as state_entered_at

    from record_states
    cross join as_of

),

-- records with stage history or snapshot changes ---------------------------------------------

lead_created_entries as (

    select
        record_id,
        lead_id,
        cast(null as varchar) as opportunity_id,
        'prospecting' as stage,
        lead_created_at as entered_at,
        lead_created_at as sort_at,
        'lead_created' as entry_source,
        1 as source_order

    from record_moments
    where
        has_history
        and record_type = 'lead'
        and (lead_created_at < first_entered_at or first_entered_at is null)

),

record_state_entries as (

    select
        record_id,
        lead_id,
        opportunity_id,
        current_stage as stage,
        state_entered_at as entered_at,
        state_entered_at as sort_at,
        state_entry_source as entry_source,
        case when state_entry_source = 'snapshot' then 3 else 2 end as source_order

    from record_moments
    -- only where the earlier entries do not already end in the current stage
    where has_history and current_stage <> last_stage

),

entries as (

    select * from prior
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
        epoch_us(entries.sort_at) * 64 + stages.sort_order * 4 + entries.source_order
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

    from record_moments
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
        state_entry_source,
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
