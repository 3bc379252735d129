-- audit: stage_transitions is unique on (record_id, stage, entered_at), never exits before it
-- enters, and each record has at most one current entry (offending: the records that break it).
select
    record_id,
    stage,
    entered_at,
    count(*) as entries

from stage_transitions
group by record_id, stage, entered_at
having count(*) > 1 or entered_at is null or bool_or(exited_at < entered_at)

union all

select
    record_id,
    null as stage,
    null as entered_at,
    count(*) as entries

from stage_transitions
where is_current
group by record_id
having count(*) > 1
