-- int_pipeline_metrics__windowed: the won/lost, deal-size, cycle and open-pipeline metrics for
-- every day of the spine and every window, for all owners together and for each owner, per
-- currency.
-- grain: (is_total, owner_key, currency_key, day, window_name); owner_key is '' on the is_total
--   rows; currency_key is the money currency of the opportunities ('' for none)
-- inputs: int_day_spine, int_opportunities__enriched, stg_stage_history, stg_state_snapshots,
--   int_stages__ranked, int_windows, stg_currency_config
-- decisions:
--   Currency: every metric is computed over the opportunities of one money currency (the
--   reporting currency with [currency] reporting, then all of them are one; else each deal's own
--   currency), and amounts are their money_amount (amount_reporting with [currency]
--   reporting, else amount), so no sum spans two currencies. Without opportunities the series
--   of all owners has one currency: the reporting one, else none.
--   Windows: '30d', '90d', '365d' = the trailing N days ending on day inclusive; 'all' = every
--   day up to and including day. Per-day sums are rolled with range frames (no day x record join).
--   won / lost: opportunities won (won or post_sale) / lost whose closed date is in the window
--   (closed_at of int_opportunities__enriched: the source's, else the close the snapshots saw).
--   A closed opportunity without closed_at is counted (with its amount) only in the 'all' window
--   of the as-of day: it closed by then, but nobody knows when.
--   won_amount: sum of the won amounts (0 when none); avg_deal_size: average of the won amounts
--   that are known (NULL when none); avg_cycle_days / median_cycle_days: whole days from created
--   date to closed date of the won with both dates (NULL when none).
--   open_count / open_amount / weighted_pipeline: opportunities open at the end of the day,
--   the same value in every window, each valued as that day knew it (open_basis says how):
--   'snapshot': from its first snapshot before the as-of day on, the snapshot valid that day
--     (of several loads of a day the last; a night it was not loaded is no move) decides whether
--     it is open, its amount and its probability (its own, else the stage default, else 0);
--   'stage_history': before its first snapshot, open by its dates (created on or before the day
--     and not closed by its end; without created_at, first seen by the snapshots on or before
--     it) and under an open stage of the source's stage history (its last entry on or before
--     the day): that stage's default (its own probability while that is still its current
--     stage), the latest history amount up to then, else today's amount;
--   'current': the same open days with nothing older known (no history entry yet, or a closed
--     stage), and every currently open opportunity on the as-of day (one with neither date
--     only counts there): today's amount and effective probability; one closed since weighs
--     the default of the last open stage in its own stage history (0 without history), because
--     its own probability now reflects the outcome. A closed opportunity is open from its
--     created date to the day before its closed date; one with an unknown created or closed
--     date is never counted open in the past before its snapshots. A NULL amount counts as 0.
--   open_basis is 'mixed' when the day's opportunities use several; with nothing open
--   'snapshot' on the days the snapshots cover before the as-of day, else 'current'.
--   Snapshot and history amounts are in the deal's own currency, converted with its own rate
--   (at its close date, an open deal at the as-of day) like its current amount. The owner and
--   currency series are the opportunity's current ones; opportunities no longer loaded are left
--   out (as everywhere).
--   sales_velocity = open_count x win_rate x avg_deal_size / avg_cycle_days; NULL when a factor
--   is NULL or avg_cycle_days is 0.
-- implementation:
--   Money is summed per day as DECIMAL and the running open totals stay DECIMAL, so they are
--   exact; windowed sums roll as DOUBLE (won_amount rounded to 6 decimals). Each span of
--   constant open value adds one event where it starts and one where it ends (no day x
--   opportunity join).
--   Sums are rolled over a dense (series x day) grid. The windowed median runs over the won
--   cycles (in every window) plus, for each series, window and day without a cycle, two anchor
--   rows, one far below and one far above any real cycle. Every series then has a row on every
--   day to read the window's median (and carry the day's sums) from, and since anchors come in
--   pairs they leave the median of the real cycles unchanged. (DuckDB's windowed median is fast
--   on non-NULL rows and very slow with NULL placeholder rows.)

with

spine as (

    select day from int_day_spine

),

bounds as (

    select
        min(day) as first_day,
        cast(getvariable('as_of') as date) as as_of_day

    from spine

),

opportunities as (

    -- an opportunity without created_at is known to be in the pipeline from the day the
    -- snapshots first saw it (int_opportunities__enriched.first_seen_date)
    select * replace (coalesce(created_date, first_seen_date) as created_date)
    from int_opportunities__enriched

),

stages as (

    select * from int_stages__ranked

),

windows as (

    select * from int_windows

),

last_open_stages as (

    select
        history.opportunity_id,
        arg_max(history.stage, history.entered_at) as last_open_stage

    from stg_stage_history as history
    cross join bounds
    inner join stages
        on history.stage = stages.stage
    where
        stages.is_open
        and history.opportunity_id is not null
        and history.entered_date <= bounds.as_of_day
    group by history.opportunity_id

),

valued as (

    select
        opportunities.owner_key,
        opportunities.opportunity_id,
        opportunities.stage as current_stage,
        opportunities.effective_probability,
        -- turns an amount in the deal's own currency into its money currency
        case
            when opportunities.reporting_currency is null then 1.0
            else opportunities.exchange_rate
        end as money_factor,
        coalesce(opportunities.money_currency, '') as currency_key,
        opportunities.is_open,
        opportunities.is_won,
        opportunities.is_lost,
        cast(opportunities.money_amount as decimal(38, 6)) as amount,
        cast(opportunities.cycle_days as bigint) as cycle_days,
        opportunities.closed_date,
        case
            when opportunities.is_open then opportunities.effective_probability
            else coalesce(stages.default_probability, 0)
        end as open_probability,
        case
            when opportunities.is_open
                then least(coalesce(opportunities.created_date, bounds.as_of_day), bounds.as_of_day)
            when opportunities.closed_date > opportunities.created_date
                then opportunities.created_date
        end as open_from,
        case
            when not opportunities.is_open
                and opportunities.closed_date > opportunities.created_date
                then opportunities.closed_date
        end as open_until

    from opportunities
    cross join bounds
    left join last_open_stages
        on opportunities.opportunity_id = last_open_stages.opportunity_id
    left join stages
        on last_open_stages.last_open_stage = stages.stage

),

-- the open pipeline, valued as each day knew it ---------------------------------------------
-- Each opportunity's open days are cut into spans of constant value: before its first snapshot
-- (dates decide when it is open; the stage history, else today's values, decide its value), its
-- snapshots before the as-of day (each valid until its next one), and from the as-of day on
-- (today's values).

snapshot_rows as (

    -- the last load of each day an opportunity was loaded before the as-of day, valid until its
    -- next such day (a night it was not loaded is no move)
    select
        stg_state_snapshots.id as opportunity_id,
        stg_state_snapshots.snapshot_day,
        stg_state_snapshots.is_open,
        stg_state_snapshots.stage,
        stg_state_snapshots.amount,
        stg_state_snapshots.probability,
        coalesce(
            lead(stg_state_snapshots.snapshot_day) over (
                partition by stg_state_snapshots.id
                order by stg_state_snapshots.snapshot_day, stg_state_snapshots.load_seq
            ),
            bounds.as_of_day
        ) as span_until

    from stg_state_snapshots
    cross join bounds
    where
        stg_state_snapshots.kind = 'opportunity'
        and stg_state_snapshots.present
        and stg_state_snapshots.snapshot_day < bounds.as_of_day
    qualify span_until <> stg_state_snapshots.snapshot_day

),

first_snapshots as (

    select
        opportunity_id,
        min(snapshot_day) as first_snapshot_day

    from snapshot_rows
    group by opportunity_id

),

snapshot_bounds as (

    select min(first_snapshot_day) as first_snapshot_day from first_snapshots

),

dated_spans as (

    -- the days before its first snapshot (and before the as-of day) it is open by its dates
    select
        valued.*,
        valued.open_from as span_from,
        least(
            coalesce(valued.open_until, date '9999-12-31'),
            coalesce(first_snapshots.first_snapshot_day, bounds.as_of_day),
            bounds.as_of_day
        ) as span_until

    from valued
    cross join bounds
    left join first_snapshots
        on valued.opportunity_id = first_snapshots.opportunity_id
    where valued.open_from is not null

),

history_rows as (

    -- the source's stage history of the opportunities with dated spans: the last entry of each
    -- day, its amount the latest one recorded up to it
    select
        history.opportunity_id,
        history.entered_date,
        history.stage,
        last_value(history.amount ignore nulls) over (
            partition by history.opportunity_id
            order by history.entered_at
            rows between unbounded preceding and current row
        ) as amount

    from stg_stage_history as history
    cross join bounds
    semi join dated_spans
        on history.opportunity_id = dated_spans.opportunity_id
    where history.opportunity_id is not null and history.entered_date < bounds.as_of_day
    qualify
        row_number() over (
            partition by history.opportunity_id, history.entered_date
            order by history.entered_at desc
        ) = 1

),

history_spans as (

    select
        *,
        coalesce(
            lead(entered_date) over (partition by opportunity_id order by entered_date),
            date '9999-12-31'
        ) as entry_until,
        min(entered_date) over (partition by opportunity_id) as first_entry_date

    from history_rows

),

value_spans as (

    -- dated spans before the first history entry (or without one): today's values
    select
        dated_spans.opportunity_id,
        dated_spans.owner_key,
        dated_spans.currency_key,
        'current' as basis,
        dated_spans.span_from,
        least(
            dated_spans.span_until,
            coalesce(first_entries.first_entry_date, date '9999-12-31')
        ) as span_until,
        coalesce(dated_spans.amount, 0) as amount,
        dated_spans.open_probability as probability

    from dated_spans
    left join (
        select distinct opportunity_id, first_entry_date from history_spans
    ) as first_entries
        on dated_spans.opportunity_id = first_entries.opportunity_id

    union all

    -- dated spans under a history entry: an open stage weighs its default (its own probability
    -- while it is still the opportunity's current stage), the amount the history's when it
    -- recorded one; a closed stage (the dates say open) keeps today's values
    select
        dated_spans.opportunity_id,
        dated_spans.owner_key,
        dated_spans.currency_key,
        case when stages.is_open then 'stage_history' else 'current' end as basis,
        greatest(dated_spans.span_from, history_spans.entered_date) as span_from,
        least(dated_spans.span_until, history_spans.entry_until) as span_until,
        case
            when stages.is_open and history_spans.amount is not null
                then cast(history_spans.amount * dated_spans.money_factor as decimal(38, 6))
            else coalesce(dated_spans.amount, 0)
        end as amount,
        case
            when not stages.is_open then dated_spans.open_probability
            when dated_spans.is_open and history_spans.stage = dated_spans.current_stage
                then dated_spans.effective_probability
            else coalesce(stages.default_probability, 0)
        end as probability

    from dated_spans
    inner join history_spans
        on dated_spans.opportunity_id = history_spans.opportunity_id
    inner join stages
        on history_spans.stage = stages.stage

    union all

    -- its snapshots before the as-of day, when they saw it open (the last load of a day; a day
    -- it was not loaded is no move)
    select
        valued.opportunity_id,
        valued.owner_key,
        valued.currency_key,
        'snapshot' as basis,
        snapshots.snapshot_day as span_from,
        snapshots.span_until,
        cast(coalesce(snapshots.amount * valued.money_factor, 0) as decimal(38, 6)) as amount,
        coalesce(snapshots.probability, stages.default_probability, 0) as probability

    from snapshot_rows as snapshots
    inner join valued
        on snapshots.opportunity_id = valued.opportunity_id
    left join stages
        on snapshots.stage = stages.stage
    where snapshots.is_open

    union all

    -- from the as-of day on: today's values (the as-of day's figures are those of the export)
    select
        valued.opportunity_id,
        valued.owner_key,
        valued.currency_key,
        'current' as basis,
        greatest(valued.open_from, bounds.as_of_day) as span_from,
        coalesce(valued.open_until, date '9999-12-31') as span_until,
        coalesce(valued.amount, 0) as amount,
        valued.open_probability as probability

    from valued
    cross join bounds
    where valued.open_from is not null

),

open_spans as (

    select
        owner_key,
        currency_key,
        basis,
        span_from,
        span_until,
        cast(amount as decimal(38, 6)) as amount,
        cast(amount * probability as decimal(38, 6)) as weighted

    from value_spans
    where span_from < span_until

),

-- one series of all owners together (is_total, owner_key '') and one per owner
series_valued as (

    select
        true as is_total,
        '' as owner_key,
        valued.* exclude (owner_key)

    from valued

    union all

    select
        false as is_total,
        valued.*

    from valued

),

series_spans as (

    select
        true as is_total,
        '' as owner_key,
        open_spans.* exclude (owner_key)

    from open_spans

    union all

    select
        false as is_total,
        open_spans.*

    from open_spans

),

events as (

    -- closes on a known day
    select
        is_total,
        owner_key,
        currency_key,
        closed_date as day,
        case when is_won then 1 else 0 end as won,
        case when is_lost then 1 else 0 end as lost,
        case when is_won then amount end as won_amount,
        case when is_won and amount is not null then 1 else 0 end as won_with_amount,
        case when is_won then cycle_days end as cycle_days_sum,
        case when is_won and cycle_days is not null then 1 else 0 end as won_with_cycle,
        0 as open_delta,
        cast(0 as decimal(38, 6)) as open_amount_delta,
        cast(0 as decimal(38, 6)) as weighted_delta,
        0 as snapshot_delta,
        0 as history_delta

    from series_valued
    where not is_open and closed_date is not null

    union all

    -- a span of constant value starts counting as open at the end of this day
    select
        is_total,
        owner_key,
        currency_key,
        span_from as day,
        0,
        0,
        null,
        0,
        null,
        0,
        1,
        amount,
        weighted,
        case when basis = 'snapshot' then 1 else 0 end,
        case when basis = 'stage_history' then 1 else 0 end

    from series_spans

    union all

    -- and no longer at the end of the day it ends
    select
        is_total,
        owner_key,
        currency_key,
        span_until as day,
        0,
        0,
        null,
        0,
        null,
        0,
        -1,
        -amount,
        -weighted,
        case when basis = 'snapshot' then -1 else 0 end,
        case when basis = 'stage_history' then -1 else 0 end

    from series_spans
    where span_until < date '9999-12-31'

),

daily as (

    select
        is_total,
        owner_key,
        currency_key,
        day,
        sum(won) as won,
        sum(lost) as lost,
        sum(won_amount) as won_amount,
        sum(won_with_amount) as won_with_amount,
        sum(cycle_days_sum) as cycle_days_sum,
        sum(won_with_cycle) as won_with_cycle,
        sum(open_delta) as open_delta,
        sum(open_amount_delta) as open_amount_delta,
        sum(weighted_delta) as weighted_delta,
        sum(snapshot_delta) as snapshot_delta,
        sum(history_delta) as history_delta

    from events
    group by is_total, owner_key, currency_key, day

),

undated_closes as (

    select
        is_total,
        owner_key,
        currency_key,
        count(*) filter (where is_won) as won,
        count(*) filter (where is_lost) as lost,
        sum(amount) filter (where is_won) as won_amount,
        count(amount) filter (where is_won) as won_with_amount

    from series_valued
    where not is_open and closed_date is null
    group by is_total, owner_key, currency_key

),

currencies as (

    select distinct coalesce(money_currency, '') as currency_key from opportunities

    union all

    select coalesce(reporting_currency, '') as currency_key
    from stg_currency_config
    where not exists (select 1 from opportunities)

),

series as (

    select
        true as is_total,
        '' as owner_key,
        currency_key

    from currencies

    union all

    select distinct
        false as is_total,
        owner_key,
        coalesce(money_currency, '') as currency_key

    from opportunities

),

filled as (

    select
        series.is_total,
        series.owner_key,
        series.currency_key,
        spine.day,
        -- DOUBLE rolls faster than HUGEINT / DECIMAL(38); counts stay exact, money is rounded
        cast(coalesce(daily.won, 0) as double) as won,
        cast(coalesce(daily.lost, 0) as double) as lost,
        cast(coalesce(daily.won_amount, 0) as double) as won_amount,
        cast(coalesce(daily.won_with_amount, 0) as double) as won_with_amount,
        cast(coalesce(daily.cycle_days_sum, 0) as double) as cycle_days_sum,
        cast(coalesce(daily.won_with_cycle, 0) as double) as won_with_cycle,
        coalesce(daily.won_with_cycle, 0) > 0 as has_cycles,
        sum(coalesce(daily.open_delta, 0)) over running as open_count,
        sum(coalesce(daily.open_amount_delta, 0)) over running as open_amount,
        sum(coalesce(daily.weighted_delta, 0)) over running as weighted_pipeline,
        sum(coalesce(daily.snapshot_delta, 0)) over running as open_from_snapshot,
        sum(coalesce(daily.history_delta, 0)) over running as open_from_stage_history

    from series
    cross join spine
    left join daily
        on
            series.is_total = daily.is_total
            and series.owner_key = daily.owner_key
            and series.currency_key = daily.currency_key
            and spine.day = daily.day
    window running as (
        partition by series.is_total, series.owner_key, series.currency_key
        order by spine.day
        rows between unbounded preceding and current row
    )

),

windowed as (

    select
        filled.is_total,
        filled.owner_key,
        filled.currency_key,
        filled.day,
        windows.window_name,
        sum(filled.won) over in_window as won,
        sum(filled.lost) over in_window as lost,
        sum(filled.won_amount) over in_window as won_amount,
        sum(filled.won_with_amount) over in_window as won_with_amount,
        sum(filled.cycle_days_sum) over in_window as cycle_days_sum,
        sum(filled.won_with_cycle) over in_window as won_with_cycle,
        filled.has_cycles,
        filled.open_count,
        filled.open_amount,
        filled.weighted_pipeline,
        filled.open_from_snapshot,
        filled.open_from_stage_history

    from filled
    cross join windows
    cross join bounds
    window in_window as (
        partition by filled.is_total, filled.owner_key, filled.currency_key, windows.window_name
        order by filled.day
        range between interval (
            coalesce(windows.window_days - 1, date_diff('day', bounds.first_day, filled.day))
        ) days preceding and current row
    )

),

won_cycles as (

    -- the real cycles of the won; the first of each series and day will carry that day's sums
    select
        is_total,
        owner_key,
        currency_key,
        closed_date as day,
        cast(cycle_days as double) as cycle_days,
        row_number() over (
            partition by is_total, owner_key, currency_key, closed_date order by cycle_days
        ) = 1 as is_reader

    from series_valued
    where is_won and cycle_days is not null

),

median_rows as (

    -- each day with real cycles: one row per cycle, the first carrying the day's sums; each day
    -- without: a low anchor carrying the sums and a high anchor balancing it
    select
        windowed.* exclude (has_cycles),
        coalesce(won_cycles.cycle_days, anchors.cycle_days) as cycle_days,
        coalesce(won_cycles.is_reader, anchors.is_reader) as is_reader

    from windowed
    left join won_cycles
        on
            windowed.is_total = won_cycles.is_total
            and windowed.owner_key = won_cycles.owner_key
            and windowed.currency_key = won_cycles.currency_key
            and windowed.day = won_cycles.day
    left join (
        values (cast(-1e15 as double), true), (cast(1e15 as double), false)
    ) as anchors (cycle_days, is_reader)
        on not windowed.has_cycles

),

medians as (

    select * from (
        select
            median_rows.*,
            median(median_rows.cycle_days) over (
                partition by
                    median_rows.is_total,
                    median_rows.owner_key,
                    median_rows.currency_key,
                    median_rows.window_name
                order by median_rows.day
                range between interval (
                    coalesce(
                        windows.window_days - 1,
                        date_diff('day', bounds.first_day, median_rows.day)
                    )
                ) days preceding and current row
            ) as median_cycle_days

        from median_rows
        inner join windows
            on median_rows.window_name = windows.window_name
        cross join bounds
    )
    where is_reader

),

combined as (

    select
        medians.is_total,
        medians.owner_key,
        medians.currency_key,
        medians.day,
        medians.window_name,
        medians.won + coalesce(undated_closes.won, 0) as won,
        medians.lost + coalesce(undated_closes.lost, 0) as lost,
        medians.won_amount + coalesce(undated_closes.won_amount, 0) as won_amount,
        medians.won_with_amount
        + coalesce(undated_closes.won_with_amount, 0) as won_with_amount,
        medians.cycle_days_sum,
        medians.won_with_cycle,
        case
            when medians.won_with_cycle > 0 then medians.median_cycle_days
        end as median_cycle_days,
        medians.open_count,
        medians.open_amount,
        medians.weighted_pipeline,
        medians.open_from_snapshot,
        medians.open_from_stage_history

    from medians
    cross join bounds
    left join undated_closes
        on
            medians.is_total = undated_closes.is_total
            and medians.owner_key = undated_closes.owner_key
            and medians.currency_key = undated_closes.currency_key
            and medians.window_name = 'all'
            and medians.day = bounds.as_of_day

),

final as (

    select
        is_total,
        owner_key,
        currency_key,
        day,
        window_name,
        cast(won as bigint) as won,
        cast(lost as bigint) as lost,
        cast(won as double) / nullif(won + lost, 0) as win_rate,
        round(cast(won_amount as double), 6) as won_amount,
        round(cast(won_amount as double), 6) / nullif(won_with_amount, 0) as avg_deal_size,
        cast(cycle_days_sum as double) / nullif(won_with_cycle, 0) as avg_cycle_days,
        median_cycle_days,
        cast(open_count as bigint) as open_count,
        cast(open_amount as double) as open_amount,
        cast(weighted_pipeline as double) as weighted_pipeline,
        case
            when open_count = 0 and day >= first_snapshot_day and day < as_of_day
                then 'snapshot'
            when open_count = 0 then 'current'
            when open_from_snapshot = open_count then 'snapshot'
            when open_from_stage_history = open_count then 'stage_history'
            when open_from_snapshot + open_from_stage_history = 0 then 'current'
            else 'mixed'
        end as open_basis

    from combined
    cross join bounds
    cross join snapshot_bounds

)

select
    *,
    case
        when avg_cycle_days > 0
            then open_count * win_rate * avg_deal_size / avg_cycle_days
    end as sales_velocity

from final
