-- audit: pipeline_forecast has one row per (day, close_month, stage, forecast_category,
-- currency), only open
-- stages, and a probability in 0..1 (offending: the groups that break it).
select
    day,
    close_month,
    stage,
    forecast_category,
    currency,
    count(*) as rows_in_grain

from pipeline_forecast
group by day, close_month, stage, forecast_category, currency
having
    count(*) > 1
    or stage in ('won', 'lost', 'post_sale')
    or min(probability) < 0
    or max(probability) > 1
