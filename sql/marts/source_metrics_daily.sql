-- source_metrics_daily: lead volume and outcome by lead source, per day and window.
-- grain: (day, trailing_window, source)
-- inputs: int_day_spine, stg_leads, lead_qualification, opportunities, int_windows
-- decisions:
--   Over the leads created in the window ('30d', '90d', '365d' trailing days ending on day,
--   'all' up to and including day): leads; qualified (lead_qualification.status = 'qualified');
--   nurtured and disqualified (status 'nurture' / 'disqualified': a lead sent back to nurture is
--   kept apart from the disqualified, never counted as a loss);
--   converted (the lead has an opportunity or a converted_at); won (one of its opportunities is
--   won or post_sale); lead_to_win_rate = won / leads (NULL with no leads).
--   Outcomes are the leads' state on the as-of day (a cohort view): a lead created in March and
--   won in June counts as won on March's rows too.
--   source is the lead's source, '(none)' when NULL; every source gets a row on every spine day.

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

lead_outcomes as (

    -- opportunities whose lead_id names a loaded lead continue that lead's record
    select
        record_id as lead_id,
        bool_or(is_won) as has_won_opportunity

    from opportunities
    where has_loaded_lead
    group by record_id

),

flagged as (

    select
        coalesce(leads.source, '(none)') as source_key,
        leads.created_date as day,
        coalesce(lead_qualification.status = 'qualified', false) as is_qualified,
        coalesce(lead_qualification.status = 'nurture', false) as is_nurtured,
        coalesce(lead_qualification.status = 'disqualified', false) as is_disqualified,
        lead_outcomes.lead_id is not null or leads.converted_at is not null as is_converted,
        coalesce(lead_outcomes.has_won_opportunity, false) as is_won

    from stg_leads as leads
    cross join bounds
    left join lead_qualification
        on leads.lead_id = lead_qualification.lead_id
    left join lead_outcomes
        on leads.lead_id = lead_outcomes.lead_id
    where leads.created_date <= bounds.as_of_day

),

daily as (

    select
        source_key,
        day,
        count(*) as leads,
        count(*) filter (where is_qualified) as qualified,
        count(*) filter (where is_nurtured) as nurtured,
        count(*) filter (where is_disqualified) as disqualified,
        count(*) filter (where is_converted) as converted,
        count(*) filter (where is_won) as won

    from flagged
    group by source_key, day

),

sources as (

    select distinct source_key from flagged

),

filled as (

    select
        sources.source_key,
        spine.day,
        coalesce(daily.leads, 0) as leads,
        coalesce(daily.qualified, 0) as qualified,
        coalesce(daily.nurtured, 0) as nurtured,
        coalesce(daily.disqualified, 0) as disqualified,
        coalesce(daily.converted, 0) as converted,
        coalesce(daily.won, 0) as won

    from sources
    cross join spine
    left join daily
        on sources.source_key = daily.source_key and spine.day = daily.day

),

windowed as (

    select
        filled.day,
        windows.window_name,
        filled.source_key,
        sum(filled.leads) over in_window as leads,
        sum(filled.qualified) over in_window as qualified,
        sum(filled.nurtured) over in_window as nurtured,
        sum(filled.disqualified) over in_window as disqualified,
        sum(filled.converted) over in_window as converted,
        sum(filled.won) over in_window as won

    from filled
    cross join windows
    cross join bounds
    window in_window as (
        partition by filled.source_key, windows.window_name
        order by filled.day
        range between interval (
            coalesce(windows.window_days - 1, date_diff('day', bounds.first_day, filled.day))
        ) days preceding and current row
    )

),

final as (

    select
        day,
        window_name as trailing_window,
        source_key as source,
        cast(leads as bigint) as leads,
        cast(qualified as bigint) as qualified,
        cast(nurtured as bigint) as nurtured,
        cast(disqualified as bigint) as disqualified,
        cast(converted as bigint) as converted,
        cast(won as bigint) as won,
        cast(won as double) / nullif(leads, 0) as lead_to_win_rate

    from windowed

)

select * from final
order by day, trailing_window, source
