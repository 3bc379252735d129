-- touches_to_outcome: how many touches deals got before they closed, and how often they won.
-- grain: touch_bucket
-- inputs: opportunities, stg_activities
-- decisions:
--   Each closed opportunity (won, post_sale or lost) with a known closed_at counts its touches:
--   the activities logged on it, and on its lead when it continues one, at or before closed_at.
--   Buckets: 0, 1-2, 3-5, 6-8, 9-12, 13-20, 21+ (always all seven rows).
--   win_rate = won / closed in the bucket (NULL when empty). median_touches_to_win and
--   median_touches_to_loss: the median touches of all won / lost opportunities, the same on
--   every row (the "about 8 touches" measured on the user's own deals).

with

buckets as (

    select * from (
        values
            ('0', 1, 0, 0),
            ('1-2', 2, 1, 2),
            ('3-5', 3, 3, 5),
            ('6-8', 4, 6, 8),
            ('9-12', 5, 9, 12),
            ('13-20', 6, 13, 20),
            ('21+', 7, 21, null)
    ) as t (touch_bucket, bucket_order, min_touches, max_touches)

),

closed as (

    select
        opportunity_id,
        case when has_loaded_lead then record_id end as lead_id,
        is_won,
        closed_at

    from opportunities
    where (is_won or is_lost) and closed_at is not null

),

touch_rows as (

    -- on the deal, then on its lead (two equi-joins: an OR join cannot hash)
    select
        closed.opportunity_id,
        activities.activity_id

    from closed
    inner join stg_activities as activities
        on
            activities.opportunity_id = closed.opportunity_id
            and activities.occurred_at <= closed.closed_at

    union all

    select
        closed.opportunity_id,
        activities.activity_id

    from closed
    inner join stg_activities as activities
        on
            activities.lead_id = closed.lead_id
            and activities.occurred_at <= closed.closed_at

),

touches as (

    select
        closed.opportunity_id,
        count(touch_rows.activity_id) as touches

    from closed
    left join touch_rows
        on closed.opportunity_id = touch_rows.opportunity_id
    group by closed.opportunity_id

),

counted as (

    select
        closed.opportunity_id,
        closed.is_won,
        touches.touches

    from closed
    inner join touches
        on closed.opportunity_id = touches.opportunity_id

),

medians as (

    select
        median(touches) filter (where is_won) as median_touches_to_win,
        median(touches) filter (where not is_won) as median_touches_to_loss

    from counted

),

final as (

    select
        buckets.touch_bucket,
        buckets.bucket_order,
        buckets.min_touches,
        buckets.max_touches,
        count(counted.opportunity_id) as closed,
        count(counted.opportunity_id) filter (where counted.is_won) as won,
        count(counted.opportunity_id) filter (where not counted.is_won) as lost,
        cast(count(counted.opportunity_id) filter (where counted.is_won) as double)
        / nullif(count(counted.opportunity_id), 0) as win_rate,
        any_value(medians.median_touches_to_win) as median_touches_to_win,
        any_value(medians.median_touches_to_loss) as median_touches_to_loss

    from buckets
    cross join medians
    left join counted
        on
            counted.touches >= buckets.min_touches
            and (buckets.max_touches is null or counted.touches <= buckets.max_touches)
    group by all

)

select * from final
order by bucket_order
