-- audit: dq_results has one row per (run_id, source, check) (offending: the repeated keys).
select
    run_id,
    source,
    "check",
    count(*) as rows_in_grain

from dq_results
group by run_id, source, "check"
having count(*) > 1
