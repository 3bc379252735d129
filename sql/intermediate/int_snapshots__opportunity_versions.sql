-- int_snapshots__opportunity_versions: each loaded opportunity's states as the pipeline's own
-- snapshots saw them, one row per day its tracked state changed, with the state before.
-- grain: (opportunity_id, snapshot_day)
-- inputs: stg_state_snapshots, stg_opportunities, int_forecast_categories, stg_stage_categories
-- decisions:
--   Snapshots up to the as-of day only; of several loads of one day the last one counts; days
--   the opportunity was not loaded (present false) are skipped (absence is no move), as are
--   opportunities no longer loaded (every table describes the loaded ones).
--   version_number counts the opportunity's versions from 1 (its first snapshot); previous_*
--   is the version before (NULL on the first).
--   forecast_category: as int_opportunities__enriched decides it (closed when won, omitted
--   when lost, else the snapshot's own category, else the stage's configured one).

with

as_of as (

    select cast(getvariable('as_of') as date) as as_of_day

),

snapshots as (

    select
        stg_state_snapshots.id as opportunity_id,
        stg_state_snapshots.snapshot_day,
        stg_state_snapshots.stage,
        stg_state_snapshots.owner,
        stg_state_snapshots.amount,
        stg_state_snapshots.probability,
        stg_state_snapshots.expected_close_date,
        stg_state_snapshots.updated_at,
        case
            when stg_state_snapshots.stage in ('won', 'post_sale') then 'closed'
            when stg_state_snapshots.stage = 'lost' then 'omitted'
            else coalesce(labels.forecast_category, stage_categories.forecast_category, 'pipeline')
        end as forecast_category

    from stg_state_snapshots
    cross join as_of
    left join int_forecast_categories as labels
        on
            regexp_replace(lower(stg_state_snapshots.forecast_category_label), '[^a-z]', '', 'g')
            = labels.label_key
    left join stg_stage_categories as stage_categories
        on stg_state_snapshots.stage = stage_categories.stage
    semi join stg_opportunities
        on stg_state_snapshots.id = stg_opportunities.opportunity_id
    where
        stg_state_snapshots.kind = 'opportunity'
        and stg_state_snapshots.snapshot_day <= as_of.as_of_day
    qualify
        row_number() over (
            partition by stg_state_snapshots.id, stg_state_snapshots.snapshot_day
            order by stg_state_snapshots.load_seq desc
        ) = 1
        and stg_state_snapshots.present

),

versions as (

    select
        *,
        row_number() over by_opportunity as version_number,
        lag(snapshot_day) over by_opportunity as previous_day,
        lag(stage) over by_opportunity as previous_stage,
        lag(owner) over by_opportunity as previous_owner,
        lag(amount) over by_opportunity as previous_amount,
        lag(probability) over by_opportunity as previous_probability,
        lag(expected_close_date) over by_opportunity as previous_expected_close_date,
        lag(forecast_category) over by_opportunity as previous_forecast_category

    from snapshots
    window by_opportunity as (partition by opportunity_id order by snapshot_day)

)

select * from versions
