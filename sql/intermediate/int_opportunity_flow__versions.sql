-- int_opportunity_flow__versions: each loaded opportunity's states over time as the pipeline
-- flow reads them: open or closed, expected close and amount, each from the day it held.
-- grain: (opportunity_id, valid_from)
-- inputs: int_opportunities__enriched, int_snapshots__opportunity_versions
-- decisions:
--   States: the snapshot versions before the as-of day, then the opportunity as loaded today
--   (valid from the as-of day), so the last state is always the published one. An opportunity
--   without snapshots has that one state.
--   Days: a state holds from the day a run saw it, except the first (from the created date when
--   earlier: the deal existed before the pipeline saw it) and a close in the current outcome
--   (from the close date when earlier: a deal won on the last day of a quarter and seen the
--   next morning was won in that quarter). A day moved earlier than a later state's day takes
--   that day; of several states of one day the latest holds.
--   A deal first seen already closed, created earlier, gets an open state from its created
--   date (expected close: its own, else its close date), so a deal created and won between two
--   runs still enters and leaves the pipeline.
--   amount is money_amount's currency (int_opportunities__converted): the reporting currency
--   at the opportunity's own rate, else its own currency; a NULL amount is 0.
--   previous_*: the state before (has_previous false on the first).

with

as_of as (

    select cast(getvariable('as_of') as date) as as_of_day

),

opportunities as (

    select
        opportunity_id,
        stage,
        amount,
        expected_close_date,
        created_date,
        closed_date,
        is_open,
        is_won,
        money_currency as currency,
        case when reporting_currency is null then 1.0 else exchange_rate end as money_rate

    from int_opportunities__enriched

),

seen as (

    select
        versions.opportunity_id,
        versions.snapshot_day as seen_day,
        versions.stage,
        versions.amount,
        versions.expected_close_date

    from int_snapshots__opportunity_versions as versions
    cross join as_of
    where versions.snapshot_day < as_of.as_of_day

    union all

    select
        opportunities.opportunity_id,
        as_of.as_of_day,
        opportunities.stage,
        opportunities.amount,
        opportunities.expected_close_date

    from opportunities
    cross join as_of

),

states as (

    select
        seen.*,
        seen.stage not in ('won', 'lost', 'post_sale') as is_open,
        seen.stage in ('won', 'post_sale') as is_won,
        row_number() over (partition by seen.opportunity_id order by seen.seen_day) as seq,
        opportunities.created_date,
        opportunities.closed_date,
        not opportunities.is_open
        and (seen.stage in ('won', 'post_sale')) = opportunities.is_won as is_current_close,
        coalesce(seen.amount, 0) * opportunities.money_rate as money_amount

    from seen
    inner join opportunities
        on seen.opportunity_id = opportunities.opportunity_id

),

dated as (

    select
        *,
        least(
            seen_day,
            case when seq = 1 and is_open then created_date end,
            case when not is_open and is_current_close then closed_date end
        ) as held_from

    from states

),

-- an open state from the created date for a deal first seen closed
with_created as (

    select
        opportunity_id,
        seq,
        held_from,
        is_open,
        is_won,
        expected_close_date,
        money_amount

    from dated

    union all

    select
        opportunity_id,
        0,
        created_date,
        true,
        false,
        coalesce(expected_close_date, closed_date),
        money_amount

    from dated
    where seq = 1 and not is_open and created_date < held_from

),

ordered as (

    select
        *,
        min(held_from) over (
            partition by opportunity_id
            order by seq
            rows between current row and unbounded following
        ) as valid_from

    from with_created

),

latest_of_day as (

    select * from ordered
    qualify row_number() over (partition by opportunity_id, valid_from order by seq desc) = 1

),

final as (

    select
        opportunity_id,
        valid_from,
        lead(valid_from) over by_opportunity as valid_to,
        is_open,
        is_won,
        not is_open and not is_won as is_lost,
        expected_close_date,
        money_amount as amount,
        lag(valid_from) over by_opportunity is not null as has_previous,
        lag(is_open) over by_opportunity as previous_is_open,
        lag(is_won) over by_opportunity as previous_is_won,
        lag(expected_close_date) over by_opportunity as previous_expected_close_date,
        lag(money_amount) over by_opportunity as previous_amount

    from latest_of_day
    window by_opportunity as (partition by opportunity_id order by valid_from)

)

select * from final
