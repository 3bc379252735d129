-- audit: lead_qualification has one row per lead, a known status, a rule, and a score >= 0.
select
    lead_id,
    count(*) as rows_with_id,
    min(status) as status,
    min(score) as score

from lead_qualification
group by lead_id
having
    count(*) > 1
    or lead_id is null
    or bool_or(status not in ('qualified', 'nurture', 'disqualified') or status is null)
    or bool_or(rule is null)
    or min(score) < 0
