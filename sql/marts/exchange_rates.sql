-- exchange_rates: every exchange rate the money figures can use, in the reporting currency.
-- grain: (currency, rate_date)
-- inputs: int_exchange_rates__reporting
-- decisions: empty without [currency] reporting. rate = reporting-currency units one unit of
--   currency buys on rate_date, after crossing (see int_exchange_rates__reporting); the
--   reporting currency itself has no row (its rate is 1). An amount converts at the rate of its
--   currency on its conversion day or the nearest day before (opportunities.exchange_rate_date).

with

rates as (

    select * from int_exchange_rates__reporting

),

final as (

    select
        -- grain
        currency,
        rate_date,

        -- the rate
        rate,
        reporting_currency,

        -- as the source gave it
        quoted_rate,
        quoted_in,
        cross_rate_date,

        -- lineage
        source_system,
        source_file,
        source_line

    from rates

)

select * from final
order by currency, rate_date
