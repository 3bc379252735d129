-- int_opportunities__linked: each opportunity with the funnel record it belongs to.
-- grain: opportunity_id
-- inputs: int_opportunities__enriched, stg_leads
-- decisions:
--   record_lead_id     lead_id when it names a loaded lead, else NULL.
--   record_id          the lead's id when lead_id names a loaded lead (the opportunity continues
--                      that lead's funnel), else the opportunity's own id (it stands alone).
--   is_record_current  the opportunity that gives its record the current stage: the record's
--                      latest created (created_at NULL counts as oldest; ties by the larger id).

with

opportunities as (

    select * from int_opportunities__enriched

),

leads as (

    select lead_id from stg_leads

),

linked as (

    select
        opportunities.*,
        leads.lead_id as record_lead_id,
        coalesce(leads.lead_id, opportunities.opportunity_id) as record_id

    from opportunities
    left join leads
        on opportunities.lead_id = leads.lead_id

),

ranked as (

    select
        *,
        row_number() over (
            partition by record_id
            order by created_at desc nulls last, opportunity_id desc
        ) = 1 as is_record_current

    from linked

)

select * from ranked
