-- funnel_metrics_daily: the headline sales metrics of every day and window, all owners together.
-- grain: (day, trailing_window, currency)
-- currency: the reporting currency with [currency] reporting (one per day and window), else one
--   row per currency of the opportunities (NULL: deals that name none), never summed across.
-- inputs: int_pipeline_metrics__windowed (see its header for every definition and decision)
-- columns: won, lost, win_rate = won / (won + lost) (NULL with no closes), won_amount,
--   avg_deal_size, avg_cycle_days, median_cycle_days, open_count, open_amount (the same in every
--   window of a day), weighted_pipeline, sales_velocity (money per day).

with

metrics as (

    select * from int_pipeline_metrics__windowed
    where is_total

),

final as (

    select
        -- grain
        day,
        window_name as trailing_window,
        nullif(currency_key, '') as currency,

        -- closed in the window
        won,
        lost,
        win_rate,
        won_amount,
        avg_deal_size,
        avg_cycle_days,
        median_cycle_days,

        -- open at the end of the day
        open_count,
        open_amount,
        weighted_pipeline,
        open_basis,

        -- derived
        sales_velocity

    from metrics

)

select * from final
order by day, trailing_window, currency
