-- audit: with [currency] reporting, every money table holds figures in the reporting currency
-- only (offending: the rows in another currency, by table).
with

settings as (

    select reporting_currency from stg_currency_config
    where reporting_currency is not null

),

currencies as (

    select 'funnel_metrics_daily' as money_table, currency from funnel_metrics_daily
    union all
    select 'owner_metrics_daily', currency from owner_metrics_daily
    union all
    select 'pipeline_forecast', currency from pipeline_forecast
    union all
    select 'forecast_lookback', currency from forecast_lookback
    union all
    select 'qualification_outcomes', currency from qualification_outcomes
    union all
    select 'pipeline_flow', currency from pipeline_flow
    union all
    select 'target_attainment', currency from target_attainment
    union all
    select 'period_metrics', currency from period_metrics
    union all
    select 'period_lost_reasons', currency from period_lost_reasons
    union all
    select 'metric_windows', currency from metric_windows where currency is not null
    union all
    select 'metric_checks', currency from metric_checks where currency is not null
    union all
    select 'lost_reasons', currency from lost_reasons

)

select
    currencies.money_table,
    currencies.currency,
    count(*) as rows_in_currency

from currencies
cross join settings
where currencies.currency is distinct from settings.reporting_currency
group by all
