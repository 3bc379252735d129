-- dq_quarantine: every row a run rejected, with where it came from, why, and its original text.
-- grain: (run_id, source, source_file, source_line)
-- inputs: stg_dq_quarantine
-- notes: for every run and source, rows read = rows loaded + rows quarantined (pipeline_runs).

with

quarantine as (

    select * from stg_dq_quarantine

),

final as (

    select
        -- grain
        run_id,
        source,
        source_file,
        source_line,

        -- what and why
        entity,
        reasons,
        checks,

        -- evidence
        original_row,

        -- dates
        quarantined_at

    from quarantine

)

select * from final
order by run_id, source, source_file, source_line
