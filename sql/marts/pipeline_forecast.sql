-- pipeline_forecast: the open pipeline of the as-of day by expected close month and stage.
-- grain: (day, close_month, stage, forecast_category, currency)
-- close_month is NULL for opportunities without an expected close date (one such row per stage);
--   currency is the reporting currency with [currency] reporting, else the opportunities' own (a
--   row per currency, never summed across).
-- inputs: int_opportunities__enriched
-- decisions: day is the as-of day (a snapshot; earlier days live in earlier warehouses).
--   effective probability of an opportunity: its own probability, else its stage's default from
--   the config ([forecast] stage_probability), else 0: a stage the config gives no default
--   contributes its open_count and open_amount but weighs nothing until a record carries its
--   own probability (counted in without_probability, so the gap is visible).
--   probability = average effective probability;
--   weighted_amount = sum(amount x effective probability); a NULL amount counts as 0.
--   Amounts are money_amount (int_opportunities__converted): amount_reporting with [currency]
--   reporting (converted at the as-of day's rate), else the opportunity's own amount.
--   with_own_probability / with_stage_default / without_probability: how many of open_count
--   took their probability from the record, from the stage default, or had none (weighted 0).
--   is_overdue: the close month is before the as-of month.
--   forecast_category: the opportunities' canonical forecast category (int_opportunities__enriched:
--   the source's own, else the stage's from [forecast.stage_category]).

with

open_opportunities as (

    select * from int_opportunities__enriched
    where is_open

),

final as (

    select
        cast(getvariable('as_of') as date) as day,
        cast(date_trunc('month', expected_close_date) as date) as close_month,
        stage,
        forecast_category,
        money_currency as currency,
        count(*) as open_count,
        coalesce(sum(money_amount), 0) as open_amount,
        avg(effective_probability) as probability,
        coalesce(sum(money_amount * effective_probability), 0) as weighted_amount,
        count(*) filter (where probability is not null) as with_own_probability,
        count(*) filter (
            where probability is null and stage_default_probability is not null
        ) as with_stage_default,
        count(*) filter (
            where probability is null and stage_default_probability is null
        ) as without_probability,
        cast(date_trunc('month', expected_close_date) as date)
        < cast(date_trunc('month', cast(getvariable('as_of') as date)) as date) as is_overdue

    from open_opportunities
    group by all

)

select * from final
order by close_month nulls last, stage, forecast_category, currency
