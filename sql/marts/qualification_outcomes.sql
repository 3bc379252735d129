-- qualification_outcomes: each BANT status of lead_qualification against what the leads did.
-- grain: status (qualified, nurture, disqualified; all three always present)
-- inputs: leads, opportunities, stg_currency_config
-- decisions:
--   Over every loaded lead (created on or before the as-of day), by its lead_qualification
--   status; outcomes are the leads' state on the as-of day (a recent lead may not have had time
--   to convert yet).
--   converted: the lead has at least one loaded opportunity (its lead_id names the lead);
--   won: one of them is won (or post_sale); in_pipeline: one of them is still open and none
--   is won; won_amount: sum of the amounts of the won opportunities, in currency: with
--   [currency] reporting their amount_reporting (the reporting currency); without it their own
--   amounts when all of the status's won amounts are in one currency, else NULL with currency
--   NULL (amounts in several currencies are never summed: set [currency] reporting).
--   share_of_leads = leads / all leads; converted_share = converted / leads; won_share = won /
--   leads; won_share_of_converted = won / converted; won_share_lift = won_share / the won share
--   of all leads (above 1: the status picks winners better than chance). Shares are NULL when
--   the denominator is 0 (a status without leads has share_of_leads 0 while there are leads).

with

statuses as (

    select unnest(['qualified', 'nurture', 'disqualified']) as status

),

lead_opportunities as (

    select
        record_id as lead_id,
        bool_or(is_won) as has_won,
        bool_or(is_open) as has_open,
        sum(coalesce(amount_reporting, amount)) filter (where is_won) as won_amount,
        -- '' marks a won amount without a currency (kept apart from the named ones)
        list_distinct(
            list(coalesce(reporting_currency, currency, '')) filter (
                where is_won and amount is not null
            )
        ) as won_currencies

    from opportunities
    where has_loaded_lead
    group by record_id

),

outcomes as (

    select
        leads.qualification_status as status,
        leads.qualification_score as score,
        lead_opportunities.lead_id is not null as is_converted,
        coalesce(lead_opportunities.has_won, false) as is_won,
        coalesce(lead_opportunities.has_open and not lead_opportunities.has_won, false)
            as is_in_pipeline,
        lead_opportunities.won_amount,
        lead_opportunities.won_currencies

    from leads
    left join lead_opportunities
        on leads.lead_id = lead_opportunities.lead_id
    where leads.created_date <= cast(getvariable('as_of') as date)

),

per_status as (

    select
        status,
        count(*) as leads,
        avg(score) as avg_score,
        count(*) filter (where is_converted) as converted,
        count(*) filter (where is_won) as won,
        count(*) filter (where is_in_pipeline) as in_pipeline,
        sum(won_amount) as won_amount,
        list_distinct(
            flatten(list(won_currencies) filter (where won_currencies is not null))
        ) as won_currencies

    from outcomes
    group by status

),

overall as (

    select
        count(*) as leads,
        count(*) filter (where is_won) as won

    from outcomes

),

final as (

    select
        statuses.status,
        coalesce(per_status.leads, 0) as leads,
        cast(coalesce(per_status.leads, 0) as double) / nullif(overall.leads, 0)
            as share_of_leads,
        per_status.avg_score,
        coalesce(per_status.converted, 0) as converted,
        coalesce(per_status.won, 0) as won,
        coalesce(per_status.in_pipeline, 0) as in_pipeline,
        case
            when len(coalesce(per_status.won_currencies, [])) <= 1
                then coalesce(per_status.won_amount, 0)
        end as won_amount,
        cast(per_status.converted as double) / nullif(per_status.leads, 0) as converted_share,
        cast(per_status.won as double) / nullif(per_status.leads, 0) as won_share,
        cast(per_status.won as double) / nullif(per_status.converted, 0)
            as won_share_of_converted,
        (cast(per_status.won as double) / nullif(per_status.leads, 0))
        / nullif(cast(overall.won as double) / nullif(overall.leads, 0), 0) as won_share_lift,
        case
            when len(coalesce(per_status.won_currencies, [])) = 1
                then nullif(per_status.won_currencies[1], '')
            when len(coalesce(per_status.won_currencies, [])) = 0
                then settings.reporting_currency
        end as currency

    from statuses
    cross join overall
    cross join stg_currency_config as settings
    left join per_status
        on statuses.status = per_status.status

)

select * from final
order by list_position(['qualified', 'nurture', 'disqualified'], status)
