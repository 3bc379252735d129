-- int_fiscal_periods: every fiscal month, quarter and year of the calendar, with its bounds,
-- label and the periods it is compared with.
-- grain: (period_kind, period_start)
-- inputs: int_calendar__days
-- decisions: period_kind is month, quarter or year; previous_period_start is the period just
--   before, year_ago_period_start the same period a fiscal year before (both may lie before
--   the calendar's first day: then no row of a period table matches them). period_offset counts
--   periods of the kind from the as-of day's (0), as the calendar's offsets do.

with

days as (

    select * from int_calendar__days

),

periods as (

    select distinct
        'month' as period_kind,
        month_start as period_start,
        month_end as period_end,
        fiscal_month_label as period_label,
        fiscal_month_offset as period_offset,
        fiscal_year

    from days

    union all

    select distinct
        'quarter',
        fiscal_quarter_start,
        fiscal_quarter_end,
        fiscal_quarter_label,
        fiscal_quarter_offset,
        fiscal_year

    from days

    union all

    select distinct
        'year',
        fiscal_year_start,
        fiscal_year_end,
        fiscal_year_label,
        fiscal_year_offset,
        fiscal_year

    from days

),

final as (

    select
        *,
        cast(
            period_start - case period_kind
                when 'month' then interval 1 month
                when 'quarter' then interval 3 month
                else interval 1 year
            end as date
        ) as previous_period_start,
        cast(period_start - interval 1 year as date) as year_ago_period_start

    from periods

)

select * from final
