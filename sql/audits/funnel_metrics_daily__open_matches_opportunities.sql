-- audit: on the as-of day, open_count and open_amount equal the open opportunities of the
-- opportunities table (offending: the as-of rows that differ).
with

open_now as (

    select
        count(*) as open_count,
        coalesce(sum(amount), 0) as open_amount

    from opportunities
    where is_open

)

select
    funnel_metrics_daily.day,
    funnel_metrics_daily.trailing_window,
    funnel_metrics_daily.open_count,
    open_now.open_count as expected_open_count,
    funnel_metrics_daily.open_amount,
    open_now.open_amount as expected_open_amount

from funnel_metrics_daily
cross join open_now
where
    funnel_metrics_daily.day = cast(getvariable('as_of') as date)
    and (
        funnel_metrics_daily.open_count <> open_now.open_count
        or abs(funnel_metrics_daily.open_amount - open_now.open_amount)
        > 1e-6 * greatest(1, abs(open_now.open_amount))
    )
