-- stg_dq_results: one data-quality check of one source in one run, as the pipeline logged it.
-- grain: (run_id, source, check)
-- inputs: log_dq_results

with

source as (

    select * from log_dq_results

),

renamed as (

    select
        -- ids
        run_id,
        source,
        entity,
        "check",
        column_name,

        -- verdict
        severity,
        rows_checked,
        rows_failed,
        passed,
        -- what a check found in words (outcome_recognised, number_format, freshness, row_volume)
        details,

        -- dates
        checked_at

    from source

)

select * from renamed
