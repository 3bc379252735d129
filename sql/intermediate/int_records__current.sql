-- int_records__current: every funnel record with its current stage and the best-known moment
-- it entered that stage.
-- grain: record_id
-- inputs: stg_leads, int_opportunities__linked
-- decisions:
--   A record is a lead (record_id = lead_id; its opportunities continue its funnel) or an
--   opportunity without a loaded lead (record_id = opportunity_id). Lead ids and the ids of
--   opportunities that stand alone share this key; they are assumed not to clash.
--   current_stage: the current opportunity's stage (latest created), else the lead's stage,
--   else 'prospecting' (a lead without a stage).
--   current_entered_at, when the record has no stage history or its history lags behind:
--     opportunity won/lost/post_sale -> closed_at, else created_at (closed_at unknown -> created_at);
--     open opportunity -> created_at;
--     lead without opportunity in prospecting -> created_at;
--     lead without opportunity in a later stage -> updated_at (the last change is the best proxy
--     a snapshot export has), when not before created_at; else unknown (NULL).
--   Unknown moments stay NULL: such entries are left out of stage_transitions but the record
--   still counts in funnel_daily.in_stage on the as-of day.

with

leads as (

    select * from stg_leads

),

current_opportunities as (

    select * from int_opportunities__linked
    where is_record_current

),

lead_records as (

    select
        leads.lead_id as record_id,
        'lead' as record_type,
        leads.lead_id,
        current_opportunities.opportunity_id,
        coalesce(current_opportunities.stage, leads.stage, 'prospecting') as current_stage,
        leads.created_at as lead_created_at,
        case
            when current_opportunities.opportunity_id is not null
                then case
                    when not current_opportunities.is_open
                        then coalesce(
                            current_opportunities.closed_at, current_opportunities.created_at
                        )
                    else current_opportunities.created_at
                end
            when coalesce(leads.stage, 'prospecting') = 'prospecting'
                then leads.created_at
            when leads.updated_at >= leads.created_at
                then leads.updated_at
        end as current_entered_at

    from leads
    left join current_opportunities
        on leads.lead_id = current_opportunities.record_lead_id

),

opportunity_records as (

    select
        opportunity_id as record_id,
        'opportunity' as record_type,
        cast(null as varchar) as lead_id,
        opportunity_id,
        stage as current_stage,
        cast(null as timestamp) as lead_created_at,
        case
            when not is_open then coalesce(closed_at, created_at)
            else created_at
        end as current_entered_at

    from current_opportunities
    where record_lead_id is null

),

records as (

    select * from lead_records
    union all
    select * from opportunity_records

)

select * from records
