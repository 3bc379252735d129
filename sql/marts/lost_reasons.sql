-- lost_reasons: why deals are lost, ranked by the money lost, per window and currency.
-- grain: (trailing_window, currency, lost_reason)
-- inputs: opportunities, int_windows
-- decisions:
--   Lost opportunities closed in the window ending on the as-of day ('30d', '90d', '365d', 'all';
--   a lost opportunity without a known close moment counts in 'all' only, as in
--   funnel_metrics_daily). lost_reason as the source spells it (trimmed), '(none)' when empty.
--   currency / amount: amount_reporting in the reporting currency with [currency] reporting,
--   else the deal's own amount and currency (a currency's deals on their own rows, never summed
--   across currencies; NULL currency for deals that name none).
--   lost: the count; lost_amount: the sum of the known amounts (0 when none); amount_known: how
--   many had an amount; share_of_lost = lost / all lost of the window and currency;
--   share_of_amount = lost_amount / all lost amount of the window and currency (NULL when 0);
--   rank: 1 for the reason that lost the most money in the window and currency (ties: more
--   deals first, then the reason's name).

with

as_of as (

    select cast(getvariable('as_of') as date) as as_of_day

),

lost as (

    select
        coalesce(nullif(trim(lost_reason), ''), '(none)') as lost_reason,
        coalesce(reporting_currency, currency) as currency,
        case when reporting_currency is not null then amount_reporting else amount end
            as amount,
        cast(closed_at as date) as closed_date

    from opportunities
    where is_lost

),

windowed as (

    select
        windows.window_name as trailing_window,
        lost.currency,
        lost.lost_reason,
        count(*) as lost,
        coalesce(sum(lost.amount), 0) as lost_amount,
        count(lost.amount) as amount_known

    from lost
    cross join int_windows as windows
    cross join as_of
    where
        windows.window_days is null
        or (
            lost.closed_date <= as_of.as_of_day
            and lost.closed_date > as_of.as_of_day - windows.window_days
        )
    group by all

),

final as (

    select
        trailing_window,
        currency,
        lost_reason,
        lost,
        cast(lost_amount as double) as lost_amount,
        amount_known,
        cast(lost as double)
        / sum(lost) over (partition by trailing_window, currency) as share_of_lost,
        cast(lost_amount as double)
        / nullif(sum(lost_amount) over (partition by trailing_window, currency), 0)
            as share_of_amount,
        row_number() over (
            partition by trailing_window, currency
            order by lost_amount desc, lost desc, lost_reason
        ) as rank

    from windowed

)

select * from final
order by
    list_position(['30d', '90d', '365d', 'all'], trailing_window),
    currency nulls first,
    rank
