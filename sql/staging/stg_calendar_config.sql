-- stg_calendar_config: the [calendar] settings of the config as one row.
-- grain: one row
-- inputs: cfg_calendar (fiscal_year_start_month, week_start from [calendar]; one row)
-- notes: week_start_day is the ISO day number (Monday 1 .. Sunday 7) a week starts on.

with

source as (

    select * from cfg_calendar

),

renamed as (

    select
        cast(max(fiscal_year_start_month) as integer) as fiscal_year_start_month,
        cast(
            list_position(
                ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'],
                lower(max(week_start))
            ) as integer
        ) as week_start_day

    from source

)

select * from renamed
