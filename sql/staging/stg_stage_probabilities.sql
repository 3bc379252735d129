-- stg_stage_probabilities: the configured default win probability of each stage.
-- grain: stage
-- inputs: cfg_stage_probability (from [forecast] of the config; may lack stages)

with

source as (

    select * from cfg_stage_probability

),

renamed as (

    select
        stage,
        cast(probability as double) as default_probability

    from source

)

select * from renamed
