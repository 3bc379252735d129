-- metric_windows: each monitored metric in the current window and in the windows before it,
-- for the whole funnel and per owner and source: the figures metric_checks judges.
-- grain: (window_name, window_index, metric, dimension, dimension_value, currency)
-- inputs: stg_monitoring_config, int_day_spine, opportunities, stg_leads, stage_transitions,
--   int_stages__ranked
-- decisions:
--   Windows: for each [monitoring] window of N days, window_index 0 is the N days ending on the
--   as-of day (inclusive), window_index k the N days ending k x N days earlier, for k up to
--   baseline_windows. A baseline window that starts before the first day of the data
--   (int_day_spine) is left out: the data cannot say what happened then.
--   Rates (successes / trials): win_rate = won / (won + lost) over the opportunities closed in
--   the window; stage_conversion (dimension 'stage') = of the entries into an open stage in the
--   window, those whose next move went further down the funnel (forward, or into won) by the
--   window's end; lead_to_win = of the leads created in the window, those with a won
--   opportunity closed by the window's end (a won one without a close date counts as won by
--   the as-of day). Judging every window as it stood at its own end keeps young cohorts
--   comparable with old ones.
--   Counts and amounts: created_count / created_amount = opportunities created in the window
--   and the sum of their amounts (NULL amounts count 0); lead_volume = leads created in the
--   window; median_cycle_days = median cycle_days of the won closed in the window;
--   sales_velocity = open opportunities at the window's end x win_rate x average won amount /
--   average won cycle_days (NULL when a factor is NULL or the cycle is 0).
--   Money: amounts are the reporting-currency amounts with [currency] reporting, else each
--   deal's own amount, and money metrics (created_amount, sales_velocity) are per currency
--   (currency NULL for the others): no sum spans two currencies.
--   Dimensions: 'all' ('(all)'), 'owner' (the opportunity's or lead's owner), 'source' (the
--   lead's source; an opportunity's through its lead, '(none)' without one); owner and source
--   only where [monitoring] dimensions name them. A series gets a row in every window as soon as
--   it has a record in any of them (zeros, or NULL for a median, where it has none).
--   records: what the figure rests on (trials of a rate, the records counted or summed, the won
--   cycles of the median, the closes behind the velocity's win rate).

with

settings as (

    select * from stg_monitoring_config

),

bounds as (

    select
        min(day) as first_day,
        cast(getvariable('as_of') as date) as as_of_day

    from int_day_spine

),

windows as (

    select * from (
        select
            named.window_name,
            cast(rtrim(named.window_name, 'd') as integer) as window_days,
            cast(indexes.window_index as integer) as window_index,
            bounds.first_day

        from settings
        cross join bounds
        cross join unnest(settings.windows) as named (window_name)
        cross join unnest(range(0, settings.baseline_windows + 1)) as indexes (window_index)
    )
    cross join lateral (
        select
            bounds.as_of_day - (window_index + 1) * window_days + 1 as window_start,
            bounds.as_of_day - window_index * window_days as window_end
        from bounds
    )
    where window_index = 0 or window_start >= first_day

),

stages as (

    select * from int_stages__ranked

),

opportunity_rows as (

    select
        opportunities.opportunity_id,
        coalesce(opportunities.owner, '(none)') as owner_key,
        coalesce(lead_table.source, '(none)') as source_key,
        opportunities.is_open,
        opportunities.is_won,
        opportunities.is_lost,
        cast(opportunities.created_at as date) as created_date,
        cast(opportunities.closed_at as date) as closed_date,
        opportunities.cycle_days,
        coalesce(opportunities.reporting_currency, opportunities.currency) as money_currency,
        case
            when opportunities.reporting_currency is null then opportunities.amount
            else opportunities.amount_reporting
        end as money_amount

    from opportunities
    left join stg_leads as lead_table
        on opportunities.has_loaded_lead and opportunities.record_id = lead_table.lead_id

),

lead_wins as (

    select
        opportunities.record_id as lead_id,
        min(coalesce(cast(opportunities.closed_at as date), bounds.as_of_day)) as won_date

    from opportunities
    cross join bounds
    where opportunities.has_loaded_lead and opportunities.is_won
    group by opportunities.record_id

),

lead_rows as (

    select
        lead_table.lead_id,
        coalesce(lead_table.owner, '(none)') as owner_key,
        coalesce(lead_table.source, '(none)') as source_key,
        lead_table.created_date,
        lead_wins.won_date

    from stg_leads as lead_table
    left join lead_wins
        on lead_table.lead_id = lead_wins.lead_id

),

dimensions as (

    select * from (values ('all'), ('owner'), ('source')) as t (dimension)

),

-- every opportunity and lead once per dimension it is broken down by
opportunity_dims as (

    select
        dimensions.dimension,
        case dimensions.dimension
            when 'owner' then opportunity_rows.owner_key
            when 'source' then opportunity_rows.source_key
            else '(all)'
        end as dimension_value,
        opportunity_rows.*

    from opportunity_rows
    cross join dimensions

),

lead_dims as (

    select
        dimensions.dimension,
        case dimensions.dimension
            when 'owner' then lead_rows.owner_key
            when 'source' then lead_rows.source_key
            else '(all)'
        end as dimension_value,
        lead_rows.*

    from lead_rows
    cross join dimensions

),

closes as (

    select
        windows.window_name,
        windows.window_index,
        opportunity_dims.dimension,
        opportunity_dims.dimension_value,
        opportunity_dims.money_currency,
        opportunity_dims.is_won,
        opportunity_dims.money_amount,
        opportunity_dims.cycle_days

    from opportunity_dims
    inner join windows
        on opportunity_dims.closed_date between windows.window_start and windows.window_end
    where opportunity_dims.is_won or opportunity_dims.is_lost

),

win_rates as (

    select
        window_name,
        window_index,
        'win_rate' as metric,
        dimension,
        dimension_value,
        cast(null as varchar) as currency,
        count(*) filter (where is_won) as successes,
        count(*) as trials,
        count(*) as records

    from closes
    group by all

),

cycles as (

    select
        window_name,
        window_index,
        'median_cycle_days' as metric,
        dimension,
        dimension_value,
        cast(null as varchar) as currency,
        median(cycle_days) as value,
        count(*) as records

    from closes
    where is_won and cycle_days is not null and dimension <> 'source'
    group by all

),

velocity_closes as (

    select
        window_name,
        window_index,
        dimension,
        dimension_value,
        money_currency,
        count(*) filter (where is_won) as won,
        count(*) as closed,
        avg(money_amount) filter (where is_won) as avg_deal_size,
        avg(cycle_days) filter (where is_won) as avg_cycle_days

    from closes
    where dimension <> 'source'
    group by all

),

open_at_end as (

    select
        windows.window_name,
        windows.window_index,
        opportunity_dims.dimension,
        opportunity_dims.dimension_value,
        opportunity_dims.money_currency,
        count(*) as open_count

    from opportunity_dims
    inner join windows
        on
            (
                opportunity_dims.created_date <= windows.window_end
                or (opportunity_dims.created_date is null and windows.window_index = 0)
            )
            and (opportunity_dims.is_open or opportunity_dims.closed_date > windows.window_end)
    where opportunity_dims.dimension <> 'source'
    group by all

),

velocities as (

    select
        velocity_closes.window_name,
        velocity_closes.window_index,
        'sales_velocity' as metric,
        velocity_closes.dimension,
        velocity_closes.dimension_value,
        velocity_closes.money_currency as currency,
        case
            when velocity_closes.avg_cycle_days > 0
                then
                    coalesce(open_at_end.open_count, 0)
                    * velocity_closes.won / velocity_closes.closed
                    * velocity_closes.avg_deal_size / velocity_closes.avg_cycle_days
        end as value,
        velocity_closes.closed as records

    from velocity_closes
    left join open_at_end
        on
            velocity_closes.window_name = open_at_end.window_name
            and velocity_closes.window_index = open_at_end.window_index
            and velocity_closes.dimension = open_at_end.dimension
            and velocity_closes.dimension_value = open_at_end.dimension_value
            and velocity_closes.money_currency is not distinct from open_at_end.money_currency

),

created as (

    select
        windows.window_name,
        windows.window_index,
        opportunity_dims.dimension,
        opportunity_dims.dimension_value,
        opportunity_dims.money_currency,
        count(*) as records,
        sum(coalesce(opportunity_dims.money_amount, 0)) as amount

    from opportunity_dims
    inner join windows
        on opportunity_dims.created_date between windows.window_start and windows.window_end
    group by all

),

created_counts as (

    select
        window_name,
        window_index,
        'created_count' as metric,
        dimension,
        dimension_value,
        cast(null as varchar) as currency,
        cast(sum(records) as double) as value,
        sum(records) as records

    from created
    group by all

),

created_amounts as (

    select
        window_name,
        window_index,
        'created_amount' as metric,
        dimension,
        dimension_value,
        money_currency as currency,
        cast(amount as double) as value,
        records

    from created

),

lead_windows as (

    select
        windows.window_name,
        windows.window_index,
        lead_dims.dimension,
        lead_dims.dimension_value,
        count(*) as lead_count,
        count(*) filter (where lead_dims.won_date <= windows.window_end) as won

    from lead_dims
    inner join windows
        on lead_dims.created_date between windows.window_start and windows.window_end
    group by all

),

lead_volumes as (

    select
        window_name,
        window_index,
        'lead_volume' as metric,
        dimension,
        dimension_value,
        cast(null as varchar) as currency,
        cast(lead_count as double) as value,
        lead_count as records

    from lead_windows

),

lead_to_wins as (

    select
        window_name,
        window_index,
        'lead_to_win' as metric,
        dimension,
        dimension_value,
        cast(null as varchar) as currency,
        won as successes,
        lead_count as trials,
        lead_count as records

    from lead_windows

),

conversions as (

    select
        windows.window_name,
        windows.window_index,
        'stage_conversion' as metric,
        'stage' as dimension,
        entries.stage as dimension_value,
        cast(null as varchar) as currency,
        count(*) filter (
            where
                cast(entries.exited_at as date) <= windows.window_end
                and (entries.direction = 'forward' or entries.next_stage in ('won', 'post_sale'))
        ) as successes,
        count(*) as trials,
        count(*) as records

    from stage_transitions as entries
    inner join stages
        on entries.stage = stages.stage
    inner join windows
        on cast(entries.entered_at as date) between windows.window_start and windows.window_end
    where stages.is_open
    group by all

),

rates as (

    select * from win_rates
    union all by name
    select * from lead_to_wins
    union all by name
    select * from conversions

),

figures as (

    select
        *,
        'two_proportion' as method,
        cast(successes as double) / nullif(trials, 0) as value

    from rates

    union all by name

    select
        *,
        'robust' as method,
        cast(null as bigint) as successes,
        cast(null as bigint) as trials

    from (
        select * from cycles
        union all by name
        select * from velocities
        union all by name
        select * from created_counts
        union all by name
        select * from created_amounts
        union all by name
        select * from lead_volumes
    )

),

series as (

    select distinct
        figures.window_name,
        figures.metric,
        figures.method,
        figures.dimension,
        figures.dimension_value,
        figures.currency

    from figures
    cross join settings
    where
        list_contains(settings.metrics, figures.metric)
        and (
            figures.dimension in ('all', 'stage')
            or list_contains(settings.dimensions, figures.dimension)
        )

),

final as (

    select
        -- grain
        series.window_name,
        windows.window_index,
        series.metric,
        series.dimension,
        series.dimension_value,
        series.currency,

        -- the window
        windows.window_days,
        windows.window_start,
        windows.window_end,

        -- the figure
        series.method,
        case
            when series.metric in ('created_count', 'created_amount', 'lead_volume')
                then coalesce(figures.value, 0)
            else figures.value
        end as value,
        coalesce(figures.successes, case when series.method = 'two_proportion' then 0 end)
            as successes,
        coalesce(figures.trials, case when series.method = 'two_proportion' then 0 end)
            as trials,
        coalesce(figures.records, 0) as records

    from series
    inner join windows
        on series.window_name = windows.window_name
    left join figures
        on
            series.window_name = figures.window_name
            and windows.window_index = figures.window_index
            and series.metric = figures.metric
            and series.dimension = figures.dimension
            and series.dimension_value = figures.dimension_value
            and series.currency is not distinct from figures.currency

)

select * from final
