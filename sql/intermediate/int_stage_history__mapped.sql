-- int_stage_history__mapped: the stage-history rows assigned to their funnel record.
-- grain: one row per stage-history row that maps to a loaded record
-- inputs: stg_stage_history, int_opportunities__linked, stg_leads
-- decisions:
--   A row keyed by a loaded opportunity belongs to that opportunity's record (its lead's record
--   when it has one); otherwise a row keyed by a loaded lead belongs to that lead's record.
--   lead_id is the record's lead: NULL for a stand-alone opportunity's record even when the
--   row also names a lead (the record is the opportunity's, as stage_transitions.lead_id says).
--   Rows naming neither a loaded opportunity nor a loaded lead are dropped (there is no record
--   whose current state they could explain), as are entries after the as-of day.

with

history as (

    select * from stg_stage_history

),

opportunities as (

    select
        opportunity_id,
        record_id,
        record_lead_id

    from int_opportunities__linked

),

leads as (

    select lead_id from stg_leads

),

mapped as (

    select
        coalesce(opportunities.record_id, leads.lead_id) as record_id,
        case
            when opportunities.opportunity_id is not null then opportunities.record_lead_id
            else leads.lead_id
        end as lead_id,
        opportunities.opportunity_id,
        history.stage,
        history.entered_at,
        history.amount,
        history.source_system,
        history.source_file,
        history.source_line

    from history
    left join opportunities
        on history.opportunity_id = opportunities.opportunity_id
    left join leads
        on history.lead_id = leads.lead_id
    where
        coalesce(opportunities.record_id, leads.lead_id) is not null
        and history.entered_date <= cast(getvariable('as_of') as date)

)

select * from mapped
