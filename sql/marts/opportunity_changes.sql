-- opportunity_changes: every day a loaded opportunity's expected close, amount, stage or owner
-- changed, one row per kind of change.
-- grain: (opportunity_id, change_day, change_kind)
-- inputs: int_snapshots__opportunity_versions, stg_stage_history, int_stages__ranked,
--   int_opportunities__enriched
-- decisions:
--   Changes are read from the pipeline's own snapshots (int_snapshots__opportunity_versions):
--   a version against the one before; change_day is the snapshot day that saw it. A deal's
--   first version is no change.
--   change_kind: pushed / pulled_in (expected close later / earlier, both known), amount_up /
--   amount_down (a NULL amount counts as 0), stage_forward / stage_back (funnel rank up or
--   down; lost ranks as won, a close; a move between equal ranks is forward), owner (any
--   change, assignment included), category (the forecast category, as int_opportunities__enriched
--   decides it, changed: a stage move may change it too). One day may give several rows, one per kind, each with the
--   same old and new values.
--   Stage moves of an opportunity that has a stage history in its source come from that history
--   instead (change_source 'stage_history': the day's entries collapsed to the stage before the
--   day's first entry and the day's last one; a day that ends where it began is no move); their
--   other old and new values are the snapshot version in force that day (equal: unchanged).
--   currency: the opportunity's own currency, of old_amount and new_amount; amount_change is
--   new minus old in it, amount_change_reporting in the reporting currency at the
--   opportunity's own rate (NULL without [currency] reporting).

with

versions as (

    select * from int_snapshots__opportunity_versions

),

stages as (

    select
        stage,
        sort_order,
        coalesce(funnel_rank, 6) as funnel_level

    from int_stages__ranked

),

opportunities as (

    select
        opportunity_id,
        currency,
        reporting_currency,
        exchange_rate

    from int_opportunities__enriched

),

with_history as (

    select distinct opportunity_id
    from stg_stage_history
    where
        opportunity_id is not null
        and entered_date <= cast(getvariable('as_of') as date)

),

snapshot_changes as (

    select
        versions.opportunity_id,
        versions.snapshot_day as change_day,
        'snapshot' as change_source,
        versions.previous_expected_close_date as old_expected_close_date,
        versions.expected_close_date as new_expected_close_date,
        versions.previous_amount as old_amount,
        versions.amount as new_amount,
        versions.previous_stage as old_stage,
        versions.stage as new_stage,
        versions.previous_owner as old_owner,
        versions.owner as new_owner,
        versions.previous_probability as old_probability,
        versions.probability as new_probability,
        versions.previous_forecast_category as old_forecast_category,
        versions.forecast_category as new_forecast_category,
        with_history.opportunity_id is null as stage_counts

    from versions
    left join with_history
        on versions.opportunity_id = with_history.opportunity_id
    where versions.version_number > 1

),

history_entries as (

    select
        stg_stage_history.opportunity_id,
        stg_stage_history.entered_date,
        stg_stage_history.stage,
        lag(stg_stage_history.stage) over (
            partition by stg_stage_history.opportunity_id
            order by stg_stage_history.entered_at, stages.sort_order
        ) as previous_stage,
        row_number() over (
            partition by stg_stage_history.opportunity_id, stg_stage_history.entered_date
            order by stg_stage_history.entered_at, stages.sort_order
        ) as entry_of_day,
        count(*) over (
            partition by stg_stage_history.opportunity_id, stg_stage_history.entered_date
        ) as entries_of_day

    from stg_stage_history
    inner join stages
        on stg_stage_history.stage = stages.stage
    semi join opportunities
        on stg_stage_history.opportunity_id = opportunities.opportunity_id
    where stg_stage_history.entered_date <= cast(getvariable('as_of') as date)

),

history_days as (

    select
        opportunity_id,
        entered_date as change_day,
        max(previous_stage) filter (where entry_of_day = 1) as old_stage,
        max(stage) filter (where entry_of_day = entries_of_day) as new_stage

    from history_entries
    group by all

),

history_changes as (

    select
        history_days.opportunity_id,
        history_days.change_day,
        'stage_history' as change_source,
        versions.expected_close_date as old_expected_close_date,
        versions.expected_close_date as new_expected_close_date,
        versions.amount as old_amount,
        versions.amount as new_amount,
        history_days.old_stage,
        history_days.new_stage,
        versions.owner as old_owner,
        versions.owner as new_owner,
        versions.probability as old_probability,
        versions.probability as new_probability,
        versions.forecast_category as old_forecast_category,
        versions.forecast_category as new_forecast_category,
        true as stage_counts

    from history_days
    asof left join versions
        on
            history_days.opportunity_id = versions.opportunity_id
            and history_days.change_day >= versions.snapshot_day
    where history_days.old_stage is distinct from history_days.new_stage
        and history_days.old_stage is not null

),

changes as (

    select
        snapshot_changes.*,
        unnest([
            case
                when new_expected_close_date > old_expected_close_date then 'pushed'
                when new_expected_close_date < old_expected_close_date then 'pulled_in'
            end,
            case
                when coalesce(new_amount, 0) > coalesce(old_amount, 0) then 'amount_up'
                when coalesce(new_amount, 0) < coalesce(old_amount, 0) then 'amount_down'
            end,
            case
                when stage_counts and new_stage is distinct from old_stage then 'stage'
            end,
            case when new_owner is distinct from old_owner then 'owner' end,
            case
                when new_forecast_category is distinct from old_forecast_category
                    then 'category'
            end
        ]) as kind

    from snapshot_changes

    union all

    select
        history_changes.*,
        'stage' as kind

    from history_changes

),

final as (

    select
        changes.opportunity_id,
        changes.change_day,
        case
            when changes.kind <> 'stage' then changes.kind
            when new_stages.funnel_level < old_stages.funnel_level then 'stage_back'
            else 'stage_forward'
        end as change_kind,
        changes.change_source,

        -- expected close
        changes.old_expected_close_date,
        changes.new_expected_close_date,
        date_diff(
            'day', changes.old_expected_close_date, changes.new_expected_close_date
        ) as days_moved,

        -- amount
        opportunities.currency,
        changes.old_amount,
        changes.new_amount,
        coalesce(changes.new_amount, 0) - coalesce(changes.old_amount, 0) as amount_change,
        (coalesce(changes.new_amount, 0) - coalesce(changes.old_amount, 0))
        * opportunities.exchange_rate as amount_change_reporting,

        -- stage, owner, probability
        changes.old_stage,
        changes.new_stage,
        changes.old_owner,
        changes.new_owner,
        changes.old_probability,
        changes.new_probability,
        changes.old_forecast_category,
        changes.new_forecast_category

    from changes
    inner join opportunities
        on changes.opportunity_id = opportunities.opportunity_id
    left join stages as old_stages
        on changes.old_stage = old_stages.stage
    left join stages as new_stages
        on changes.new_stage = new_stages.stage
    where changes.kind is not null

)

select * from final
order by opportunity_id, change_day, change_kind
