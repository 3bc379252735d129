-- leads: every loaded lead as of the as-of day, with its funnel state, qualification and
-- opportunity.
-- grain: lead_id
-- inputs: stg_leads, lead_qualification, opportunities, stg_activities
-- decisions:
--   stage: the lead's own canonical stage ('prospecting' when the source has none);
--   funnel_stage: the current stage of the lead's funnel record: its current opportunity's stage
--   once converted, else stage.
--   opportunity_id / opportunity_stage: the lead's current opportunity (its latest created;
--   opportunities.is_record_current).
--   is_converted: the lead has an opportunity or a converted_at; is_won: one of its
--   opportunities is won (or post_sale).

with

leads as (

    select * from stg_leads

),

qualification as (

    select
        lead_id,
        status,
        score,
        rule

    from lead_qualification

),

lead_opportunities as (

    -- opportunities whose lead_id names a loaded lead continue that lead's record
    select
        record_id as lead_id,
        count(*) as opportunity_count,
        bool_or(is_won) as has_won_opportunity,
        max(opportunity_id) filter (where is_record_current) as opportunity_id,
        max(stage) filter (where is_record_current) as opportunity_stage

    from opportunities
    where has_loaded_lead
    group by record_id

),

activities as (

    select
        lead_id,
        count(*) as activity_count,
        max(occurred_at) as last_activity_at

    from stg_activities
    where lead_id is not null
    group by lead_id

),

final as (

    select
        -- ids
        leads.lead_id,

        -- dates
        leads.created_at,
        leads.created_date,
        leads.converted_at,
        leads.updated_at,

        -- contact
        leads.email,
        leads.phone,
        leads.company,

        -- attribution
        leads.source,
        leads.owner,

        -- funnel
        coalesce(leads.stage, 'prospecting') as stage,
        leads.stage_label,
        coalesce(
            lead_opportunities.opportunity_stage, leads.stage, 'prospecting'
        ) as funnel_stage,

        -- BANT and qualification
        leads.budget,
        leads.authority,
        leads.need,
        leads.timeline,
        qualification.status as qualification_status,
        qualification.score as qualification_score,
        qualification.rule as qualification_rule,

        -- conversion
        lead_opportunities.opportunity_id,
        lead_opportunities.opportunity_stage,
        coalesce(lead_opportunities.opportunity_count, 0) as opportunity_count,
        lead_opportunities.opportunity_id is not null
        or leads.converted_at is not null as is_converted,
        coalesce(lead_opportunities.has_won_opportunity, false) as is_won,

        -- activity
        coalesce(activities.activity_count, 0) as activity_count,
        activities.last_activity_at,

        -- lineage
        leads.source_system,
        leads.source_file,
        leads.source_line

    from leads
    left join qualification
        on leads.lead_id = qualification.lead_id
    left join lead_opportunities
        on leads.lead_id = lead_opportunities.lead_id
    left join activities
        on leads.lead_id = activities.lead_id

)

select * from final
