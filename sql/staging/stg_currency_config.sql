-- stg_currency_config: the [currency] settings of the config as one row.
-- grain: one row
-- inputs: cfg_currency (reporting, default_currency from [currency] of the config; one row)
-- notes: reporting_currency NULL: amounts are not converted, every money figure stays in the
-- deal's own currency (per currency, never summed across). default_currency NULL: an amount
-- whose row names no currency has none.

with

source as (

    select * from cfg_currency

),

renamed as (

    select
        upper(max(reporting)) as reporting_currency,
        upper(max(default_currency)) as default_currency

    from source

)

select * from renamed
