-- int_exchange_rates__reporting: every loaded exchange rate as the reporting-currency units one
-- unit of its currency buys on its day.
-- grain: (currency, rate_date)
-- inputs: stg_exchange_rates, stg_currency_config
-- decisions:
--   No rows without [currency] reporting. The reporting currency has no row: its rate is 1 (its
--   own rows only serve as cross legs, below).
--   A rate quoted in the reporting currency (or with no rate_currency) is taken as it is.
--   A rate quoted in another currency B (the ECB's: in euros) is crossed through the reporting
--   currency's own rate in B on the same day, else the nearest day before:
--   rate = quoted_rate / that rate (cross_rate_date says which day). Without such a rate the
--   row cannot be used and is left out. funnel.quality.rates applies the same rule when it
--   quarantines amounts that no rate converts.

with

settings as (

    select reporting_currency from stg_currency_config
    where reporting_currency is not null

),

rates as (

    select
        stg_exchange_rates.*,
        coalesce(
            stg_exchange_rates.rate_currency, settings.reporting_currency
        ) as quoted_in,
        settings.reporting_currency

    from stg_exchange_rates
    cross join settings

),

-- the reporting currency's own rates in other currencies
legs as (

    select
        quoted_in,
        rate_date,
        rate

    from rates
    where currency = reporting_currency and quoted_in <> reporting_currency

),

quoted as (

    select * from rates
    where currency <> reporting_currency

),

crossed as (

    select
        -- keys
        quoted.currency,
        quoted.rate_date,

        -- the rate in the reporting currency
        quoted.reporting_currency,
        case
            when quoted.quoted_in = quoted.reporting_currency then quoted.rate
            else quoted.rate / legs.rate
        end as rate,

        -- as the source gave it
        quoted.rate as quoted_rate,
        quoted.quoted_in,
        legs.rate_date as cross_rate_date,

        -- lineage
        quoted.source_system,
        quoted.source_file,
        quoted.source_line

    from quoted
    asof left join legs
        on
            quoted.quoted_in = legs.quoted_in
            and quoted.rate_date >= legs.rate_date

)

select * from crossed
where rate is not null
