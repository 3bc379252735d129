-- stage_durations: how long records stay in each stage and how many the funnel loses there, over
-- the trailing windows ending on the as-of day.
-- grain: (trailing_window, stage) for the 8 canonical stages and the 4 windows; day is the as-of day (a
--   snapshot, like pipeline_forecast: earlier days live in earlier warehouses)
-- inputs: stage_transitions, int_stages__ranked, int_windows
-- decisions:
--   Every figure counts entries (stage_transitions rows): a record that enters a stage twice
--   counts twice. Windows as everywhere: '30d', '90d', '365d' = the trailing N days ending on the
--   as-of day inclusive; 'all' = every day up to and including it.
--   Durations look at the exits dated in the window (exited_at's day):
--     exited; avg_days_in_stage / median_days_in_stage over those exits' days_in_stage
--     (exited_at - entered_at in days, fractional); exited_forward / exited_back / exited_to_won
--     / exited_to_lost: where those exits went (won and lost are the 'close' direction; an exit
--     to post_sale is forward); lost_share = exited_to_lost / exited.
--   Drop-off looks at the entries dated in the window (entered_at's day), the stage's cohort:
--     entered; dropped = entries after which the record never reached a stage further down the
--     funnel (stage_transitions.advanced_later is false), split into dropped_lost (the record
--     is lost now) and dropped_open (the record is still open: stuck in the stage, or moved
--     back and never came forward again); drop_off_rate = dropped / entered. still_in_stage:
--     cohort entries that are the record's current stage; median_open_age_days: their median
--     age at the end of the as-of day. The drop-off columns are NULL for won, lost and
--     post_sale (nothing lies beyond them that a record should reach).
--   A reopened lost deal: its exit to lost counts in exited_to_lost when it happened, and the
--   reopening is an exit of the lost stage (direction 'back').

with

as_of as (

    select
        cast(getvariable('as_of') as date) as as_of_day,
        cast(cast(getvariable('as_of') as date) + interval 1 day as timestamp) as as_of_end

),

stages as (

    select
        stage,
        sort_order,
        funnel_rank,
        is_open

    from int_stages__ranked

),

windows as (

    select * from int_windows

),

entries as (

    select
        transitions.stage,
        transitions.days_in_stage,
        transitions.next_stage,
        transitions.direction,
        transitions.advanced_later,
        transitions.is_current,
        transitions.record_stage,
        date_diff('day', cast(transitions.entered_at as date), as_of.as_of_day) as entered_ago,
        date_diff('day', cast(transitions.exited_at as date), as_of.as_of_day) as exited_ago,
        date_diff('second', transitions.entered_at, as_of.as_of_end) / 86400.0 as age_days

    from stage_transitions as transitions
    cross join as_of

),

exits as (

    select
        windows.window_name,
        entries.stage,
        count(*) as exited,
        avg(entries.days_in_stage) as avg_days_in_stage,
        median(entries.days_in_stage) as median_days_in_stage,
        count(*) filter (where entries.direction = 'forward') as exited_forward,
        count(*) filter (where entries.direction = 'back') as exited_back,
        count(*) filter (where entries.next_stage = 'won') as exited_to_won,
        count(*) filter (where entries.next_stage = 'lost') as exited_to_lost

    from entries
    inner join windows
        on windows.window_days is null or entries.exited_ago < windows.window_days
    where entries.exited_ago >= 0
    group by windows.window_name, entries.stage

),

cohorts as (

    select
        windows.window_name,
        entries.stage,
        count(*) as entered,
        count(*) filter (where not entries.advanced_later) as dropped,
        count(*) filter (
            where not entries.advanced_later and entries.record_stage = 'lost'
        ) as dropped_lost,
        count(*) filter (where entries.is_current) as still_in_stage,
        median(entries.age_days) filter (where entries.is_current) as median_open_age_days

    from entries
    inner join windows
        on windows.window_days is null or entries.entered_ago < windows.window_days
    where entries.entered_ago >= 0
    group by windows.window_name, entries.stage

),

final as (

    select
        as_of.as_of_day as day,
        windows.window_name as trailing_window,
        stages.stage,
        stages.sort_order as stage_order,

        -- time in stage (exits in the window)
        coalesce(exits.exited, 0) as exited,
        exits.avg_days_in_stage,
        exits.median_days_in_stage,
        coalesce(exits.exited_forward, 0) as exited_forward,
        coalesce(exits.exited_back, 0) as exited_back,
        coalesce(exits.exited_to_won, 0) as exited_to_won,
        coalesce(exits.exited_to_lost, 0) as exited_to_lost,
        cast(exits.exited_to_lost as double) / nullif(exits.exited, 0) as lost_share,

        -- drop-off (entries in the window)
        coalesce(cohorts.entered, 0) as entered,
        case when stages.is_open then coalesce(cohorts.dropped, 0) end as dropped,
        case when stages.is_open then coalesce(cohorts.dropped_lost, 0) end as dropped_lost,
        case
            when stages.is_open then coalesce(cohorts.dropped - cohorts.dropped_lost, 0)
        end as dropped_open,
        case
            when stages.is_open then cast(cohorts.dropped as double) / nullif(cohorts.entered, 0)
        end as drop_off_rate,
        case when stages.is_open then coalesce(cohorts.still_in_stage, 0) end as still_in_stage,
        case when stages.is_open then cohorts.median_open_age_days end as median_open_age_days

    from stages
    cross join windows
    cross join as_of
    left join exits
        on windows.window_name = exits.window_name and stages.stage = exits.stage
    left join cohorts
        on windows.window_name = cohorts.window_name and stages.stage = cohorts.stage

)

select * from final
order by list_position(['30d', '90d', '365d', 'all'], trailing_window), stage_order
