-- int_leads__nurtured: every lead ever sent back to nurture, and whether and when it came back.
-- grain: lead_id (leads sent to nurture only)
-- inputs: stg_leads, stg_stage_history, stg_qualification_rules, int_opportunities__linked
-- decisions:
--   A nurture label is a stage label (normalised like lead_qualification: 'Re-cycled ' ->
--   're_cycled') in [qualification] nurture_labels.
--   nurtured_at: the lead's first entry into a nurture label in the stage history (rows keyed
--   to the lead, not to an opportunity); else, when its current label is a nurture label, its
--   updated_at (when not before created_at), else its created_at.
--   returned_at: the first sign after nurtured_at that the lead came back: a stage-history entry
--   of the lead under a label that is not a nurture label and a stage that is not lost, an
--   opportunity of the lead created, or the lead's converted_at. NULL: not back (yet).
--   days_to_return: calendar days from nurtured_at to returned_at.
--   is_nurtured_now: the lead's current label is a nurture label (it may have come back and
--   gone to nurture again; only its first nurture and first return are measured).
--   is_won_after_return: it came back and one of its opportunities was won (won or post_sale)
--   after nurtured_at (closed_at, else created_at, after it).

with

rules as (

    select nurture_labels from stg_qualification_rules

),

lead_rows as (

    select
        stg_leads.lead_id,
        stg_leads.created_at,
        stg_leads.updated_at,
        stg_leads.converted_at,
        coalesce(
            list_contains(
                rules.nurture_labels,
                trim(
                    regexp_replace(lower(trim(stg_leads.stage_label)), '[^a-z0-9]+', '_', 'g'),
                    '_'
                )
            ),
            false
        ) as is_nurtured_now

    from stg_leads
    left join rules
        on true

),

lead_history as (

    select
        history.lead_id,
        history.stage,
        history.entered_at,
        coalesce(
            list_contains(
                rules.nurture_labels,
                trim(
                    regexp_replace(lower(trim(history.stage_label)), '[^a-z0-9]+', '_', 'g'),
                    '_'
                )
            ),
            false
        ) as is_nurture_label

    from stg_stage_history as history
    left join rules
        on true
    where
        history.lead_id is not null
        and history.opportunity_id is null
        and history.entered_date <= cast(getvariable('as_of') as date)

),

history_nurture as (

    select
        lead_id,
        min(entered_at) as first_nurture_at

    from lead_history
    where is_nurture_label
    group by lead_id

),

first_nurture as (

    select
        lead_rows.lead_id,
        lead_rows.converted_at,
        lead_rows.is_nurtured_now,
        coalesce(
            history_nurture.first_nurture_at,
            case
                when lead_rows.is_nurtured_now and lead_rows.updated_at >= lead_rows.created_at
                    then lead_rows.updated_at
                when lead_rows.is_nurtured_now then lead_rows.created_at
            end
        ) as nurtured_at

    from lead_rows
    left join history_nurture
        on lead_rows.lead_id = history_nurture.lead_id
    where history_nurture.lead_id is not null or lead_rows.is_nurtured_now

),

comebacks as (

    select
        first_nurture.lead_id,
        lead_history.entered_at as came_back_at

    from first_nurture
    inner join lead_history
        on
            first_nurture.lead_id = lead_history.lead_id
            and lead_history.entered_at > first_nurture.nurtured_at
            and not lead_history.is_nurture_label
            and lead_history.stage <> 'lost'

    union all

    select
        first_nurture.lead_id,
        deals.created_at

    from first_nurture
    inner join int_opportunities__linked as deals
        on
            first_nurture.lead_id = deals.record_lead_id
            and deals.created_at > first_nurture.nurtured_at

    union all

    select
        lead_id,
        converted_at

    from first_nurture
    where converted_at > nurtured_at

),

wins as (

    select distinct first_nurture.lead_id

    from first_nurture
    inner join int_opportunities__linked as deals
        on
            first_nurture.lead_id = deals.record_lead_id
            and deals.is_won
            and coalesce(deals.closed_at, deals.created_at)
            > first_nurture.nurtured_at

),

final as (

    select
        first_nurture.lead_id,
        first_nurture.nurtured_at,
        min(comebacks.came_back_at) as returned_at,
        date_diff(
            'day', cast(first_nurture.nurtured_at as date), cast(min(comebacks.came_back_at) as date)
        ) as days_to_return,
        first_nurture.is_nurtured_now,
        min(comebacks.came_back_at) is not null and bool_or(wins.lead_id is not null)
            as is_won_after_return

    from first_nurture
    left join comebacks
        on first_nurture.lead_id = comebacks.lead_id
    left join wins
        on first_nurture.lead_id = wins.lead_id
    group by first_nurture.lead_id, first_nurture.nurtured_at, first_nurture.is_nurtured_now

)

select * from final
