-- dq_results: every data-quality check of every source in every run.
-- grain: (run_id, source, check)
-- inputs: stg_dq_results
-- notes: failed_share = rows_failed / rows_checked (NULL when nothing was checked).

with

results as (

    select * from stg_dq_results

),

final as (

    select
        -- grain
        run_id,
        source,
        "check",

        -- what was checked
        entity,
        column_name,
        severity,

        -- verdict
        rows_checked,
        rows_failed,
        cast(rows_failed as double) / nullif(rows_checked, 0) as failed_share,
        passed,
        details,

        -- dates
        checked_at

    from results

)

select * from final
order by run_id, source, "check"
