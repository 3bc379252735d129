-- audit: forecast_lookback has one row per (close month, currency), months consecutive up to
-- the as-of month in each currency, and the won-from-pipeline figures within the month's won
-- (offending rows).
select
    close_month,
    currency,
    count(*) over (partition by close_month, currency) as rows_in_grain

from forecast_lookback
qualify
    count(*) over (partition by close_month, currency) > 1
    or day(close_month) <> 1
    or coalesce(
        close_month - interval 1 month
        = lag(close_month) over (partition by currency order by close_month),
        true
    )
    = false
    or close_month > cast(getvariable('as_of') as date)
    or won_from_pipeline_count > won_count
    or won_from_pipeline_count > open_count
    or without_probability > open_count
    or weighted_amount > open_amount + 1e-6
