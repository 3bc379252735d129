-- response_metrics_daily: speed to lead per day and window, overall, per owner and per source.
-- grain: (day, trailing_window, dimension, dimension_value)
-- inputs: int_day_spine, int_windows, lead_response
-- decisions:
--   Over the leads created in the window ('30d', '90d', '365d' trailing days ending on day,
--   'all' up to and including day). dimension is 'all' (dimension_value '(all)'), 'owner' (the
--   lead's owner) or 'source' (the lead's source); a NULL owner or source is '(none)'. Every
--   dimension value gets a row on every spine day.
--   leads; touched (leads with a first touch); median_response_minutes and p90 (continuous
--   quantiles over the touched leads, on month ends and the as-of day; NULL on other days and
--   when none was touched); within_sla = leads whose first touch came
--   within [response] sla_minutes; within_sla_share = within_sla / leads (a lead not touched
--   counts against it; NULL with no leads).
--   Per band (within_5m, within_1h, within_24h, later, none; see lead_response): leads_<band>
--   and lead_to_win_<band> = won / leads of the band (NULL when the band has no leads).
--   Response and outcome are the leads' state on the as-of day (a cohort view, as
--   source_metrics_daily): a lead touched or won after day still counts so on day's row.
-- implementation: counts are summed per dimension value and day, then rolled over a dense
--   (value x day) grid with range frames. The median and p90 are computed for each month's last
--   day and the as-of day only (NULL on other days), by a join of those days with the leads in
--   their windows: a window quantile on every day grows with days x leads (docs/decisions.md).
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

daily as (

    -- per dimension value and created day: the counts every window sums
    select
        dimension,
        dimension_value,
        day,
        count(*) as leads,
        count(response_minutes) as touched,
        count(*) filter (where is_within_sla) as within_sla,
        count(*) filter (where response_band = 'within_5m') as leads_within_5m,
        count(*) filter (where response_band = 'within_1h') as leads_within_1h,
        count(*) filter (where response_band = 'within_24h') as leads_within_24h,
        count(*) filter (where response_band = 'later') as leads_later,
        count(*) filter (where response_band = 'none') as leads_none,
        count(*) filter (where response_band = 'within_5m' and is_won) as won_within_5m,
        count(*) filter (where response_band = 'within_1h' and is_won) as won_within_1h,
        count(*) filter (where response_band = 'within_24h' and is_won) as won_within_24h,
        count(*) filter (where response_band = 'later' and is_won) as won_later,
        count(*) filter (where response_band = 'none' and is_won) as won_none

    from responses
    group by all

),

filled as (

    -- a dense (dimension value x day) grid, so every window is a range frame over days
    select
        dimension_values.dimension,
        dimension_values.dimension_value,
        spine.day,
        coalesce(daily.leads, 0) as leads,
        coalesce(daily.touched, 0) as touched,
        coalesce(daily.within_sla, 0) as within_sla,
        coalesce(daily.leads_within_5m, 0) as leads_within_5m,
        coalesce(daily.leads_within_1h, 0) as leads_within_1h,
        coalesce(daily.leads_within_24h, 0) as leads_within_24h,
        coalesce(daily.leads_later, 0) as leads_later,
        coalesce(daily.leads_none, 0) as leads_none,
        coalesce(daily.won_within_5m, 0) as won_within_5m,
        coalesce(daily.won_within_1h, 0) as won_within_1h,
        coalesce(daily.won_within_24h, 0) as won_within_24h,
        coalesce(daily.won_later, 0) as won_later,
        coalesce(daily.won_none, 0) as won_none

    from dimension_values
    cross join spine
    left join daily
        on
            dimension_values.dimension = daily.dimension
            and dimension_values.dimension_value = daily.dimension_value
            and spine.day = daily.day

),

windowed as (

    select
        filled.day,
        windows.window_name,
        windows.window_days,
        filled.dimension,
        filled.dimension_value,
        sum(filled.leads) over in_window as leads,
        sum(filled.touched) over in_window as touched,
        sum(filled.within_sla) over in_window as within_sla,
        sum(filled.leads_within_5m) over in_window as leads_within_5m,
        sum(filled.leads_within_1h) over in_window as leads_within_1h,
        sum(filled.leads_within_24h) over in_window as leads_within_24h,
        sum(filled.leads_later) over in_window as leads_later,
        sum(filled.leads_none) over in_window as leads_none,
        sum(filled.won_within_5m) over in_window as won_within_5m,
        sum(filled.won_within_1h) over in_window as won_within_1h,
        sum(filled.won_within_24h) over in_window as won_within_24h,
        sum(filled.won_later) over in_window as won_later,
        sum(filled.won_none) over in_window as won_none

    from filled
    cross join windows
    cross join bounds
    window in_window as (
        partition by filled.dimension, filled.dimension_value, windows.window_name
        order by filled.day
        range between interval (
            coalesce(windows.window_days - 1, date_diff('day', bounds.first_day, filled.day))
        ) days preceding and current row
    )

),

quantile_days as (

    -- the days whose windows get a median and p90: each month's last day and the as-of day
    select spine.day

    from spine
    cross join bounds
    where spine.day = last_day(spine.day) or spine.day = bounds.as_of_day

),

quantiles as (

    select
        quantile_days.day,
        windows.window_name,
        responses.dimension,
        responses.dimension_value,
        quantile_cont(responses.response_minutes, 0.5) as median_response_minutes,
        quantile_cont(responses.response_minutes, 0.9) as p90_response_minutes

    from quantile_days
    cross join windows
    inner join responses
        on
            responses.day <= quantile_days.day
            and (
                windows.window_days is null
                or responses.day > quantile_days.day - windows.window_days
            )
    where responses.response_minutes is not null
    group by all

),

final as (

    select
        -- keys
        windowed.day,
        windowed.window_name as trailing_window,
        windowed.dimension,
        windowed.dimension_value,

        -- speed to lead
        cast(leads as bigint) as leads,
        cast(touched as bigint) as touched,
        quantiles.median_response_minutes,
        quantiles.p90_response_minutes,
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
    left join quantiles
        on
            windowed.day = quantiles.day
            and windowed.window_name = quantiles.window_name
            and windowed.dimension = quantiles.dimension
            and windowed.dimension_value = quantiles.dimension_value

)

select * from final
order by day, trailing_window, dimension, dimension_value
