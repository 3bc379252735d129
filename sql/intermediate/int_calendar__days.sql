-- int_calendar__days: every day of the fiscal years the period tables report on, with its
-- fiscal month, quarter and year, their labels, bounds and offsets from the as-of day.
-- grain: day
-- inputs: int_day_spine, stg_calendar_config
-- decisions:
--   Range: whole fiscal years, from the one holding the earliest day of int_day_spine (at the
--   latest the fiscal year before the as-of day's, so "the same period a year before" always
--   exists) to the one after the as-of day's (expected closes of next year have periods).
--   A fiscal year starts on the first day of [calendar] fiscal_year_start_month and is named
--   by the calendar year it ends in (start month 4: FY2025 = 2024-04-01 .. 2025-03-31; start
--   month 1: the calendar year). Fiscal months are calendar months; fiscal quarters are three
--   of them from the fiscal year's start.
--   Offsets count whole periods from the as-of day's (0 this period, -1 the previous one), so
--   "this quarter" is `fiscal_quarter_offset = 0`, a filter.
--   week_start: the day on or before `day` that is [calendar] week_start.

with

settings as (

    select * from stg_calendar_config

),

as_of as (

    select cast(getvariable('as_of') as date) as as_of_day

),

-- the fiscal year start (a date) of a day: its month counted from the fiscal start month
bounds as (

    select
        settings.fiscal_year_start_month as start_month,
        settings.week_start_day,
        as_of.as_of_day,
        cast(
            least(
                (select min(int_day_spine.day) from int_day_spine),
                as_of.as_of_day - interval 1 year
            ) as date
        ) as first_day

    from settings
    cross join as_of

),

fiscal_starts as (

    select
        *,
        make_date(
            cast(floor((year(first_day) * 12 + month(first_day) - start_month) / 12) as integer),
            start_month,
            1
        ) as range_start,
        make_date(
            cast(floor((year(as_of_day) * 12 + month(as_of_day) - start_month) / 12) as integer),
            start_month,
            1
        ) as as_of_year_start

    from bounds

),

days as (

    select
        cast(
            unnest(
                generate_series(
                    cast(range_start as timestamp),
                    cast(as_of_year_start + interval 2 year - interval 1 day as timestamp),
                    interval 1 day
                )
            ) as date
        ) as day

    from fiscal_starts

),

numbered as (

    select
        days.day,
        fiscal_starts.start_month,
        fiscal_starts.week_start_day,
        fiscal_starts.as_of_day,
        fiscal_starts.as_of_year_start,
        (year(days.day) * 12 + month(days.day) - fiscal_starts.start_month) as month_number

    from days
    cross join fiscal_starts

),

fiscal as (

    select
        *,
        cast(floor(month_number / 12) as integer) as start_year,
        cast(month_number - 12 * floor(month_number / 12) as integer) + 1 as fiscal_month

    from numbered

),

final as (

    select
        day,
        isodow(day) as day_of_week,
        cast(day - cast((isodow(day) - week_start_day + 7) % 7 as integer) as date) as week_start,

        -- fiscal year
        start_year + case when start_month = 1 then 0 else 1 end as fiscal_year,
        'FY' || (start_year + case when start_month = 1 then 0 else 1 end) as fiscal_year_label,
        make_date(start_year, start_month, 1) as fiscal_year_start,
        cast(
            make_date(start_year, start_month, 1) + interval 1 year - interval 1 day as date
        ) as fiscal_year_end,
        start_year - year(as_of_year_start) as fiscal_year_offset,

        -- fiscal quarter
        (fiscal_month - 1) // 3 + 1 as fiscal_quarter,
        'FY' || (start_year + case when start_month = 1 then 0 else 1 end)
        || '-Q' || ((fiscal_month - 1) // 3 + 1) as fiscal_quarter_label,
        cast(
            make_date(start_year, start_month, 1) + to_months(((fiscal_month - 1) // 3) * 3)
            as date
        ) as fiscal_quarter_start,
        cast(
            make_date(start_year, start_month, 1)
            + to_months(((fiscal_month - 1) // 3) * 3 + 3) - interval 1 day as date
        ) as fiscal_quarter_end,
        cast(
            floor(month_number / 3)
            - floor((year(as_of_day) * 12 + month(as_of_day) - start_month) / 3)
            as integer
        ) as fiscal_quarter_offset,

        -- fiscal month (a calendar month)
        fiscal_month,
        'FY' || (start_year + case when start_month = 1 then 0 else 1 end)
        || '-M' || lpad(cast(fiscal_month as varchar), 2, '0') as fiscal_month_label,
        strftime(day, '%Y-%m') as calendar_month_label,
        cast(date_trunc('month', day) as date) as month_start,
        last_day(day) as month_end,
        cast(
            month_number - (year(as_of_day) * 12 + month(as_of_day) - start_month) as integer
        ) as fiscal_month_offset,

        day = as_of_day as is_as_of_day

    from fiscal

)

select * from final
