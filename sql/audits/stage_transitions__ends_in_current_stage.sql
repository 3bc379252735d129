-- audit: every record's entries end in its current stage, whatever their source (history,
-- snapshots, timestamps): record_stage of stage_transitions is the stage leads.funnel_stage (or,
-- for an opportunity without a loaded lead, opportunities.stage) shows, and a current dated
-- entry is in that stage (offending: the records that break it).
with

current_stages as (

    select
        lead_id as record_id,
        funnel_stage as stage

    from leads

    union all

    select
        opportunity_id as record_id,
        stage

    from opportunities
    where not has_loaded_lead

)

select
    stage_transitions.record_id,
    stage_transitions.stage,
    stage_transitions.record_stage,
    current_stages.stage as current_stage

from stage_transitions
left join current_stages
    on stage_transitions.record_id = current_stages.record_id
where
    stage_transitions.record_stage is distinct from current_stages.stage
    or (stage_transitions.is_current and stage_transitions.stage <> current_stages.stage)
