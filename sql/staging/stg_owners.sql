-- stg_owners: the loaded owners (sales reps) with their team and manager; nothing is derived.
-- grain: owner
-- inputs: raw_owners

with

source as (

    select * from raw_owners

),

renamed as (

    select
        -- ids
        owner,

        -- the team
        team,
        manager,

        -- lineage
        source_system,
        source_file,
        source_line,
        run_id as loaded_by_run_id

    from source

)

select * from renamed
