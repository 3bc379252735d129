-- lead_followup: the leads still waiting for a first touch past the first-touch SLA.
-- grain: lead_id
-- inputs: leads, stg_hygiene_config
-- decisions:
--   A lead waits when it is open (its own stage is not won or lost, and it is not converted)
--   and nothing was ever logged on it (leads.activity_count 0). It is listed once its SLA
--   ([response] sla_minutes after created_at) has passed by the end of the as-of day: the
--   moment the warehouse describes. minutes_waiting counts to that moment as well.
--   Leads created after the as-of day, or without created_at, are not listed.

with

settings as (

    select * from stg_hygiene_config

),

bounds as (

    select cast(cast(getvariable('as_of') as date) + 1 as timestamp) as day_end

),

waiting as (

    select
        leads.lead_id,
        leads.owner,
        leads.source,
        leads.company,
        leads.stage,
        leads.qualification_status,
        leads.created_at,
        leads.created_at + to_minutes(settings.lead_sla_minutes) as sla_due_at,
        date_diff('minute', leads.created_at, bounds.day_end) as minutes_waiting

    from leads
    cross join settings
    cross join bounds
    where
        leads.created_at < bounds.day_end
        and not leads.is_converted
        and leads.stage not in ('won', 'lost')
        and leads.activity_count = 0

),

final as (

    select
        -- the lead
        lead_id,
        owner,
        source,
        company,
        stage,
        qualification_status,

        -- waiting
        created_at,
        sla_due_at,
        cast(minutes_waiting as bigint) as minutes_waiting

    from waiting
    cross join bounds
    where sla_due_at <= bounds.day_end

)

select * from final
order by created_at, lead_id
