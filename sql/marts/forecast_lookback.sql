-- forecast_lookback: the weighted pipeline each month started with, each opportunity judged as it
-- stood on that day, against what that month won.
-- grain: (close_month, currency)
-- months: every month from the first month with an opportunity created or closed or a snapshot
--   taken to the as-of month (the as-of month is counted up to the as-of day: is_complete
--   false), for every money currency of the opportunities
-- inputs: int_opportunities__enriched, int_stages__ranked, stg_state_snapshots,
--   stg_stage_history, stage_transitions, stg_currency_config
-- decisions:
--   The pipeline of month M is taken at its first day (forecast_day): the opportunities open at
--   the start of that day whose expected close date, as it stood then, is in M. Amount,
--   probability, stage and expected close date are each opportunity's values at that moment,
--   from the best record there is; basis names it, never today's values in disguise:
--     'snapshot'       the pipeline's own snapshots saw the opportunity before M: its latest
--                      snapshot before M (what the run on M's eve saw; of several loads of one
--                      day the last), when it was present and open then with an expected close
--                      date in M. Probability: its own then, else its stage's default.
--     'stage_history'  no snapshot before M, but the source's stage history has an open stage
--                      of it entered before M: the latest such stage, weighted by its default
--                      (by its own probability while that stage is still its current stage, as
--                      the open pipeline does), and the amount of its latest history row before
--                      M that carries one, else today's. Being open at M (created before M, not
--                      closed before it) and the expected close date are today's values:
--                      the history keeps no record of them.
--     'current'        nothing earlier: today's values; the stage is its current one when still
--                      open, else the last open stage of its stage_transitions (weighted by that
--                      stage's default).
--   Without a snapshot before M, an opportunity with an unknown created date, or closed without
--   a close date, is left out (when it was open is unknown).
--   A stage without a default probability weighs 0, and so does an opportunity whose stage then
--   is unknown (closed now, with no open stage in its history); both are counted in
--   without_probability.
--   open_count / open_amount / weighted_amount = count / sum(amount) / sum(amount x
--   probability) of that pipeline (a NULL amount counts as 0).
--   open_from_snapshot / open_from_stage_history / open_from_current: of open_count, how many
--   took their values from each basis. basis: the month's one basis, 'mixed' when several; with
--   an empty pipeline 'snapshot' when the snapshots had begun before M (nothing was open), else
--   'current' (nothing is expected in M by today's values).
--   won_count / won_amount: opportunities won (won or post_sale) whose close date is in M,
--   whether or not they were in the month's starting pipeline; won_from_pipeline_count /
--   won_from_pipeline_amount: those that were (with the amounts they were won with, as in
--   won_amount). An opportunity in a snapshot pipeline that is no longer loaded was in the
--   forecast but counts as not won.
--   won_to_weighted_ratio = won_amount / weighted_amount (NULL when nothing was weighted):
--   above 1 the month beat its forecast.
--   currency: amounts are in the opportunity's money_currency (int_opportunities__converted):
--   the reporting currency with [currency] reporting, else its own; one row per currency, never
--   summed across. An amount from a snapshot or the stage history is in the deal's own currency
--   and is converted with the deal's own exchange rate (at its close date, or the as-of day
--   while open); a deal no longer loaded keeps its snapshot amount in the reporting currency's
--   rows when one is set (amount 0: its currency is unknown), else in a row of currency NULL.
-- implementation: each snapshot row covers the days from its own to the next row's, and an
--   opportunity can sit only in the pipeline of its expected close month, so each row is tested
--   against one month, never joined to every month (no opportunity x month product).

with

as_of as (

    select
        cast(getvariable('as_of') as date) as as_of_day,
        cast(date_trunc('month', cast(getvariable('as_of') as date)) as date) as as_of_month

),

settings as (

    select * from stg_currency_config

),

opportunities as (

    select
        int_opportunities__enriched.*,
        -- turns an amount in the deal's own currency into its money currency
        case
            when int_opportunities__enriched.reporting_currency is null then 1.0
            else int_opportunities__enriched.exchange_rate
        end as money_factor

    from int_opportunities__enriched

),

stages as (

    select
        stage,
        is_open,
        default_probability

    from int_stages__ranked

),

-- the pipeline's own snapshots of opportunities -----------------------------------------------

snapshot_rows as (

    -- each row valid from its day until the opportunity's next snapshot day; of several loads of
    -- one day the last one
    select
        stg_state_snapshots.id as opportunity_id,
        stg_state_snapshots.snapshot_day,
        stg_state_snapshots.present,
        stg_state_snapshots.is_open,
        stg_state_snapshots.stage,
        stg_state_snapshots.amount,
        stg_state_snapshots.probability,
        cast(
            date_trunc('month', stg_state_snapshots.expected_close_date) as date
        ) as close_month,
        coalesce(
            lead(stg_state_snapshots.snapshot_day) over by_opportunity, date '9999-12-31'
        ) as valid_until

    from stg_state_snapshots
    cross join as_of
    where
        stg_state_snapshots.kind = 'opportunity'
        and stg_state_snapshots.snapshot_day <= as_of.as_of_day
    window by_opportunity as (
        partition by stg_state_snapshots.id
        order by stg_state_snapshots.snapshot_day, stg_state_snapshots.load_seq
    )
    qualify valid_until <> stg_state_snapshots.snapshot_day

),

snapshot_pipeline as (

    -- the row valid at the start of its expected close month: snapshot day before the month's
    -- first day, the next row's on or after it
    select
        snapshot_rows.opportunity_id,
        snapshot_rows.close_month,
        coalesce(opportunities.money_currency, settings.reporting_currency) as currency,
        'snapshot' as basis,
        coalesce(snapshot_rows.amount * opportunities.money_factor, 0) as amount,
        coalesce(snapshot_rows.probability, stages.default_probability) as probability

    from snapshot_rows
    cross join as_of
    cross join settings
    left join opportunities
        on snapshot_rows.opportunity_id = opportunities.opportunity_id
    left join stages
        on snapshot_rows.stage = stages.stage
    where
        snapshot_rows.present
        and snapshot_rows.is_open
        and snapshot_rows.close_month <= as_of.as_of_month
        and snapshot_rows.snapshot_day < snapshot_rows.close_month
        and snapshot_rows.valid_until >= snapshot_rows.close_month

),

first_snapshots as (

    select
        id as opportunity_id,
        min(snapshot_day) as first_snapshot_day

    from stg_state_snapshots
    cross join as_of
    where kind = 'opportunity' and snapshot_day <= as_of.as_of_day
    group by id

),

-- opportunities the snapshots did not see before their month: the source's history, else today

fallback_candidates as (

    select
        opportunities.opportunity_id,
        opportunities.stage,
        opportunities.is_open,
        opportunities.probability as own_probability,
        opportunities.money_currency as currency,
        opportunities.money_factor,
        coalesce(opportunities.money_amount, 0) as amount,
        cast(date_trunc('month', opportunities.expected_close_date) as date) as close_month

    from opportunities
    cross join as_of
    left join first_snapshots
        on opportunities.opportunity_id = first_snapshots.opportunity_id
    where
        opportunities.expected_close_date is not null
        and date_trunc('month', opportunities.expected_close_date) <= as_of.as_of_month
        and opportunities.created_date < date_trunc('month', opportunities.expected_close_date)
        and (
            opportunities.is_open
            or opportunities.closed_date >= date_trunc('month', opportunities.expected_close_date)
        )
        and (
            first_snapshots.first_snapshot_day is null
            or first_snapshots.first_snapshot_day
            >= date_trunc('month', opportunities.expected_close_date)
        )

),

history_then as (

    select
        candidates.opportunity_id,
        arg_max(history.stage, history.entered_at) filter (
            where stages.is_open and history.entered_at < candidates.close_month
        ) as stage_then,
        arg_max(history.amount, history.entered_at) filter (
            where history.amount is not null and history.entered_at < candidates.close_month
        ) as amount_then

    from fallback_candidates as candidates
    inner join stg_stage_history as history
        on candidates.opportunity_id = history.opportunity_id
    inner join stages
        on history.stage = stages.stage
    group by candidates.opportunity_id

),

last_open_stages as (

    select
        transitions.opportunity_id,
        arg_max(transitions.stage, transitions.entered_at) as last_open_stage

    from stage_transitions as transitions
    inner join stages
        on transitions.stage = stages.stage
    semi join fallback_candidates as candidates
        on transitions.opportunity_id = candidates.opportunity_id and not candidates.is_open
    where stages.is_open
    group by transitions.opportunity_id

),

fallback_staged as (

    select
        candidates.*,
        case when history_then.stage_then is not null then 'stage_history' else 'current' end
            as basis,
        coalesce(
            history_then.stage_then,
            case when candidates.is_open then candidates.stage end,
            last_open_stages.last_open_stage
        ) as stage_then,
        case
            when history_then.stage_then is not null
                then coalesce(history_then.amount_then * candidates.money_factor, candidates.amount)
            else candidates.amount
        end as amount_then

    from fallback_candidates as candidates
    left join history_then
        on candidates.opportunity_id = history_then.opportunity_id
    left join last_open_stages
        on candidates.opportunity_id = last_open_stages.opportunity_id

),

fallback_pipeline as (

    select
        fallback_staged.opportunity_id,
        fallback_staged.close_month,
        fallback_staged.currency,
        fallback_staged.basis,
        fallback_staged.amount_then as amount,
        case
            when fallback_staged.is_open and fallback_staged.stage_then = fallback_staged.stage
                then coalesce(fallback_staged.own_probability, stages.default_probability)
            else stages.default_probability
        end as probability

    from fallback_staged
    left join stages
        on fallback_staged.stage_then = stages.stage

),

-- the month's pipeline, and what it won ---------------------------------------------------------

pipeline as (

    select * from snapshot_pipeline
    union all
    select * from fallback_pipeline

),

weighted as (

    select
        pipeline.close_month,
        pipeline.currency,
        pipeline.basis,
        pipeline.amount,
        pipeline.probability,
        coalesce(
            opportunities.is_won
            and opportunities.closed_date >= pipeline.close_month
            and opportunities.closed_date < pipeline.close_month + interval 1 month,
            false
        ) as is_won_in_month,
        coalesce(opportunities.money_amount, 0) as actual_amount

    from pipeline
    left join opportunities
        on pipeline.opportunity_id = opportunities.opportunity_id

),

forecast as (

    select
        close_month,
        currency,
        count(*) as open_count,
        sum(amount) as open_amount,
        sum(amount * coalesce(probability, 0)) as weighted_amount,
        count(*) filter (where probability is null) as without_probability,
        count(*) filter (where is_won_in_month) as won_from_pipeline_count,
        coalesce(sum(actual_amount) filter (where is_won_in_month), 0)
            as won_from_pipeline_amount,
        count(*) filter (where basis = 'snapshot') as open_from_snapshot,
        count(*) filter (where basis = 'stage_history') as open_from_stage_history,
        count(*) filter (where basis = 'current') as open_from_current

    from weighted
    group by close_month, currency

),

won as (

    select
        cast(date_trunc('month', closed_date) as date) as close_month,
        money_currency as currency,
        count(*) as won_count,
        sum(coalesce(money_amount, 0)) as won_amount

    from opportunities
    where is_won and closed_date is not null
    group by all

),

snapshot_bounds as (

    select min(snapshot_day) as first_snapshot_day
    from stg_state_snapshots
    cross join as_of
    where snapshot_day <= as_of.as_of_day

),

bounds as (

    select
        cast(
            date_trunc(
                'month',
                least(
                    coalesce(min(opportunities.created_date), as_of.as_of_day),
                    coalesce(min(opportunities.closed_date), as_of.as_of_day),
                    coalesce(any_value(snapshot_bounds.first_snapshot_day), as_of.as_of_day),
                    as_of.as_of_day
                )
            ) as date
        ) as first_month,
        as_of.as_of_month as last_month,
        as_of.as_of_day,
        any_value(snapshot_bounds.first_snapshot_day) as first_snapshot_day

    from as_of
    cross join snapshot_bounds
    left join opportunities
        on true
    group by as_of.as_of_month, as_of.as_of_day

),

currencies as (

    -- every money currency with a figure, and the reporting currency of an empty warehouse
    select money_currency as currency from opportunities
    union
    select currency from pipeline
    union
    select reporting_currency as currency from settings
    where not exists (select 1 from opportunities)

),

months as (

    select
        cast(
            unnest(generate_series(first_month, last_month, interval 1 month)) as date
        ) as close_month,
        as_of_day,
        first_snapshot_day

    from bounds

),

final as (

    select
        months.close_month,
        currencies.currency,
        months.close_month as forecast_day,
        cast(months.close_month + interval 1 month - interval 1 day as date)
        <= months.as_of_day as is_complete,

        -- the pipeline at the month's start, as it stood then
        coalesce(forecast.open_count, 0) as open_count,
        cast(coalesce(forecast.open_amount, 0) as double) as open_amount,
        cast(coalesce(forecast.weighted_amount, 0) as double) as weighted_amount,
        coalesce(forecast.without_probability, 0) as without_probability,

        -- where those values come from
        case
            when forecast.open_count = forecast.open_from_snapshot then 'snapshot'
            when forecast.open_count = forecast.open_from_stage_history then 'stage_history'
            when forecast.open_count = forecast.open_from_current then 'current'
            when forecast.open_count > 0 then 'mixed'
            when months.first_snapshot_day < months.close_month then 'snapshot'
            else 'current'
        end as basis,
        coalesce(forecast.open_from_snapshot, 0) as open_from_snapshot,
        coalesce(forecast.open_from_stage_history, 0) as open_from_stage_history,
        coalesce(forecast.open_from_current, 0) as open_from_current,

        -- what the month won
        coalesce(won.won_count, 0) as won_count,
        cast(coalesce(won.won_amount, 0) as double) as won_amount,
        coalesce(forecast.won_from_pipeline_count, 0) as won_from_pipeline_count,
        cast(coalesce(forecast.won_from_pipeline_amount, 0) as double)
            as won_from_pipeline_amount,
        cast(coalesce(won.won_amount, 0) as double)
        / nullif(cast(forecast.weighted_amount as double), 0) as won_to_weighted_ratio

    from months
    cross join currencies
    left join forecast
        on
            months.close_month = forecast.close_month
            and currencies.currency is not distinct from forecast.currency
    left join won
        on
            months.close_month = won.close_month
            and currencies.currency is not distinct from won.currency

)

select * from final
order by close_month, currency
