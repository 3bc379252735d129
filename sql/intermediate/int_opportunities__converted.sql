-- int_opportunities__converted: each loaded opportunity with its amount in the reporting
-- currency, and the amount and currency its money metrics use.
-- grain: opportunity_id
-- inputs: stg_opportunities, stg_currency_config, int_exchange_rates__reporting,
--   int_stages__ranked
-- decisions:
--   currency: the opportunity's own, else [currency] default (NULL when neither gives one).
--   converted_on: the close date of a closed opportunity, else (open, or closed on an unknown
--   day) the as-of day.
--   exchange_rate: with [currency] reporting, 1 for the reporting currency, else the rate of the
--   currency on converted_on or the nearest day before (exchange_rate_date); NULL without
--   [currency] reporting, or without a rate (an amount that needs one is quarantined before it
--   loads, see funnel.quality.rates; audit opportunities__converted).
--   amount_reporting = amount x exchange_rate; an amount of 0 is 0 in any currency; NULL
--   without [currency] reporting or without an amount.
--   money_currency / money_amount: what every money metric sums: the reporting currency and
--   amount_reporting with [currency] reporting, else the opportunity's currency and amount
--   (then the metrics are per currency, never summed across).

with

opportunities as (

    select * from stg_opportunities

),

settings as (

    select * from stg_currency_config

),

stages as (

    select * from int_stages__ranked

),

rates as (

    select
        currency,
        rate_date,
        rate

    from int_exchange_rates__reporting

),

dated as (

    select
        opportunities.* exclude (currency),
        coalesce(opportunities.currency, settings.default_currency) as currency,
        settings.reporting_currency,
        case
            when stages.is_closed and opportunities.closed_date is not null
                then least(opportunities.closed_date, cast(getvariable('as_of') as date))
            else cast(getvariable('as_of') as date)
        end as converted_on

    from opportunities
    cross join settings
    inner join stages
        on opportunities.stage = stages.stage

),

converted as (

    select
        dated.*,
        case
            when dated.reporting_currency is null then null
            when dated.currency = dated.reporting_currency then 1.0
            else rates.rate
        end as exchange_rate,
        case
            when dated.currency <> dated.reporting_currency then rates.rate_date
        end as exchange_rate_date

    from dated
    asof left join rates
        on
            dated.currency = rates.currency
            and dated.converted_on >= rates.rate_date

),

final as (

    select
        *,
        case
            when reporting_currency is null then null
            when amount = 0 then 0.0
            else amount * exchange_rate
        end as amount_reporting,
        coalesce(reporting_currency, currency) as money_currency,
        case
            when reporting_currency is null then amount
            when amount = 0 then 0.0
            else amount * exchange_rate
        end as money_amount

    from converted

)

select * from final
