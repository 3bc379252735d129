-- response_metrics_daily: speed to lead per day and window, for all leads and per owner and source.
-- grain: (day, trailing_window, dimension, dimension_value)
-- inputs: lead_response, int_day_spine, int_windows
-- decisions:
--   Over the leads created in the window ('30d', '90d', '365d' trailing days ending on day, 'all'
--   up to and including day): leads; touched (with a first touch); within_sla_share = leads
--   within [hygiene] lead_sla_minutes / leads; per band ('5m', '1h', '24h', 'later', 'none') the
--   leads and their lead-to-win rate (won / leads of the band, NULL without any).
--   median_minutes and p90_minutes (of minutes_to_first_touch over the touched, NULL when none)
--   on the as-of day's rows only, NULL on earlier days: a windowed quantile for every past day
--   cost more than the rest of the build together at 200k leads; the daily trend is
--   within_sla_share and the bands.
--   Outcomes are the leads' state on the as-of day (a cohort view, as source_metrics_daily).
--   dimension: 'all' ('(all)'), 'owner' or 'source' ('(none)' when the lead names none); every
--   series gets a row on every spine day.
-- implementation: daily sums on a dense (series x day) grid, rolled with range frames.

with

spine as (

    select day from int_day_spine

),

bounds as (

    select
        min(day) as first_day,
        cast(getvariable('as_of') as date) as as_of_day

    from spine

),

windows as (

    select * from int_windows

),

dimensions as (

    select * from (values ('all'), ('owner'), ('source')) as t (dimension)

),

lead_rows as (

    select
        dimensions.dimension,
        case dimensions.dimension
            when 'owner' then coalesce(responses.owner, '(none)')
            when 'source' then coalesce(responses.source, '(none)')
            else '(all)'
        end as dimension_value,
        responses.created_date as day,
        responses.minutes_to_first_touch as minutes,
        responses.first_touch_at is not null as is_touched,
        responses.within_sla,
        responses.sla_band,
        coalesce(responses.is_won, false) as is_won

    from lead_response as responses
    cross join dimensions
    cross join bounds
    where responses.created_date <= bounds.as_of_day

),

daily as (

    select
        dimension,
        dimension_value,
        day,
        count(*) as leads,
        count(*) filter (where is_touched) as touched,
        count(*) filter (where within_sla) as within_sla,
        count(*) filter (where sla_band = '5m') as leads_5m,
        count(*) filter (where sla_band = '1h') as leads_1h,
        count(*) filter (where sla_band = '24h') as leads_24h,
        count(*) filter (where sla_band = 'later') as leads_later,
        count(*) filter (where sla_band = 'none') as leads_none,
        count(*) filter (where sla_band = '5m' and is_won) as won_5m,
        count(*) filter (where sla_band = '1h' and is_won) as won_1h,
        count(*) filter (where sla_band = '24h' and is_won) as won_24h,
        count(*) filter (where sla_band = 'later' and is_won) as won_later,
        count(*) filter (where sla_band = 'none' and is_won) as won_none

    from lead_rows
    group by dimension, dimension_value, day

),

series as (

    select distinct
        dimension,
        dimension_value

    from lead_rows

),

filled as (

    select
        series.dimension,
        series.dimension_value,
        spine.day,
        coalesce(daily.leads, 0) as leads,
        coalesce(daily.touched, 0) as touched,
        coalesce(daily.within_sla, 0) as within_sla,
        coalesce(daily.leads_5m, 0) as leads_5m,
        coalesce(daily.leads_1h, 0) as leads_1h,
        coalesce(daily.leads_24h, 0) as leads_24h,
        coalesce(daily.leads_later, 0) as leads_later,
        coalesce(daily.leads_none, 0) as leads_none,
        coalesce(daily.won_5m, 0) as won_5m,
        coalesce(daily.won_1h, 0) as won_1h,
        coalesce(daily.won_24h, 0) as won_24h,
        coalesce(daily.won_later, 0) as won_later,
        coalesce(daily.won_none, 0) as won_none

    from series
    cross join spine
    left join daily
        on
            series.dimension = daily.dimension
            and series.dimension_value = daily.dimension_value
            and spine.day = daily.day

),

-- leads created before the spine's first day (none in a build: the spine starts with the first
-- lead) count in the windows that reach back to their day
earlier as (

    select
        dimension,
        dimension_value,
        day,
        leads,
        touched,
        within_sla,
        leads_5m,
        leads_1h,
        leads_24h,
        leads_later,
        leads_none,
        won_5m,
        won_1h,
        won_24h,
        won_later,
        won_none

    from daily
    cross join bounds
    where daily.day < bounds.first_day

),

rolled_rows as (

    select *, true as is_reader from filled
    union all by name
    select *, false as is_reader from earlier

),

windowed as (

    select
        rolled_rows.is_reader,
        rolled_rows.day,
        windows.window_name,
        windows.window_days,
        rolled_rows.dimension,
        rolled_rows.dimension_value,
        sum(rolled_rows.leads) over in_window as leads,
        sum(rolled_rows.touched) over in_window as touched,
        sum(rolled_rows.within_sla) over in_window as within_sla,
        sum(rolled_rows.leads_5m) over in_window as leads_5m,
        sum(rolled_rows.leads_1h) over in_window as leads_1h,
        sum(rolled_rows.leads_24h) over in_window as leads_24h,
        sum(rolled_rows.leads_later) over in_window as leads_later,
        sum(rolled_rows.leads_none) over in_window as leads_none,
        sum(rolled_rows.won_5m) over in_window as won_5m,
        sum(rolled_rows.won_1h) over in_window as won_1h,
        sum(rolled_rows.won_24h) over in_window as won_24h,
        sum(rolled_rows.won_later) over in_window as won_later,
        sum(rolled_rows.won_none) over in_window as won_none

    from rolled_rows
    cross join windows
    cross join bounds
    window in_window as (
        partition by rolled_rows.dimension, rolled_rows.dimension_value, windows.window_name
        order by rolled_rows.day
        range between interval (
            coalesce(
                windows.window_days - 1,
                date_diff('day', date '1800-01-01', rolled_rows.day)
            )
        ) days preceding and current row
    )

),

quantiles as (

    -- the as-of day only (see the header)
    select
        lead_rows.dimension,
        lead_rows.dimension_value,
        windows.window_name,
        median(lead_rows.minutes) as median_minutes,
        quantile_cont(lead_rows.minutes, 0.9) as p90_minutes

    from lead_rows
    cross join windows
    cross join bounds
    where
        lead_rows.minutes is not null
        and (
            windows.window_days is null
            or lead_rows.day > bounds.as_of_day - windows.window_days
        )
    group by all

),

final as (

    select
        -- grain
        windowed.day,
        windowed.window_name as trailing_window,
        windowed.dimension,
        windowed.dimension_value,

        -- speed
        cast(windowed.leads as bigint) as leads,
        cast(windowed.touched as bigint) as touched,
        quantiles.median_minutes,
        quantiles.p90_minutes,
        cast(windowed.within_sla as double) / nullif(windowed.leads, 0) as within_sla_share,

        -- bands
        cast(windowed.leads_5m as bigint) as leads_5m,
        cast(windowed.leads_1h as bigint) as leads_1h,
        cast(windowed.leads_24h as bigint) as leads_24h,
        cast(windowed.leads_later as bigint) as leads_later,
        cast(windowed.leads_none as bigint) as leads_none,
        cast(windowed.won_5m as double) / nullif(windowed.leads_5m, 0) as lead_to_win_5m,
        cast(windowed.won_1h as double) / nullif(windowed.leads_1h, 0) as lead_to_win_1h,
        cast(windowed.won_24h as double) / nullif(windowed.leads_24h, 0) as lead_to_win_24h,
        cast(windowed.won_later as double) / nullif(windowed.leads_later, 0) as lead_to_win_later,
        cast(windowed.won_none as double) / nullif(windowed.leads_none, 0) as lead_to_win_none

    from windowed
    cross join bounds
    left join quantiles
        on
            windowed.day = bounds.as_of_day
            and windowed.dimension = quantiles.dimension
            and windowed.dimension_value = quantiles.dimension_value
            and windowed.window_name = quantiles.window_name
    where windowed.is_reader

)

select * from final
order by day, trailing_window, dimension, dimension_value
