-- stg_hygiene_config: the [hygiene] settings of the config as one typed row.
-- grain: one row
-- inputs: cfg_hygiene (key, value text pairs from [hygiene] of the config; lists joined by ',')
-- notes: required_open_fields names opportunity fields (funnel.config.REQUIRABLE_FIELDS); a
-- missing parameter is NULL (funnel.config validates them before any run).

with

source as (

    select * from cfg_hygiene

),

renamed as (

    select
        list_filter(
            string_split(max(value) filter (where key = 'required_open_fields'), ','),
            lambda f: f <> ''
        ) as required_open_fields,
        try_cast(
            max(value) filter (where key = 'stale_activity_days') as integer
        ) as stale_activity_days,
        try_cast(max(value) filter (where key = 'lead_sla_minutes') as integer) as lead_sla_minutes

    from source

)

select * from renamed
