-- period_metrics: the headline metrics of each fiscal month, quarter and year, beside the
-- previous period's and the same period's a year before.
-- grain: (period_kind, period_start, currency)
-- inputs: int_fiscal_periods, int_opportunities__enriched
-- decisions:
--   Periods starting on or before the as-of day; a running period counts up to the as-of day
--   (is_complete false). Every such period has a row per currency the opportunities have.
--   won / lost: opportunities closed in the period (won = won or post_sale); win_rate = won /
--   (won + lost) by count, win_rate_by_amount by amount (lost deals at their recorded amount);
--   avg_deal_size = average amount of the won; avg_cycle_days and median_cycle_days over the
--   won with a cycle; created: opportunities created in the period and their amount (the
--   pipeline created); sales_velocity = created_count x win_rate x avg_deal_size /
--   avg_cycle_days (money per day, the deals entering the period as the count).
--   previous_* is the period before's value, year_ago_* the same period a year before (NULL
--   when that period lies before the calendar). Amounts are money amounts (one currency per
--   row, never summed across).

with

as_of as (

    select cast(getvariable('as_of') as date) as as_of_day

),

periods as (

    select
        int_fiscal_periods.*,
        least(int_fiscal_periods.period_end, as_of.as_of_day) as cutoff

    from int_fiscal_periods
    cross join as_of
    where int_fiscal_periods.period_start <= as_of.as_of_day

),

opportunities as (

    select
        money_currency as currency,
        coalesce(money_amount, 0) as amount,
        is_won,
        is_lost,
        created_date,
        closed_date,
        cycle_days

    from int_opportunities__enriched

),

currencies as (

    select distinct currency from opportunities

),

closed as (

    select
        periods.period_kind,
        periods.period_start,
        opportunities.currency,
        count(*) filter (where opportunities.is_won) as won_count,
        count(*) filter (where opportunities.is_lost) as lost_count,
        sum(opportunities.amount) filter (where opportunities.is_won) as won_amount,
        sum(opportunities.amount) filter (where opportunities.is_lost) as lost_amount,
        avg(opportunities.amount) filter (where opportunities.is_won) as avg_deal_size,
        avg(opportunities.cycle_days) filter (where opportunities.is_won) as avg_cycle_days,
        median(opportunities.cycle_days) filter (
            where opportunities.is_won
        ) as median_cycle_days

    from opportunities
    inner join periods
        on opportunities.closed_date between periods.period_start and periods.cutoff
    where opportunities.is_won or opportunities.is_lost
    group by all

),

created as (

    select
        periods.period_kind,
        periods.period_start,
        opportunities.currency,
        count(*) as created_count,
        sum(opportunities.amount) as created_amount

    from opportunities
    inner join periods
        on opportunities.created_date between periods.period_start and periods.cutoff
    group by all

),

metrics as (

    select
        periods.period_kind,
        periods.period_start,
        periods.period_end,
        periods.period_label,
        periods.period_offset,
        periods.previous_period_start,
        periods.year_ago_period_start,
        periods.period_end <= (select as_of_day from as_of) as is_complete,
        currencies.currency,
        coalesce(closed.won_count, 0) as won_count,
        coalesce(closed.lost_count, 0) as lost_count,
        coalesce(closed.won_amount, 0) as won_amount,
        coalesce(closed.lost_amount, 0) as lost_amount,
        closed.won_count / nullif(closed.won_count + closed.lost_count, 0) as win_rate,
        closed.won_amount
        / nullif(coalesce(closed.won_amount, 0) + coalesce(closed.lost_amount, 0), 0)
        as win_rate_by_amount,
        closed.avg_deal_size,
        closed.avg_cycle_days,
        closed.median_cycle_days,
        coalesce(created.created_count, 0) as created_count,
        coalesce(created.created_amount, 0) as created_amount,
        coalesce(created.created_count, 0)
        * (closed.won_count / nullif(closed.won_count + closed.lost_count, 0))
        * closed.avg_deal_size
        / nullif(closed.avg_cycle_days, 0) as sales_velocity

    from periods
    cross join currencies
    left join closed
        on
            periods.period_kind = closed.period_kind
            and periods.period_start = closed.period_start
            and currencies.currency is not distinct from closed.currency
    left join created
        on
            periods.period_kind = created.period_kind
            and periods.period_start = created.period_start
            and currencies.currency is not distinct from created.currency

),

final as (

    select
        metrics.period_kind,
        metrics.period_start,
        metrics.period_end,
        metrics.period_label,
        metrics.period_offset,
        metrics.is_complete,
        metrics.currency,
        metrics.won_count,
        metrics.lost_count,
        metrics.won_amount,
        metrics.lost_amount,
        metrics.win_rate,
        metrics.win_rate_by_amount,
        metrics.avg_deal_size,
        metrics.avg_cycle_days,
        metrics.median_cycle_days,
        metrics.created_count,
        metrics.created_amount,
        metrics.sales_velocity,
        metrics.previous_period_start,
        previous.won_count as previous_won_count,
        previous.won_amount as previous_won_amount,
        previous.win_rate as previous_win_rate,
        previous.win_rate_by_amount as previous_win_rate_by_amount,
        previous.avg_deal_size as previous_avg_deal_size,
        previous.avg_cycle_days as previous_avg_cycle_days,
        previous.created_amount as previous_created_amount,
        previous.sales_velocity as previous_sales_velocity,
        metrics.year_ago_period_start,
        year_ago.won_count as year_ago_won_count,
        year_ago.won_amount as year_ago_won_amount,
        year_ago.win_rate as year_ago_win_rate,
        year_ago.win_rate_by_amount as year_ago_win_rate_by_amount,
        year_ago.avg_deal_size as year_ago_avg_deal_size,
        year_ago.avg_cycle_days as year_ago_avg_cycle_days,
        year_ago.created_amount as year_ago_created_amount,
        year_ago.sales_velocity as year_ago_sales_velocity

    from metrics
    left join metrics as previous
        on
            metrics.period_kind = previous.period_kind
            and metrics.previous_period_start = previous.period_start
            and metrics.currency is not distinct from previous.currency
    left join metrics as year_ago
        on
            metrics.period_kind = year_ago.period_kind
            and metrics.year_ago_period_start = year_ago.period_start
            and metrics.currency is not distinct from year_ago.currency

)

select * from final
order by
    list_position(['year', 'quarter', 'month'], period_kind),
    period_start,
    currency
