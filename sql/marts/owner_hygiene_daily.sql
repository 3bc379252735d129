-- owner_hygiene_daily: each owner's open deals, day by day, scored on how well they are kept.
-- grain: (day, owner)
-- inputs: int_day_spine, stg_state_snapshots, opportunities, stage_transitions, stg_activities,
--   stg_hygiene_config
-- decisions:
--   Days: the last 90 days of the spine up to the as-of day, from the first day the pipeline's
--   own snapshots saw the deals (the state of a past day is the one its night recorded, so the
--   trend starts with the first run and grows by a day each night).
--   Open deals of a day: the opportunities whose latest snapshot on or before that day says
--   present and open; owner, stage, amount, probability and expected_close_date as of that
--   snapshot. The other [hygiene] required_open_fields (lead_id, account, currency,
--   created_at, pipeline) are the opportunity's current values.
--   Per owner and day, shares of the open deals: missing each required field
--   (missing_field_shares), stalled (days in the stage of that day, since its latest entry on or
--   before the day, else since created, above open_deal_health's stage_p75_days), past close
--   (expected_close_date before the day), stale (no activity on or before the day for more than
--   stale_activity_days, counted from created when there was none).
--   hygiene_score = 1 - the mean of those shares (each required field's, stalled, past close,
--   stale): 1 is a spotless pipeline. '(none)' is the owner of deals without one.

with

settings as (

    select * from stg_hygiene_config

),

bounds as (

    select cast(getvariable('as_of') as date) as as_of_day

),

snapshots as (

    select
        id as opportunity_id,
        snapshot_day,
        present,
        is_open,
        stage,
        owner,
        amount,
        probability,
        expected_close_date

    from stg_state_snapshots
    cross join bounds
    where kind = 'opportunity' and snapshot_day <= bounds.as_of_day
    qualify row_number() over (partition by id, snapshot_day order by load_seq desc) = 1

),

days as (

    select spine.day
    from int_day_spine as spine
    cross join bounds
    where
        spine.day > bounds.as_of_day - 90
        and spine.day >= (select min(snapshot_day) from snapshots)

),

valid as (

    select
        *,
        coalesce(
            lead(snapshot_day) over (partition by opportunity_id order by snapshot_day) - 1,
            (select as_of_day from bounds)
        ) as valid_until

    from snapshots

),

deal_days as (

    select
        days.day,
        valid.opportunity_id,
        valid.stage,
        coalesce(valid.owner, '(none)') as owner,
        valid.owner as owner_value,
        valid.amount,
        valid.probability,
        valid.expected_close_date,
        cast(opportunities.created_at as date) as created_date,
        opportunities.lead_id,
        opportunities.account,
        opportunities.currency,
        opportunities.created_at,
        opportunities.pipeline

    from valid
    inner join days
        on days.day between valid.snapshot_day and valid.valid_until
    left join opportunities
        on valid.opportunity_id = opportunities.opportunity_id
    where valid.present and valid.is_open

),

entries as (

    select
        opportunity_id,
        stage,
        cast(entered_at as date) as entered_date

    from stage_transitions
    where opportunity_id is not null

),

won_stage_days as (

    select
        stage,
        quantile_cont(days_in_stage, 0.75) as p75_days

    from stage_transitions
    where record_stage in ('won', 'post_sale') and days_in_stage is not null
    group by stage

),

activities as (

    select
        opportunity_id,
        occurred_date

    from stg_activities
    where opportunity_id is not null and occurred_date is not null

),

with_entries as (

    select
        deal_days.*,
        entries.entered_date

    from deal_days
    asof left join entries
        on
            deal_days.opportunity_id = entries.opportunity_id
            and deal_days.stage = entries.stage
            and deal_days.day >= entries.entered_date

),

flagged as (

    select
        with_entries.*,
        coalesce(
            date_diff(
                'day',
                coalesce(with_entries.entered_date, with_entries.created_date),
                with_entries.day
            ) > won_stage_days.p75_days,
            false
        ) as is_stalled,
        coalesce(with_entries.expected_close_date < with_entries.day, false) as is_past_close,
        coalesce(
            date_diff(
                'day',
                coalesce(activities.occurred_date, with_entries.created_date),
                with_entries.day
            ) > settings.stale_activity_days,
            false
        ) as is_activity_stale

    from with_entries
    cross join settings
    left join won_stage_days
        on with_entries.stage = won_stage_days.stage
    asof left join activities
        on
            with_entries.opportunity_id = activities.opportunity_id
            and with_entries.day >= activities.occurred_date

),

owner_days as (

    select
        day,
        owner,
        count(*) as open_deals,
        avg(cast(is_stalled as integer)) as stalled_share,
        avg(cast(is_past_close as integer)) as past_close_share,
        avg(cast(is_activity_stale as integer)) as stale_activity_share

    from flagged
    group by day, owner

),

field_shares as (

    select
        flagged.day,
        flagged.owner,
        f.field,
        f.field_position,
        avg(cast(
            case f.field
                when 'lead_id' then flagged.lead_id is null
                when 'account' then flagged.account is null
                when 'owner' then flagged.owner_value is null
                when 'amount' then flagged.amount is null
                when 'currency' then flagged.currency is null
                when 'created_at' then flagged.created_at is null
                when 'expected_close_date' then flagged.expected_close_date is null
                when 'probability' then flagged.probability is null
                when 'pipeline' then flagged.pipeline is null
                else false
            end as integer
        )) as share

    from flagged
    cross join settings
    cross join unnest(settings.required_open_fields) with ordinality as f (field, field_position)
    group by all

),

owner_fields as (

    select
        day,
        owner,
        map_from_entries(list(struct_pack(k := field, v := share) order by field_position))
            as missing_field_shares,
        sum(share) as field_share_sum,
        count(*) as field_count

    from field_shares
    group by day, owner

),

final as (

    select
        -- grain
        owner_days.day,
        owner_days.owner,

        -- the open deals
        cast(owner_days.open_deals as bigint) as open_deals,

        -- shares
        coalesce(owner_fields.missing_field_shares, map()) as missing_field_shares,
        owner_days.stalled_share,
        owner_days.past_close_share,
        owner_days.stale_activity_share,

        -- the score
        1 - (
            coalesce(owner_fields.field_share_sum, 0)
            + owner_days.stalled_share
            + owner_days.past_close_share
            + owner_days.stale_activity_share
        ) / (coalesce(owner_fields.field_count, 0) + 3) as hygiene_score

    from owner_days
    left join owner_fields
        on owner_days.day = owner_fields.day and owner_days.owner = owner_fields.owner

)

select * from final
order by day, owner
