-- open_deal_health: every open opportunity with the signs that it needs action, and a risk score.
-- grain: opportunity_id
-- inputs: opportunities, stage_transitions, stg_state_snapshots, stg_hygiene_config
-- decisions:
--   stage_entered_at: the opportunity's latest entry into its current stage (stage_transitions),
--   else its created_at. days_in_stage: whole days from that date to the as-of day.
--   stage_p75_days: the 75th percentile of days_in_stage over the exited entries into that stage
--   of the records that were won (record_stage won or post_sale); NULL without any.
--   is_stalled: days_in_stage > stage_p75_days (false when either is NULL).
--   days_since_activity: whole days from the last activity on the opportunity to the as-of day,
--   NULL without one; is_activity_stale: more than [hygiene] stale_activity_days since the last
--   activity, or, with none, since the opportunity was created (false when neither is known).
--   is_past_close: expected_close_date before the as-of day.
--   push_count: how often the pipeline's own snapshots saw expected_close_date move later
--   (the last load of each day, up to the as-of day).
--   missing_fields: the [hygiene] required_open_fields the opportunity leaves empty.
--   risk_score (0..100) = 30 stalled + 25 stale activity + 20 past close + 5 per push (at most
--   15) + 10 when a required field is missing.

with

settings as (

    select * from stg_hygiene_config

),

as_of as (

    select cast(getvariable('as_of') as date) as as_of_day

),

open_deals as (

    select * from opportunities
    where is_open

),

current_entries as (

    select
        opportunity_id,
        stage,
        max(entered_at) as entered_at

    from stage_transitions
    where opportunity_id is not null
    group by opportunity_id, stage

),

won_stage_days as (

    select
        stage,
        quantile_cont(days_in_stage, 0.75) as p75_days

    from stage_transitions
    where record_stage in ('won', 'post_sale') and days_in_stage is not null
    group by stage

),

daily_snapshots as (

    select
        id as opportunity_id,
        snapshot_day,
        expected_close_date

    from stg_state_snapshots
    cross join as_of
    where kind = 'opportunity' and present and snapshot_day <= as_of.as_of_day
    qualify row_number() over (partition by id, snapshot_day order by load_seq desc) = 1

),

close_moves as (

    select
        opportunity_id,
        expected_close_date,
        lag(expected_close_date) over (
            partition by opportunity_id order by snapshot_day
        ) as previous_close_date

    from daily_snapshots
    where expected_close_date is not null

),

pushes as (

    select
        opportunity_id,
        count(*) filter (where expected_close_date > previous_close_date) as push_count

    from close_moves
    group by opportunity_id

),

required as (

    select
        open_deals.opportunity_id,
        list(field order by field_position) filter (
            where case field
                when 'lead_id' then open_deals.lead_id is null
                when 'account' then open_deals.account is null
                when 'owner' then open_deals.owner is null
                when 'amount' then open_deals.amount is null
                when 'currency' then open_deals.currency is null
                when 'created_at' then open_deals.created_at is null
                when 'expected_close_date' then open_deals.expected_close_date is null
                when 'probability' then open_deals.probability is null
                when 'pipeline' then open_deals.pipeline is null
                else false
            end
        ) as missing_fields

    from open_deals
    cross join settings
    cross join unnest(settings.required_open_fields) with ordinality as f (field, field_position)
    group by open_deals.opportunity_id

),

flagged as (

    select
        open_deals.opportunity_id,
        open_deals.owner,
        open_deals.account,
        open_deals.stage,
        coalesce(open_deals.reporting_currency, open_deals.currency) as currency,
        case
            when open_deals.reporting_currency is null then open_deals.amount
            else open_deals.amount_reporting
        end as amount,
        open_deals.expected_close_date,
        coalesce(current_entries.entered_at, open_deals.created_at) as stage_entered_at,
        date_diff(
            'day',
            cast(coalesce(current_entries.entered_at, open_deals.created_at) as date),
            as_of.as_of_day
        ) as days_in_stage,
        won_stage_days.p75_days as stage_p75_days,
        open_deals.last_activity_at,
        date_diff('day', cast(open_deals.last_activity_at as date), as_of.as_of_day)
            as days_since_activity,
        date_diff(
            'day',
            cast(coalesce(open_deals.last_activity_at, open_deals.created_at) as date),
            as_of.as_of_day
        ) > settings.stale_activity_days as stale,
        open_deals.expected_close_date < as_of.as_of_day as past_close,
        coalesce(pushes.push_count, 0) as push_count,
        coalesce(required.missing_fields, []) as missing_fields

    from open_deals
    cross join as_of
    cross join settings
    left join current_entries
        on
            open_deals.opportunity_id = current_entries.opportunity_id
            and open_deals.stage = current_entries.stage
    left join won_stage_days
        on open_deals.stage = won_stage_days.stage
    left join pushes
        on open_deals.opportunity_id = pushes.opportunity_id
    left join required
        on open_deals.opportunity_id = required.opportunity_id

),

final as (

    select
        -- the deal
        opportunity_id,
        owner,
        account,
        stage,
        amount,
        currency,
        expected_close_date,

        -- time in stage
        stage_entered_at,
        days_in_stage,
        stage_p75_days,
        coalesce(days_in_stage > stage_p75_days, false) as is_stalled,

        -- activity
        last_activity_at,
        days_since_activity,
        coalesce(stale, false) as is_activity_stale,

        -- close date
        coalesce(past_close, false) as is_past_close,
        cast(push_count as integer) as push_count,

        -- required fields
        missing_fields,
        cast(len(missing_fields) as integer) as missing_field_count,

        -- the score
        cast(
            30 * cast(coalesce(days_in_stage > stage_p75_days, false) as integer)
            + 25 * cast(coalesce(stale, false) as integer)
            + 20 * cast(coalesce(past_close, false) as integer)
            + 5 * least(push_count, 3)
            + 10 * cast(len(missing_fields) > 0 as integer)
            as integer
        ) as risk_score

    from flagged

)

select * from final
order by risk_score desc, opportunity_id
