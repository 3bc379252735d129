-- stg_exchange_rates: the loaded exchange rates, renamed and typed; nothing is derived here.
-- grain: (currency, rate_date)
-- inputs: raw_exchange_rates
-- notes: rate = units of rate_currency one unit of currency buys on rate_date (above 0);
-- rate_currency NULL means the reporting currency. Codes are upper-case (cleaning).

with

source as (

    select * from raw_exchange_rates

),

renamed as (

    select
        -- keys
        currency,
        rate_date,

        -- the rate
        rate,
        rate_currency,

        -- lineage
        source_system,
        source_file,
        source_line,
        run_id as loaded_by_run_id

    from source

)

select * from renamed
