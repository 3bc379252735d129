-- response_metrics_daily: speed to lead per day and window, for all leads and per owner and source.
-- grain: (day, trailing_window, dimension, dimension_value)
-- inputs: lead_response, int_day_spine, int_windows
-- decisions:
--   Over the leads created in the window ('30d', '90d', '365d' trailing days ending on day, 'all'
--   up to and including day): leads; touched (with a first touch); median_minutes and
--   p90_minutes of minutes_to_first_touch over the touched (NULL when none); within_sla_share =
--   leads within [hygiene] lead_sla_minutes / leads; per band ('5m', '1h', '24h', 'later',
--   'none') the leads and their lead-to-win rate (won / leads of the band, NULL without any).
--   Outcomes are the leads' state on the as-of day (a cohort view, as source_metrics_daily).
--   dimension: 'all' ('(all)'), 'owner' or 'source' ('(none)' when the lead names none); every
--   series gets a row on every spine day.
-- implementation: one reader row per series and day, without figures of its own, carries each
--   day's windowed figures (range frames over the lead rows); quantiles skip its NULL minutes.

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
        false as is_reader,
        1 as is_lead,
        responses.minutes_to_first_touch as minutes,
        cast(responses.first_touch_at is not null as integer) as touched,
        cast(responses.within_sla as integer) as within_sla,
        responses.sla_band,
        cast(coalesce(responses.is_won, false) as integer) as won

    from lead_response as responses
    cross join dimensions
    cross join bounds
    where responses.created_date <= bounds.as_of_day

),

series as (

    select distinct
        dimension,
        dimension_value

    from lead_rows

),

readers as (

    select
        series.dimension,
        series.dimension_value,
        spine.day,
        true as is_reader,
        0 as is_lead,
        cast(null as double) as minutes,
        0 as touched,
        0 as within_sla,
        cast(null as varchar) as sla_band,
        0 as won

    from series
    cross join spine

),

all_rows as (

    select * from lead_rows
    union all by name
    select * from readers

),

windowed as (

    select
        all_rows.is_reader,
        all_rows.day,
        windows.window_name,
        all_rows.dimension,
        all_rows.dimension_value,
        sum(all_rows.is_lead) over in_window as leads,
        sum(all_rows.touched) over in_window as touched,
        median(all_rows.minutes) over in_window as median_minutes,
        quantile_cont(all_rows.minutes, 0.9) over in_window as p90_minutes,
        sum(all_rows.within_sla) over in_window as within_sla,
        count(*) filter (where all_rows.sla_band = '5m') over in_window as leads_5m,
        count(*) filter (where all_rows.sla_band = '1h') over in_window as leads_1h,
        count(*) filter (where all_rows.sla_band = '24h') over in_window as leads_24h,
        count(*) filter (where all_rows.sla_band = 'later') over in_window as leads_later,
        count(*) filter (where all_rows.sla_band = 'none') over in_window as leads_none,
        sum(all_rows.won) filter (where all_rows.sla_band = '5m') over in_window as won_5m,
        sum(all_rows.won) filter (where all_rows.sla_band = '1h') over in_window as won_1h,
        sum(all_rows.won) filter (where all_rows.sla_band = '24h') over in_window as won_24h,
        sum(all_rows.won) filter (where all_rows.sla_band = 'later') over in_window as won_later,
        sum(all_rows.won) filter (where all_rows.sla_band = 'none') over in_window as won_none

    from all_rows
    cross join windows
    cross join bounds
    window in_window as (
        partition by all_rows.dimension, all_rows.dimension_value, windows.window_name
        order by all_rows.day
        range between interval (
            coalesce(windows.window_days - 1, date_diff('day', bounds.first_day, all_rows.day))
        ) days preceding and current row
    )

),

final as (

    select
        -- grain
        day,
        window_name as trailing_window,
        dimension,
        dimension_value,

        -- speed
        cast(leads as bigint) as leads,
        cast(touched as bigint) as touched,
        median_minutes,
        p90_minutes,
        cast(within_sla as double) / nullif(leads, 0) as within_sla_share,

        -- bands
        cast(leads_5m as bigint) as leads_5m,
        cast(leads_1h as bigint) as leads_1h,
        cast(leads_24h as bigint) as leads_24h,
        cast(leads_later as bigint) as leads_later,
        cast(leads_none as bigint) as leads_none,
        cast(won_5m as double) / nullif(leads_5m, 0) as lead_to_win_5m,
        cast(won_1h as double) / nullif(leads_1h, 0) as lead_to_win_1h,
        cast(won_24h as double) / nullif(leads_24h, 0) as lead_to_win_24h,
        cast(won_later as double) / nullif(leads_later, 0) as lead_to_win_later,
        cast(won_none as double) / nullif(leads_none, 0) as lead_to_win_none

    from windowed
    where is_reader

)

select * from final
order by day, trailing_window, dimension, dimension_value
