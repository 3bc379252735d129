-- pipeline_runs: one row per pipeline run with its outcome and row counts.
-- grain: run_id
-- inputs: stg_pipeline_runs, stg_run_sources
-- decisions: rows_read / rows_loaded / rows_quarantined / rows_warned are totals over the run's
-- sources (0 when none was logged); sources lists one struct per source, ordered by name.
-- The table is built during the run, before its publish: the file is only ever seen once the
-- run that built it published it, so that run shows as published (exit code 0) here while
-- the log still says loaded; its ended_at is the log's at build time (when its rows loaded).

with

runs as (

    select * from stg_pipeline_runs

),

run_sources as (

    select * from stg_run_sources

),

final as (

    select
        -- grain
        runs.run_id,

        -- dates
        runs.as_of,
        runs.started_at,
        runs.ended_at,
        date_diff('millisecond', runs.started_at, runs.ended_at) / 1000.0 as duration_seconds,

        -- outcome
        case
            when runs.run_id = getvariable('run_id') then 'published'
            else runs.status
        end as status,
        case
            when runs.run_id = getvariable('run_id') then 0
            else runs.exit_code
        end as exit_code,
        runs.message,
        runs.alerts_sent,

        -- row counts
        cast(coalesce(sum(run_sources.rows_read), 0) as bigint) as rows_read,
        cast(coalesce(sum(run_sources.rows_loaded), 0) as bigint) as rows_loaded,
        cast(coalesce(sum(run_sources.rows_quarantined), 0) as bigint) as rows_quarantined,
        cast(coalesce(sum(run_sources.rows_warned), 0) as bigint) as rows_warned,
        list_filter(
            list(
                struct_pack(
                    source := run_sources.source,
                    entity := run_sources.entity,
                    rows_read := run_sources.rows_read,
                    rows_loaded := run_sources.rows_loaded,
                    rows_quarantined := run_sources.rows_quarantined,
                    rows_warned := run_sources.rows_warned,
                    mode := run_sources.mode,
                    encoding := run_sources.encoding
                )
                order by run_sources.source
            ),
            lambda s: s.source is not null
        ) as sources

    from runs
    left join run_sources
        on runs.run_id = run_sources.run_id
    group by all

)

select * from final
order by started_at, run_id
