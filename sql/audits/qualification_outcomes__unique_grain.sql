-- audit: qualification_outcomes has exactly the three statuses once each, its leads add up to
-- the leads created by the as-of day, and its counts nest (offending rows).
select
    status,
    count(*) over (partition by status) as rows_in_grain,
    leads

from qualification_outcomes
qualify
    count(*) over (partition by status) > 1
    or status not in ('qualified', 'nurture', 'disqualified')
    or count(*) over () <> 3
    or won > converted
    or converted > leads
    or in_pipeline + won > converted
    or sum(leads) over () <> (
        select count(*) from leads where created_date <= cast(getvariable('as_of') as date)
    )
