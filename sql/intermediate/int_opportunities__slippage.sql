-- int_opportunities__slippage: how far each loaded opportunity's expected close has moved.
-- grain: opportunity_id
-- inputs: stg_opportunities, int_snapshots__opportunity_versions
-- decisions:
--   first_expected_close: the first expected close date the snapshots saw (the earliest
--   version that has one), else the current one (no snapshot with a date yet).
--   push_count: the versions whose expected close moved later than the version before (both
--   dates known), the change_kind 'pushed' rows of opportunity_changes.
--   days_slipped: current expected close minus first_expected_close, in days (negative when
--   pulled in overall); NULL without a current expected close.

with

opportunities as (

    select
        opportunity_id,
        expected_close_date

    from stg_opportunities

),

versions as (

    select
        opportunity_id,
        arg_min(expected_close_date, snapshot_day) filter (
            where expected_close_date is not null
        ) as first_seen_expected_close,
        count(*) filter (
            where expected_close_date > previous_expected_close_date
        ) as push_count

    from int_snapshots__opportunity_versions
    group by opportunity_id

),

final as (

    select
        opportunities.opportunity_id,
        coalesce(
            versions.first_seen_expected_close, opportunities.expected_close_date
        ) as first_expected_close,
        coalesce(versions.push_count, 0) as push_count,
        date_diff(
            'day',
            coalesce(versions.first_seen_expected_close, opportunities.expected_close_date),
            opportunities.expected_close_date
        ) as days_slipped

    from opportunities
    left join versions
        on opportunities.opportunity_id = versions.opportunity_id

)

select * from final
