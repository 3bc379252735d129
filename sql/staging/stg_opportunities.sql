-- stg_opportunities: the loaded opportunities, renamed and typed; nothing is derived here.
-- grain: opportunity_id
-- inputs: raw_opportunities
-- notes: stage is never NULL; probability is already in 0..1 (or NULL); lead_id may name no
-- loaded lead (the opportunity then stands alone, see int_opportunities__linked).

with

source as (

    select * from raw_opportunities

),

renamed as (

    select
        -- ids
        opportunity_id,
        lead_id,

        -- descriptors
        account,
        owner,
        pipeline,
        lost_reason,

        -- funnel
        stage,
        stage_label,
        probability,
        forecast_category as forecast_category_label,

        -- amounts
        amount,
        currency,

        -- dates
        created_at,
        cast(created_at as date) as created_date,
        expected_close_date,
        closed_at,
        cast(closed_at as date) as closed_date,
        updated_at,

        -- lineage
        source_system,
        source_file,
        source_line,
        run_id as loaded_by_run_id

    from source

)

select * from renamed
