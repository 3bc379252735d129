-- stage_bottlenecks_weekly: per week, the open stage where records stalled longest and the one
-- that lost most, with the figures behind each choice.
-- grain: week (the Monday a Monday-to-Sunday week starts on), every week from the first week
--   with a dated stage entry to the as-of week (a week without exits has NULL choices)
-- inputs: stage_transitions, int_stages__ranked
-- decisions:
--   Only exits from the open stages count (prospecting, qualification, meeting, proposal,
--   negotiation), dated by the day of exited_at; the as-of week is counted up to the as-of day
--   (is_complete false).
--   stall_stage: the open stage whose exits that week have the highest median days in stage
--   (stage_transitions.days_in_stage); ties go to the stage with more exits, then the earlier
--   stage. stall_median_days, stall_avg_days, stall_exits: that stage's figures.
--   loss_stage: the open stage with the most exits to lost that week; ties go to the higher
--   loss share, then the earlier stage; NULL when nothing was lost. loss_exits: its exits to
--   lost, loss_share = loss_exits / all its exits that week.
--   exits / lost_exits: all exits from open stages that week / those to lost.

with

as_of as (

    select cast(getvariable('as_of') as date) as as_of_day

),

open_stages as (

    select
        stage,
        sort_order

    from int_stages__ranked
    where is_open

),

exits as (

    select
        cast(date_trunc('week', transitions.exited_at) as date) as week,
        transitions.stage,
        open_stages.sort_order,
        transitions.days_in_stage,
        transitions.next_stage = 'lost' as is_lost

    from stage_transitions as transitions
    cross join as_of
    inner join open_stages
        on transitions.stage = open_stages.stage
    where cast(transitions.exited_at as date) <= as_of.as_of_day

),

per_stage as (

    select
        week,
        stage,
        min(sort_order) as sort_order,
        count(*) as exits,
        count(*) filter (where is_lost) as lost_exits,
        median(days_in_stage) as median_days,
        avg(days_in_stage) as avg_days

    from exits
    group by week, stage

),

weekly as (

    select
        week,
        sum(exits) as exits,
        sum(lost_exits) as lost_exits,
        arg_max(
            struct_pack(
                stage := stage, median_days := median_days, avg_days := avg_days, exits := exits
            ),
            [median_days, exits, -sort_order]
        ) as stall,
        arg_max(
            struct_pack(
                stage := stage,
                lost_exits := lost_exits,
                share := cast(lost_exits as double) / exits
            ),
            [cast(lost_exits as double), cast(lost_exits as double) / exits, -sort_order]
        ) filter (where lost_exits > 0) as loss

    from per_stage
    group by week

),

bounds as (

    select
        cast(
            date_trunc(
                'week', least(coalesce(min(transitions.entered_at), as_of.as_of_day), as_of.as_of_day)
            ) as date
        ) as first_week,
        cast(date_trunc('week', as_of.as_of_day) as date) as last_week,
        as_of.as_of_day

    from as_of
    left join stage_transitions as transitions
        on true
    group by as_of.as_of_day

),

weeks as (

    select
        cast(unnest(generate_series(first_week, last_week, interval 7 day)) as date) as week,
        as_of_day

    from bounds

),

final as (

    select
        weeks.week,
        weeks.week + 6 as week_end,
        weeks.week + 6 <= weeks.as_of_day as is_complete,

        -- all open-stage exits of the week
        cast(coalesce(weekly.exits, 0) as bigint) as exits,
        cast(coalesce(weekly.lost_exits, 0) as bigint) as lost_exits,

        -- where records stalled longest
        weekly.stall.stage as stall_stage,
        weekly.stall.median_days as stall_median_days,
        weekly.stall.avg_days as stall_avg_days,
        weekly.stall.exits as stall_exits,

        -- where the funnel lost most
        weekly.loss.stage as loss_stage,
        weekly.loss.lost_exits as loss_exits,
        weekly.loss.share as loss_share

    from weeks
    left join weekly
        on weeks.week = weekly.week

)

select * from final
order by week
