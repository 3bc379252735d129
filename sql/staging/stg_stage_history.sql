-- stg_stage_history: the loaded stage-history rows (one row per recorded entry into a stage).
-- grain: one row per source row (no key of its own; source_system + source_file + source_line)
-- inputs: raw_stage_history
-- notes: a row is keyed by opportunity_id, lead_id or both; stage and entered_at are never NULL.

with

source as (

    select * from raw_stage_history

),

renamed as (

    select
        -- ids
        opportunity_id,
        lead_id,

        -- funnel
        stage,
        stage_label,

        -- dates
        entered_at,
        cast(entered_at as date) as entered_date,

        -- amounts
        amount,

        -- lineage
        source_system,
        source_file,
        source_line,
        run_id as loaded_by_run_id

    from source

)

select * from renamed
