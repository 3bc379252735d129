-- audit: pipeline_runs has one row per run, and for every run and source rows read = rows loaded
-- + rows quarantined (offending: the runs and sources that break it).
with

sources as (

    select
        run_id,
        unnest(sources) as s

    from pipeline_runs

)

select
    run_id,
    null as source,
    count(*) as rows_in_grain

from pipeline_runs
group by run_id
having count(*) > 1

union all

select
    run_id,
    s.source,
    s.rows_read - s.rows_loaded - s.rows_quarantined

from sources
where s.rows_read <> s.rows_loaded + s.rows_quarantined
