-- response_metrics_daily: speed to lead per day and window, overall, per owner and per source.
-- grain: (day, trailing_window, dimension, dimension_value)
-- inputs: int_day_spine, int_windows, lead_response
-- decisions:
--   Over the leads created in the window ('30d', '90d', '365d' trailing days ending on day,
--   'all' up to and including day). dimension is 'all' (dimension_value '(all)'), 'owner' (the
--   lead's owner) or 'source' (the lead's source); a NULL owner or source is '(none)'. Every
--   dimension value gets a row on every spine day.
--   leads; touched (leads with a first touch); median_response_minutes and p90 (continuous
--   quantiles over the touched leads, NULL when none); within_sla = leads whose first touch came
--   within [response] sla_minutes; within_sla_share = within_sla / leads (a lead not touched
--   counts against it; NULL with no leads).
--   Per band (within_5m, within_1h, within_24h, later, none; see lead_response): leads_<band>
--   and lead_to_win_<band> = won / leads of the band (NULL when the band has no leads).
--   Response and outcome are the leads' state on the as-of day (a cohort view, as
--   source_metrics_daily): a lead touched or won after day still counts so on day's row.
-- implementation: one row per lead and dimension, plus an empty row per spine day and dimension
--   value so quiet days get their row; the quantiles are window aggregates over a range frame.

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

responses as (

    select
        lead_response.created_date as day,
        lead_response.response_minutes,
        lead_response.response_band,
        lead_response.is_within_sla,
        lead_response.is_won,
        dims.dimension,
        dims.dimension_value

    from lead_response
    cross join bounds
    cross join lateral (
        select
            'all' as dimension,
            '(all)' as dimension_value
        union all
        select
            'owner',
            coalesce(lead_response.owner, '(none)')
        union all
        select
            'source',
            coalesce(lead_response.source, '(none)')
    ) as dims
    where lead_response.created_date <= bounds.as_of_day

),

dimension_values as (

    select distinct
        dimension,
        dimension_value

    from responses

    union

    select
        'all',
        '(all)'

),

rows_and_days as (

    select
        day,
        dimension,
        dimension_value,
        1 as is_lead,
        response_minutes,
        response_band,
        is_within_sla,
        is_won

    from responses

    union all

    select
        spine.day,
        dimension_values.dimension,
        dimension_values.dimension_value,
        0,
        null,
        null,
        null,
        null

    from spine
    cross join dimension_values

),

windowed as (

    select
        rows_and_days.day,
        windows.window_name,
        rows_and_days.dimension,
        rows_and_days.dimension_value,
        rows_and_days.is_lead,
        sum(rows_and_days.is_lead) over in_window as leads,
        count(rows_and_days.response_minutes) over in_window as touched,
        quantile_cont(rows_and_days.response_minutes, 0.5) over in_window
            as median_response_minutes,
        quantile_cont(rows_and_days.response_minutes, 0.9) over in_window
            as p90_response_minutes,
        count(*) filter (where rows_and_days.is_within_sla) over in_window as within_sla,
        count(*) filter (where rows_and_days.response_band = 'within_5m') over in_window
            as leads_within_5m,
        count(*) filter (where rows_and_days.response_band = 'within_1h') over in_window
            as leads_within_1h,
        count(*) filter (where rows_and_days.response_band = 'within_24h') over in_window
            as leads_within_24h,
        count(*) filter (where rows_and_days.response_band = 'later') over in_window
            as leads_later,
        count(*) filter (where rows_and_days.response_band = 'none') over in_window
            as leads_none,
        count(*) filter (
            where rows_and_days.response_band = 'within_5m' and rows_and_days.is_won
        ) over in_window as won_within_5m,
        count(*) filter (
            where rows_and_days.response_band = 'within_1h' and rows_and_days.is_won
        ) over in_window as won_within_1h,
        count(*) filter (
            where rows_and_days.response_band = 'within_24h' and rows_and_days.is_won
        ) over in_window as won_within_24h,
        count(*) filter (
            where rows_and_days.response_band = 'later' and rows_and_days.is_won
        ) over in_window as won_later,
        count(*) filter (
            where rows_and_days.response_band = 'none' and rows_and_days.is_won
        ) over in_window as won_none

    from rows_and_days
    cross join windows
    cross join bounds
    window in_window as (
        partition by rows_and_days.dimension, rows_and_days.dimension_value, windows.window_name
        order by rows_and_days.day
        range between interval (
            coalesce(windows.window_days - 1, date_diff('day', bounds.first_day, rows_and_days.day))
        ) days preceding and current row
    )

),

final as (

    select
        -- keys
        day,
        window_name as trailing_window,
        dimension,
        dimension_value,

        -- speed to lead
        cast(leads as bigint) as leads,
        cast(touched as bigint) as touched,
        median_response_minutes,
        p90_response_minutes,
        cast(within_sla as bigint) as within_sla,
        cast(within_sla as double) / nullif(leads, 0) as within_sla_share,

        -- leads and lead-to-win by response band
        cast(leads_within_5m as bigint) as leads_within_5m,
        cast(leads_within_1h as bigint) as leads_within_1h,
        cast(leads_within_24h as bigint) as leads_within_24h,
        cast(leads_later as bigint) as leads_later,
        cast(leads_none as bigint) as leads_none,
        cast(won_within_5m as double) / nullif(leads_within_5m, 0) as lead_to_win_within_5m,
        cast(won_within_1h as double) / nullif(leads_within_1h, 0) as lead_to_win_within_1h,
        cast(won_within_24h as double) / nullif(leads_within_24h, 0) as lead_to_win_within_24h,
        cast(won_later as double) / nullif(leads_later, 0) as lead_to_win_later,
        cast(won_none as double) / nullif(leads_none, 0) as lead_to_win_none

    from windowed
    -- one row per day: the empty row every (day, dimension value) has carries the whole frame
    where is_lead = 0

)

select * from final
order by day, trailing_window, dimension, dimension_value
