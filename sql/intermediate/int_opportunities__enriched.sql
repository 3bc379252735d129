-- int_opportunities__enriched: each opportunity with its state flags, cycle and effective
-- probability (no link to its lead; see int_opportunities__linked).
-- grain: opportunity_id
-- inputs: int_opportunities__converted, int_stages__ranked, int_snapshots__opportunity_dates,
--   int_forecast_categories, stg_stage_categories
-- decisions:
--   closed_at / closed_date  the source's close date; for a closed opportunity without one, the
--                      moment the pipeline's own snapshots saw the close (moved into won or lost
--                      between two runs; int_snapshots__opportunity_dates). closed_at_source
--                      says which: 'source', 'snapshot', NULL when unknown. Every metric reads
--                      these, so won in a window, cycles and the open pipeline agree.
--   first_seen_date    the day the snapshots first saw an opportunity without created_at (NULL
--                      for the others): from then on it is known to have been in the pipeline.
--   is_open / is_won   open = not won, lost or post_sale; won = won or post_sale (a post_sale
--                      deal was won); is_lost = lost.
--   cycle_days         whole days from created date to closed date of a closed opportunity with
--                      both dates; NULL when closed before created (inconsistent dates).
--   effective_probability  the opportunity's own probability, else the stage default, else 0.
--   owner_key          owner, or '(none)' when NULL (the owner_metrics_daily grain).
--   forecast_category  closed for a won deal, omitted for a lost one; for an open one the
--                      source's own category (forecast_category_label, see
--                      int_forecast_categories) when it names one, else the stage's from
--                      [forecast.stage_category], else pipeline. forecast_category_source says
--                      which: 'source' or 'stage'.
--   amounts            currency, amount_reporting and the money columns: see
--                      int_opportunities__converted. A deal closed on a day only the snapshots
--                      saw is converted at the as-of day, as one closed on an unknown day: the
--                      check that quarantines deals without a rate (funnel.quality.rates) runs
--                      before the snapshots are read, so the SQL never needs a rate it lacks.

with

source_opportunities as (

    select * from int_opportunities__converted

),

snapshot_dates as (

    select * from int_snapshots__opportunity_dates

),

opportunities as (

    select
        source_opportunities.* exclude (closed_at, closed_date),
        coalesce(
            source_opportunities.closed_at, snapshot_dates.snapshot_closed_at
        ) as closed_at,
        coalesce(
            source_opportunities.closed_date, cast(snapshot_dates.snapshot_closed_at as date)
        ) as closed_date,
        case
            when source_opportunities.closed_at is not null then 'source'
            when snapshot_dates.snapshot_closed_at is not null then 'snapshot'
        end as closed_at_source,
        snapshot_dates.first_seen_date

    from source_opportunities
    left join snapshot_dates
        on source_opportunities.opportunity_id = snapshot_dates.opportunity_id

),

stages as (

    select * from int_stages__ranked

),

labels as (

    select * from int_forecast_categories

),

stage_categories as (

    select * from stg_stage_categories

),

enriched as (

    select
        -- ids
        opportunities.opportunity_id,
        opportunities.lead_id,

        -- descriptors
        opportunities.account,
        opportunities.owner,
        coalesce(opportunities.owner, '(none)') as owner_key,
        opportunities.pipeline,
        opportunities.lost_reason,

        -- funnel
        opportunities.stage,
        opportunities.stage_label,
        stages.is_open,
        stages.is_won,
        stages.is_lost,
        opportunities.probability,
        stages.default_probability as stage_default_probability,
        coalesce(
            opportunities.probability, stages.default_probability, 0
        ) as effective_probability,
        opportunities.forecast_category_label,
        case
            when stages.is_won then 'closed'
            when stages.is_lost then 'omitted'
            else coalesce(labels.forecast_category, stage_categories.forecast_category, 'pipeline')
        end as forecast_category,
        case
            when stages.is_open and labels.forecast_category is not null then 'source'
            else 'stage'
        end as forecast_category_source,

        -- amounts
        opportunities.amount,
        opportunities.currency,
        opportunities.reporting_currency,
        opportunities.converted_on,
        opportunities.exchange_rate,
        opportunities.exchange_rate_date,
        opportunities.amount_reporting,
        opportunities.money_currency,
        opportunities.money_amount,

        -- dates
        opportunities.created_at,
        opportunities.created_date,
        opportunities.expected_close_date,
        opportunities.closed_at,
        opportunities.closed_date,
        opportunities.closed_at_source,
        opportunities.first_seen_date,
        opportunities.updated_at,
        case
            when stages.is_closed and opportunities.closed_date >= opportunities.created_date
                then date_diff('day', opportunities.created_date, opportunities.closed_date)
        end as cycle_days,

        -- lineage
        opportunities.source_system,
        opportunities.source_file,
        opportunities.source_line,
        opportunities.loaded_by_run_id

    from opportunities
    inner join stages
        on opportunities.stage = stages.stage
    left join labels
        on
            regexp_replace(lower(opportunities.forecast_category_label), '[^a-z]', '', 'g')
            = labels.label_key
    left join stage_categories
        on opportunities.stage = stage_categories.stage

)

select * from enriched
