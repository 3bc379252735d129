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
