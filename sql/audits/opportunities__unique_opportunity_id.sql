-- audit: opportunities has one row per opportunity_id (offending: ids that repeat or are NULL).
select
    opportunity_id,
    count(*) as rows_with_id

from opportunities
group by opportunity_id
having count(*) > 1 or opportunity_id is null
