-- touches_to_outcome: the touches curve, how the win rate moves with the touches a deal got.
-- grain: touch_bucket ('0', '1', '2', '3-4', '5-7', '8-12', '13+', and '(all)' for every
--   closed opportunity together; every bucket always has a row)
-- inputs: opportunities, int_activities__linked
-- decisions:
--   One count per closed opportunity (won, post_sale or lost) with a known closed_at: its
--   touches are the activities on it and those on its lead itself (not on the lead's other
--   opportunities), that occurred at or before closed_at. A touch after the close is not a
--   touch that won or lost it. A closed opportunity with no known close moment is left out:
--   nothing tells which of its activities came before the close.
--   closed, won (won or post_sale), lost; win_rate = won / closed (NULL with none);
--   median_touches_won / _lost: the median touches of the won / lost opportunities in the
--   bucket (continuous median; NULL with none): the '(all)' row's median_touches_won is "how
--   many touches a win takes" on this data.

with

closed as (

    select
        opportunity_id,
        record_lead_id,
        is_won,
        closed_at

    from (
        select
            opportunity_id,
            case when has_loaded_lead then lead_id end as record_lead_id,
            is_won,
            is_lost,
            closed_at

        from opportunities
    ) as deals
    where (is_won or is_lost) and closed_at is not null

),

touched as (

    -- two equi-joins, not one join on an OR, which DuckDB would run as a nested loop
    select
        opportunity_id,
        count(*) as touches

    from (
        select closed.opportunity_id

        from closed
        inner join int_activities__linked as activities
            on activities.opportunity_id = closed.opportunity_id
        where activities.occurred_at <= closed.closed_at

        union all

        select closed.opportunity_id

        from closed
        inner join int_activities__linked as activities
            on activities.lead_id = closed.record_lead_id
        where activities.opportunity_id is null and activities.occurred_at <= closed.closed_at
    ) as touches_before_close
    group by opportunity_id

),

counted as (

    select
        closed.opportunity_id,
        closed.is_won,
        coalesce(touched.touches, 0) as touches

    from closed
    left join touched
        on closed.opportunity_id = touched.opportunity_id

),

buckets as (

    select * from (
        values
            ('0', 0, 0),
            ('1', 1, 1),
            ('2', 2, 2),
            ('3-4', 3, 4),
            ('5-7', 5, 7),
            ('8-12', 8, 12),
            ('13+', 13, null),
            ('(all)', 0, null)
    ) as t (touch_bucket, min_touches, max_touches)

),

final as (

    select
        buckets.touch_bucket,
        buckets.min_touches,
        buckets.max_touches,
        count(counted.opportunity_id) as closed,
        count(*) filter (where counted.is_won) as won,
        count(*) filter (where not counted.is_won) as lost,
        cast(count(*) filter (where counted.is_won) as double)
        / nullif(count(counted.opportunity_id), 0) as win_rate,
        quantile_cont(counted.touches, 0.5) filter (where counted.is_won) as median_touches_won,
        quantile_cont(counted.touches, 0.5) filter (where not counted.is_won)
            as median_touches_lost

    from buckets
    left join counted
        on
            counted.touches >= buckets.min_touches
            and (buckets.max_touches is null or counted.touches <= buckets.max_touches)
    group by buckets.touch_bucket, buckets.min_touches, buckets.max_touches

)

select * from final
order by touch_bucket = '(all)', min_touches
