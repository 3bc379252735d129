-- pipeline_forecast: the open pipeline of the as-of day by expected close month and stage.
-- grain: (day, close_month, stage); close_month is NULL for opportunities without an expected
--   close date (one such row per stage)
-- inputs: int_opportunities__enriched
-- decisions: day is the as-of day (a snapshot; earlier days live in earlier warehouses).
--   probability = average effective probability (own, else stage default, else 0);
--   weighted_amount = sum(amount x effective probability); a NULL amount counts as 0.
--   is_overdue: the close month is before the as-of month.

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
        count(*) as open_count,
        coalesce(sum(amount), 0) as open_amount,
        avg(effective_probability) as probability,
        coalesce(sum(amount * effective_probability), 0) as weighted_amount,
        cast(date_trunc('month', expected_close_date) as date)
        < cast(date_trunc('month', cast(getvariable('as_of') as date)) as date) as is_overdue

    from open_opportunities
    group by all

)

select * from final
order by close_month nulls last, stage
