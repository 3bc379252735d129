-- audit: on the as-of day, open_count and open_amount of each currency equal the open
-- opportunities of the opportunities table in that money currency (offending: the as-of rows
-- that differ).
with

open_now as (

    select
        coalesce(reporting_currency, currency) as currency,
        count(*) as open_count,
        coalesce(sum(coalesce(amount_reporting, amount)), 0) as open_amount

    from opportunities
    where is_open
    group by all

)

select
    funnel_metrics_daily.day,
    funnel_metrics_daily.trailing_window,
    funnel_metrics_daily.currency,
    funnel_metrics_daily.open_count,
    coalesce(open_now.open_count, 0) as expected_open_count,
    funnel_metrics_daily.open_amount,
    coalesce(open_now.open_amount, 0) as expected_open_amount

from funnel_metrics_daily
left join open_now
    on funnel_metrics_daily.currency is not distinct from open_now.currency
where
    funnel_metrics_daily.day = cast(getvariable('as_of') as date)
    and (
        funnel_metrics_daily.open_count <> coalesce(open_now.open_count, 0)
        or abs(funnel_metrics_daily.open_amount - coalesce(open_now.open_amount, 0))
        > 1e-6 * greatest(1, abs(coalesce(open_now.open_amount, 0)))
    )
