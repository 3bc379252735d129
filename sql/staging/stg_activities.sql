-- stg_activities: the loaded activities (calls, emails, meetings) on leads and opportunities.
-- grain: activity_id
-- inputs: raw_activities

with

source as (

    select * from raw_activities

),

renamed as (

    select
        -- ids
        activity_id,
        opportunity_id,
        lead_id,

        -- descriptors
        type as activity_type,
        owner,

        -- dates
        occurred_at,
        cast(occurred_at as date) as occurred_date,

        -- lineage
        source_system,
        source_file,
        source_line,
        run_id as loaded_by_run_id

    from source

)

select * from renamed
