-- audit: owner_metrics_daily is unique on (day, trailing_window, owner, currency), its rates are
-- in 0..1, and its additive columns sum to funnel_metrics_daily in each currency (offending: the
-- days, windows and currencies that break it).
with

per_day as (

    select
        day,
        trailing_window,
        currency,
        count(*) as owner_rows,
        count(distinct owner) as owners,
        sum(won) as won,
        sum(lost) as lost,
        sum(won_amount) as won_amount,
        sum(open_count) as open_count,
        sum(weighted_pipeline) as weighted_pipeline,
        min(win_rate) as min_win_rate,
        max(win_rate) as max_win_rate,
        bool_or(owner is null) as has_null_owner

    from owner_metrics_daily
    group by day, trailing_window, currency

)

select
    per_day.*,
    totals.won as total_won,
    totals.lost as total_lost

from per_day
inner join funnel_metrics_daily as totals
    on
        per_day.day = totals.day
        and per_day.trailing_window = totals.trailing_window
        and per_day.currency is not distinct from totals.currency
where
    per_day.owner_rows <> per_day.owners
    or per_day.has_null_owner
    or per_day.min_win_rate < 0
    or per_day.max_win_rate > 1
    or per_day.won <> totals.won
    or per_day.lost <> totals.lost
    or per_day.open_count <> totals.open_count
    or abs(per_day.won_amount - totals.won_amount) > 1e-6 * greatest(1, abs(totals.won_amount))
    or abs(per_day.weighted_pipeline - totals.weighted_pipeline)
    > 1e-6 * greatest(1, abs(totals.weighted_pipeline))
