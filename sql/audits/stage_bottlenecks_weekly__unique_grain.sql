-- audit: stage_bottlenecks_weekly has one row per week, weeks start on Monday and are
-- consecutive, and the chosen stages are open stages with coherent figures (offending rows).
select
    week,
    count(*) over (partition by week) as rows_in_grain,
    stall_stage,
    loss_stage

from stage_bottlenecks_weekly
qualify
    count(*) over (partition by week) > 1
    or isodow(week) <> 1
    or coalesce(week - lag(week) over (order by week), 7) <> 7
    or stall_stage in ('won', 'lost', 'post_sale')
    or loss_stage in ('won', 'lost', 'post_sale')
    or (stall_stage is null) <> (exits = 0)
    or (loss_stage is null) <> (lost_exits = 0)
    or loss_exits > lost_exits
    or stall_exits > exits
    or loss_share > 1
