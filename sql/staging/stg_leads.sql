-- stg_leads: the loaded leads, renamed and typed for the models; nothing is derived here.
-- grain: lead_id
-- inputs: raw_leads (already cleaned and validated by the Python load step)
-- notes: stage may be NULL (the source had none); the models read that as 'prospecting'.

with

source as (

    select * from raw_leads

),

renamed as (

    select
        -- ids
        lead_id,

        -- dates
        created_at,
        cast(created_at as date) as created_date,
        converted_at,
        updated_at,

        -- contact
        email,
        phone,
        company,

        -- attribution
        source,
        owner,

        -- funnel
        stage,
        stage_label,

        -- BANT inputs
        budget,
        authority,
        need,
        timeline,

        -- lineage
        source_system,
        source_file,
        source_line,
        run_id as loaded_by_run_id

    from source

)

select * from renamed
