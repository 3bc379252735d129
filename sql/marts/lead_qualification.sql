-- lead_qualification: the BANT verdict on every lead, with the rule that decided it.
-- grain: lead_id
-- inputs: stg_leads, stg_qualification_rules
-- decisions:
--   Criteria (each adds its weight to score when met; an unknown input never meets it):
--     budget_met     budget >= budget_min
--     authority_met  authority, normalised like the cleaning step ('Decision Maker' ->
--                    'decision_maker'), is one of authority_roles (case-insensitive)
--     need_met       need, normalised the same way, is one of need_signals
--     timeline_met   timeline <= the lead's created day + timeline_horizon_days: the buyer
--                    means to buy within the horizon of the inquiry (a date before it counts).
--                    Measured from the created day, not the as-of day, so a lead's verdict does
--                    not drift as nights pass and can be compared with what the lead did later
--                    (qualification_outcomes).
--   status and rule, first match wins:
--     stage_label one of nurture_labels   -> nurture,      rule 'nurture_label'
--     lead stage 'lost'                   -> disqualified, rule 'stage_lost'
--     score >= qualified_min_score        -> qualified,    rule 'score>=qualified_min_score'
--     score >= nurture_min_score          -> nurture,      rule 'score>=nurture_min_score'
--     otherwise                           -> disqualified, rule 'score<nurture_min_score'
--   A missing parameter disables its criterion (weight 0) or its threshold (never matches).
--   A lead the rep sent back to nurture (its stage label, normalised like authority, is one of
--   [qualification] nurture_labels) is nurture whatever its score and whatever canonical stage
--   the label maps to: sent to nurture is not a loss, and never counted as disqualified.

with

leads as (

    select * from stg_leads

),

rules as (

    select * from stg_qualification_rules

),

-- normalise and match each distinct authority and need once, not once per lead
authorities as (

    select
        authorities.authority,
        coalesce(
            list_contains(
                rules.authority_roles,
                trim(regexp_replace(lower(trim(authorities.authority)), '[^a-z0-9]+', '_', 'g'), '_')
            ),
            false
        ) as authority_met

    from (select distinct authority from leads where authority is not null) as authorities
    left join rules
        on true

),

needs as (

    select
        needs.need,
        coalesce(
            list_contains(
                rules.need_signals,
                trim(regexp_replace(lower(trim(needs.need)), '[^a-z0-9]+', '_', 'g'), '_')
            ),
            false
        ) as need_met

    from (select distinct need from leads where need is not null) as needs
    left join rules
        on true

),

criteria as (

    select
        leads.lead_id,
        leads.stage,
        coalesce(
            list_contains(
                rules.nurture_labels,
                trim(regexp_replace(lower(trim(leads.stage_label)), '[^a-z0-9]+', '_', 'g'), '_')
            ),
            false
        ) as is_nurture_label,
        leads.budget,
        leads.authority,
        leads.need,
        leads.timeline,
        coalesce(leads.budget >= rules.budget_min, false) as budget_met,
        coalesce(authorities.authority_met, false) as authority_met,
        coalesce(needs.need_met, false) as need_met,
        coalesce(
            leads.timeline <= leads.created_date + rules.timeline_horizon_days,
            false
        ) as timeline_met,
        rules.weight_budget,
        rules.weight_authority,
        rules.weight_need,
        rules.weight_timeline,
        rules.qualified_min_score,
        rules.nurture_min_score

    from leads
    left join rules
        on true
    left join authorities
        on leads.authority = authorities.authority
    left join needs
        on leads.need = needs.need

),

scored as (

    select
        *,
        (case when budget_met then coalesce(weight_budget, 0) else 0 end)
        + (case when authority_met then coalesce(weight_authority, 0) else 0 end)
        + (case when need_met then coalesce(weight_need, 0) else 0 end)
        + (case when timeline_met then coalesce(weight_timeline, 0) else 0 end) as score

    from criteria

),

final as (

    select
        -- key
        lead_id,

        -- BANT inputs
        budget,
        authority,
        need,
        timeline,

        -- criteria
        budget_met,
        authority_met,
        need_met,
        timeline_met,
        list_filter(
            [
                case when budget_met then 'budget' end,
                case when authority_met then 'authority' end,
                case when need_met then 'need' end,
                case when timeline_met then 'timeline' end
            ],
            lambda x: x is not null
        ) as criteria_met,

        -- verdict
        cast(score as double) as score,
        case
            when is_nurture_label then 'nurture'
            when stage = 'lost' then 'disqualified'
            when score >= qualified_min_score then 'qualified'
            when score >= nurture_min_score then 'nurture'
            else 'disqualified'
        end as status,
        case
            when is_nurture_label then 'nurture_label'
            when stage = 'lost' then 'stage_lost'
            when score >= qualified_min_score then 'score>=qualified_min_score'
            when score >= nurture_min_score then 'score>=nurture_min_score'
            else 'score<nurture_min_score'
        end as rule

    from scored

)

select * from final
