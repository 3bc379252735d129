-- opportunities: every loaded opportunity as of the as-of day, with its state and cycle.
-- grain: opportunity_id
-- inputs: int_opportunities__linked, stg_activities, int_opportunities__slippage
-- decisions:
--   has_loaded_lead: lead_id names a loaded lead, so the opportunity continues that lead's funnel;
--   record_id: the funnel record the opportunity belongs to (that lead's id, else its own id). is_record_current: this opportunity gives its record the
--   current stage (the record's latest created; created_at NULL counts as oldest, ties by id).
--   is_open: stage not won, lost or post_sale; is_won: won or post_sale; is_lost: lost.
--   closed_at: the source's close date; for a closed opportunity the export gives none, the
--   moment the pipeline's own snapshots saw it move into won or lost (closed_at_source
--   'snapshot'; see int_snapshots__opportunity_dates); NULL when unknown.
--   cycle_days: whole days from created date to closed date of a closed opportunity with both
--   dates (NULL when closed before created).
--   probability: the record's own, 0..1 or NULL; effective_probability: the record's own, else
--   the stage's configured default, else 0 (what the weighted pipeline uses).
--   currency, amount_reporting, exchange_rate: see int_opportunities__converted.
--   forecast_category, forecast_category_source: see int_opportunities__enriched.
--   first_expected_close, push_count, days_slipped: see int_opportunities__slippage.

with

opportunities as (

    select * from int_opportunities__linked

),

activities as (

    select
        opportunity_id,
        count(*) as activity_count,
        max(occurred_at) as last_activity_at

    from stg_activities
    where opportunity_id is not null
    group by opportunity_id

),

final as (

    select
        -- ids
        opportunities.opportunity_id,
        opportunities.lead_id,
        opportunities.record_lead_id is not null as has_loaded_lead,
        opportunities.record_id,
        opportunities.is_record_current,

        -- descriptors
        opportunities.account,
        opportunities.owner,
        opportunities.pipeline,

        -- funnel
        opportunities.stage,
        opportunities.stage_label,
        opportunities.is_open,
        opportunities.is_won,
        opportunities.is_lost,
        opportunities.lost_reason,
        opportunities.probability,
        opportunities.effective_probability,
        opportunities.forecast_category,
        opportunities.forecast_category_source,
        opportunities.forecast_category_label,

        -- amounts
        opportunities.amount,
        opportunities.currency,
        opportunities.amount_reporting,
        opportunities.reporting_currency,
        opportunities.exchange_rate,
        opportunities.exchange_rate_date,

        -- dates
        opportunities.created_at,
        opportunities.expected_close_date,
        slippage.first_expected_close,
        slippage.push_count,
        slippage.days_slipped,
        opportunities.closed_at,
        opportunities.closed_at_source,
        opportunities.updated_at,
        opportunities.cycle_days,

        -- activity
        coalesce(activities.activity_count, 0) as activity_count,
        activities.last_activity_at,

        -- lineage
        opportunities.source_system,
        opportunities.source_file,
        opportunities.source_line

    from opportunities
    left join activities
        on opportunities.opportunity_id = activities.opportunity_id
    left join int_opportunities__slippage as slippage
        on opportunities.opportunity_id = slippage.opportunity_id

)

select * from final
