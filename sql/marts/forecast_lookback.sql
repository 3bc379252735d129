-- forecast_lookback: the weighted pipeline each month started with against what that month won.
-- grain: (close_month, currency)
-- months: every month from the first month with an opportunity created or closed to the as-of
--   month (the as-of month is counted up to the as-of day: is_complete false), for every money
--   currency of the opportunities
-- inputs: int_opportunities__enriched, int_stages__ranked, stage_transitions, stg_currency_config
-- decisions:
--   The pipeline of month M is taken at its first day (forecast_day): the opportunities open at
--   the start of that day (created on an earlier day; not closed, or closed on or after that
--   day) whose expected close date is in M. An opportunity with an unknown created date, or
--   closed without a close date, is left out (when it was open is unknown). The expected close
--   date is the one the source holds now (exports keep no history of it).
--   The probability then valid: the default of the opportunity's stage at the start of M, i.e.
--   the open stage of its latest stage_transitions entry before that moment; when no such
--   entry is known, its current stage if it is still open, else the last open stage of its
--   history. While that stage is still its current stage its own probability wins over the
--   default (the effective probability of opportunities). A stage without a default
--   probability weighs 0, and so does an opportunity whose stage then is unknown (closed now,
--   with no open stage in its history); both are counted in without_probability.
--   open_count / open_amount / weighted_amount = count / sum(amount) / sum(amount x
--   probability) of that pipeline (a NULL amount counts as 0).
--   won_count / won_amount: opportunities won (won or post_sale) whose close date is in M,
--   whether or not they were in the month's starting pipeline; won_from_pipeline_count /
--   won_from_pipeline_amount: those that were.
--   won_to_weighted_ratio = won_amount / weighted_amount (NULL when nothing was weighted):
--   above 1 the month beat its forecast.
--   currency: amounts are money_amount in money_currency (int_opportunities__converted): the
--   reporting currency with [currency] reporting, else each opportunity's own, one row per
--   currency and never summed across.

with

as_of as (

    select
        cast(getvariable('as_of') as date) as as_of_day,
        cast(date_trunc('month', cast(getvariable('as_of') as date)) as date) as as_of_month

),

opportunities as (

    select * from int_opportunities__enriched

),

stages as (

    select
        stage,
        is_open,
        default_probability

    from int_stages__ranked

),

pipeline_candidates as (

    select
        opportunities.opportunity_id,
        opportunities.stage,
        opportunities.is_open,
        opportunities.is_won,
        opportunities.probability as own_probability,
        coalesce(opportunities.money_amount, 0) as amount, -- currency
        opportunities.money_currency as currency, -- currency
        opportunities.closed_date,
        cast(date_trunc('month', opportunities.expected_close_date) as date) as close_month

    from opportunities
    cross join as_of
    where
        opportunities.expected_close_date is not null
        and date_trunc('month', opportunities.expected_close_date) <= as_of.as_of_month
        and opportunities.created_date < date_trunc('month', opportunities.expected_close_date)
        and (
            opportunities.is_open
            or opportunities.closed_date >= date_trunc('month', opportunities.expected_close_date)
        )

),

history as (

    select
        transitions.opportunity_id,
        transitions.stage,
        transitions.entered_at

    from stage_transitions as transitions
    inner join stages
        on transitions.stage = stages.stage
    where stages.is_open and transitions.opportunity_id is not null

),

stage_then as (

    select
        candidates.opportunity_id,
        arg_max(history.stage, history.entered_at) filter (
            where history.entered_at < candidates.close_month
        ) as stage_at_start,
        arg_max(history.stage, history.entered_at) as last_open_stage

    from pipeline_candidates as candidates
    inner join history
        on candidates.opportunity_id = history.opportunity_id
    group by candidates.opportunity_id

),

pipeline as (

    select
        candidates.*,
        coalesce(
            stage_then.stage_at_start,
            case when candidates.is_open then candidates.stage end,
            stage_then.last_open_stage
        ) as stage_at_start

    from pipeline_candidates as candidates
    left join stage_then
        on candidates.opportunity_id = stage_then.opportunity_id

),

weighted as (

    select
        pipeline.close_month,
        pipeline.currency, -- currency
        pipeline.amount,
        pipeline.is_won and pipeline.closed_date < pipeline.close_month + interval 1 month
            as is_won_in_month,
        case
            when pipeline.is_open and pipeline.stage_at_start = pipeline.stage
                then coalesce(pipeline.own_probability, stages.default_probability)
            else stages.default_probability
        end as probability

    from pipeline
    left join stages
        on pipeline.stage_at_start = stages.stage

),

forecast as (

    select
        close_month,
        currency, -- currency
        count(*) as open_count,
        sum(amount) as open_amount,
        sum(amount * coalesce(probability, 0)) as weighted_amount,
        count(*) filter (where probability is null) as without_probability,
        count(*) filter (where is_won_in_month) as won_from_pipeline_count,
        coalesce(sum(amount) filter (where is_won_in_month), 0) as won_from_pipeline_amount

    from weighted
    group by close_month, currency -- currency

),

won as (

    select
        cast(date_trunc('month', closed_date) as date) as close_month,
        money_currency as currency, -- currency
        count(*) as won_count,
        sum(coalesce(money_amount, 0)) as won_amount -- currency

    from opportunities
    where is_won and closed_date is not null
    group by all

),

bounds as (

    select
        cast(
            date_trunc(
                'month',
                least(
                    coalesce(min(opportunities.created_date), as_of.as_of_day),
                    coalesce(min(opportunities.closed_date), as_of.as_of_day),
                    as_of.as_of_day
                )
            ) as date
        ) as first_month,
        as_of.as_of_month as last_month,
        as_of.as_of_day

    from as_of
    left join opportunities
        on true
    group by as_of.as_of_month, as_of.as_of_day

),

-- currency: every money currency of the opportunities (without any: the reporting one, else none)
currencies as (

    select distinct money_currency as currency from opportunities

    union all

    select reporting_currency as currency from stg_currency_config
    where not exists (select 1 from opportunities)

),

months as (

    select
        cast(
            unnest(generate_series(first_month, last_month, interval 1 month)) as date
        ) as close_month,
        as_of_day

    from bounds

),

final as (

    select
        months.close_month,
        currencies.currency, -- currency
        months.close_month as forecast_day,
        cast(months.close_month + interval 1 month - interval 1 day as date)
        <= months.as_of_day as is_complete,

        -- the pipeline at the month's start
        coalesce(forecast.open_count, 0) as open_count,
        cast(coalesce(forecast.open_amount, 0) as double) as open_amount,
        cast(coalesce(forecast.weighted_amount, 0) as double) as weighted_amount,
        coalesce(forecast.without_probability, 0) as without_probability,

        -- what the month won
        coalesce(won.won_count, 0) as won_count,
        cast(coalesce(won.won_amount, 0) as double) as won_amount,
        coalesce(forecast.won_from_pipeline_count, 0) as won_from_pipeline_count,
        cast(coalesce(forecast.won_from_pipeline_amount, 0) as double)
            as won_from_pipeline_amount,
        cast(coalesce(won.won_amount, 0) as double)
        / nullif(cast(forecast.weighted_amount as double), 0) as won_to_weighted_ratio

    from months
    cross join currencies -- currency
    left join forecast
        on
            months.close_month = forecast.close_month
            and currencies.currency is not distinct from forecast.currency -- currency
    left join won
        on
            months.close_month = won.close_month
            and currencies.currency is not distinct from won.currency -- currency

)

select * from final
order by close_month, currency
