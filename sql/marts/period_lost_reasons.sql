-- period_lost_reasons: why opportunities were lost in each fiscal month, quarter and year,
-- ranked.
-- grain: (period_kind, period_start, currency, lost_reason)
-- inputs: int_fiscal_periods, int_opportunities__enriched
-- decisions: lost opportunities by the period of their close date (periods starting on or
--   before the as-of day); lost_reason '(none)' when blank. reason_rank orders the reasons of
--   a period and currency by count, then amount, then name (1 = the most frequent); share =
--   lost_count / the period's lost opportunities.

with

periods as (

    select * from int_fiscal_periods
    where period_start <= cast(getvariable('as_of') as date)

),

lost as (

    select
        periods.period_kind,
        periods.period_start,
        periods.period_label,
        opportunities.money_currency as currency,
        coalesce(opportunities.lost_reason, '(none)') as lost_reason,
        count(*) as lost_count,
        coalesce(sum(opportunities.money_amount), 0) as lost_amount

    from int_opportunities__enriched as opportunities
    inner join periods
        on opportunities.closed_date between periods.period_start and periods.period_end
    where opportunities.is_lost
    group by all

),

final as (

    select
        *,
        lost_count / sum(lost_count) over by_period as share,
        row_number() over (
            partition by period_kind, period_start, currency
            order by lost_count desc, lost_amount desc, lost_reason
        ) as reason_rank

    from lost
    window by_period as (partition by period_kind, period_start, currency)

)

select * from final
order by
    list_position(['year', 'quarter', 'month'], period_kind),
    period_start,
    currency,
    reason_rank
