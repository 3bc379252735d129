-- lost_reasons: why deals are lost, ranked by the amount lost.
-- grain: (currency, lost_reason)
-- inputs: opportunities
-- decisions:
--   Every lost opportunity up to the as-of day, by its lost_reason ('(none)' when the source
--   gives none). Amounts are in the reporting currency with [currency] reporting, else per
--   currency (never summed across); a NULL amount counts 0. share_of_lost = lost / all lost of
--   the currency; amount_share likewise for amounts; amount_rank 1 = the reason that cost the
--   most (ties by count, then by name). avg_cycle_days over the lost with a cycle.

with

lost as (

    select
        coalesce(reporting_currency, currency) as currency,
        coalesce(lost_reason, '(none)') as lost_reason,
        case when reporting_currency is null then amount else amount_reporting end as amount,
        cycle_days

    from opportunities
    where is_lost

),

reasons as (

    select
        currency,
        lost_reason,
        count(*) as lost,
        sum(coalesce(amount, 0)) as lost_amount,
        avg(cycle_days) as avg_cycle_days

    from lost
    group by currency, lost_reason

),

final as (

    select
        currency,
        lost_reason,
        cast(lost as bigint) as lost,
        cast(lost_amount as double) as lost_amount,
        cast(lost as double) / sum(lost) over per_currency as share_of_lost,
        cast(lost_amount as double)
        / nullif(sum(lost_amount) over per_currency, 0) as amount_share,
        cast(
            row_number() over (
                partition by currency order by lost_amount desc, lost desc, lost_reason
            ) as integer
        ) as amount_rank,
        avg_cycle_days

    from reasons
    window per_currency as (partition by currency)

)

select * from final
order by currency, amount_rank
