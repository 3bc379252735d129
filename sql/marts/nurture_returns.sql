-- nurture_returns: how many leads sent back to nurture come back, after how long, how many win.
-- grain: source ('(all)' for every lead together, '(none)' for leads without a source)
-- inputs: int_leads__nurtured, stg_leads
-- decisions:
--   Over the leads ever sent to nurture (int_leads__nurtured: first nurture and first return):
--   nurtured; returned (came back: a later non-nurture, non-lost stage, an opportunity or a
--   conversion); still_nurtured (the current label is a nurture label); return_rate =
--   returned / nurtured; median_days_to_return and avg_days_to_return over the returned (NULL
--   with none); won (came back and won); win_rate_after_return = won / returned (NULL with
--   none). The '(all)' row always exists, with zeros when no lead was ever nurtured.

with

nurtured as (

    select
        coalesce(stg_leads.source, '(none)') as source,
        int_leads__nurtured.*

    from int_leads__nurtured
    inner join stg_leads
        on int_leads__nurtured.lead_id = stg_leads.lead_id

),

by_source as (

    select
        dims.source,
        nurtured.lead_id,
        nurtured.returned_at,
        nurtured.days_to_return,
        nurtured.is_nurtured_now,
        nurtured.is_won_after_return

    from (
        select '(all)' as source
        union
        select distinct source from nurtured
    ) as dims
    left join nurtured
        on dims.source = '(all)' or dims.source = nurtured.source

),

final as (

    select
        source,
        count(lead_id) as nurtured,
        count(returned_at) as returned,
        count(*) filter (where is_nurtured_now) as still_nurtured,
        cast(count(returned_at) as double) / nullif(count(lead_id), 0) as return_rate,
        quantile_cont(days_to_return, 0.5) as median_days_to_return,
        avg(days_to_return) as avg_days_to_return,
        count(*) filter (where is_won_after_return) as won,
        cast(count(*) filter (where is_won_after_return) as double)
        / nullif(count(returned_at), 0) as win_rate_after_return

    from by_source
    group by source

)

select * from final
order by source <> '(all)', source
