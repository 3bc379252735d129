-- stg_pipeline_runs: one pipeline run as logged (status 'running' until the run finishes).
-- grain: run_id
-- inputs: log_pipeline_runs

with

source as (

    select * from log_pipeline_runs

),

renamed as (

    select
        -- ids
        run_id,

        -- dates
        as_of,
        started_at,
        ended_at,

        -- outcome
        status,
        exit_code,
        message,
        alerts_sent

    from source

)

select * from renamed
