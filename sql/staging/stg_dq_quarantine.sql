-- stg_dq_quarantine: every row a run rejected, with its reasons and the original text.
-- grain: (run_id, source, source_file, source_line)
-- inputs: log_dq_quarantine

with

source as (

    select * from log_dq_quarantine

),

renamed as (

    select
        -- ids
        run_id,
        source,
        entity,
        source_file,
        source_line,

        -- why
        reasons,
        checks,

        -- evidence
        original_row,

        -- dates
        quarantined_at

    from source

)

select * from renamed
