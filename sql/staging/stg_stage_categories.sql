-- stg_stage_categories: the configured forecast category of each stage.
-- grain: stage
-- inputs: cfg_stage_category (from [forecast.stage_category] of the config, defaults filled in)

with

source as (

    select * from cfg_stage_category

),

renamed as (

    select
        stage,
        forecast_category

    from source

)

select * from renamed
