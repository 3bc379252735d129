-- audit: leads has one row per lead_id (offending: ids that repeat or are NULL).
select
    lead_id,
    count(*) as rows_with_id

from leads
group by lead_id
having count(*) > 1 or lead_id is null
