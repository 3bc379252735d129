-- owner_metrics_daily: funnel_metrics_daily per opportunity owner.
-- grain: (day, trailing_window, owner, currency)
-- currency: as in funnel_metrics_daily.
-- inputs: int_pipeline_metrics__windowed (see its header for every definition and decision)
-- decisions: owner is the opportunity's owner, '(none)' when it has none. Every owner of any
-- loaded opportunity gets a row on every spine day and window (zeros before their first deal),
-- in each currency they have deals in.

with

metrics as (

    select * from int_pipeline_metrics__windowed
    where not is_total

),

final as (

    select
        -- grain
        day,
        window_name as trailing_window,
        owner_key as owner,
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
order by day, trailing_window, owner, currency
