-- metric_checks: each monitored metric of the as-of day against its own recent past, judged.
-- grain: (day, trailing_window, metric, dimension, dimension_value, currency)
-- inputs: metric_windows, stg_monitoring_config, cfg_monitoring_mutes
-- decisions:
--   value: the metric in the current window (metric_windows.window_index 0); baseline: the
--   same metric over the baseline windows before it (up to [monitoring] baseline_windows).
--   Rates (method two_proportion: win_rate, stage_conversion, lead_to_win): baseline = the
--   pooled rate of the baseline windows; z = (value - baseline) / sqrt(p (1 - p) (1 / n +
--   1 / n_baseline)) with p the rate of both pooled; n = the current window's trials. z is 0
--   when p is 0 or 1 (no spread: both are the same).
--   Counts and amounts (method robust: created_count, created_amount, lead_volume,
--   median_cycle_days, sales_velocity): baseline = the median of the baseline windows' values;
--   z = (value - baseline) / scale with scale = 1.4826 x MAD (the median absolute deviation,
--   which is the standard deviation for normal data); when MAD is 0, 1.2533 x the mean absolute
--   deviation; when that is 0 too, a tenth of the baseline. Counts (created_count,
--   lead_volume) never get a scale below sqrt(baseline): chance alone moves a count that much.
--   n = the current window's records, for counts and amounts at least the baseline windows'
--   median records (so a count that falls to zero is still judged on the size it had).
--   Direction: z is signed so that below 0 is worse; median_cycle_days rising is worse, so its
--   z is negated.
--   status: 'alert' when z <= [monitoring] alert_z, 'warn' when z <= warn_z, else 'ok'; always
--   'ok' when n < min_n, without a baseline window, or when z is NULL (nothing to compare).
--   is_muted: a [[monitoring.mutes]] entry names the metric (and the dimension and its value,
--   where it gives them): the check is published but never alerts.

with

settings as (

    select * from stg_monitoring_config

),

windows as (

    select * from metric_windows

),

current_window as (

    select * from windows
    where window_index = 0

),

baselines as (

    select
        window_name,
        metric,
        dimension,
        dimension_value,
        currency,
        count(*) as baseline_windows,
        sum(successes) as baseline_successes,
        sum(trials) as baseline_trials,
        median(value) as baseline_median,
        median(records) as baseline_records

    from windows
    where window_index > 0
    group by all

),

spreads as (

    select
        windows.window_name,
        windows.metric,
        windows.dimension,
        windows.dimension_value,
        windows.currency,
        median(abs(windows.value - baselines.baseline_median)) as mad,
        avg(abs(windows.value - baselines.baseline_median)) as mean_ad

    from windows
    inner join baselines
        on
            windows.window_name = baselines.window_name
            and windows.metric = baselines.metric
            and windows.dimension = baselines.dimension
            and windows.dimension_value = baselines.dimension_value
            and windows.currency is not distinct from baselines.currency
    where windows.window_index > 0
    group by all

),

compared as (

    select
        current_window.*,
        coalesce(baselines.baseline_windows, 0) as baseline_windows,
        case
            when current_window.method = 'two_proportion'
                then
                    cast(baselines.baseline_successes as double)
                    / nullif(baselines.baseline_trials, 0)
            else baselines.baseline_median
        end as baseline,
        baselines.baseline_trials,
        (current_window.successes + baselines.baseline_successes)
        / nullif(current_window.trials + baselines.baseline_trials, 0) as pooled_rate,
        case
            when current_window.metric in ('created_count', 'lead_volume')
                then greatest(
                    coalesce(
                        nullif(1.4826 * spreads.mad, 0),
                        nullif(1.2533 * spreads.mean_ad, 0),
                        nullif(0.1 * abs(baselines.baseline_median), 0)
                    ),
                    sqrt(greatest(baselines.baseline_median, 0))
                )
            else coalesce(
                nullif(1.4826 * spreads.mad, 0),
                nullif(1.2533 * spreads.mean_ad, 0),
                nullif(0.1 * abs(baselines.baseline_median), 0)
            )
        end as robust_scale,
        case
            when current_window.method = 'two_proportion' then current_window.trials
            when current_window.metric in ('created_count', 'created_amount', 'lead_volume')
                then greatest(
                    current_window.records, cast(coalesce(baselines.baseline_records, 0) as bigint)
                )
            else current_window.records
        end as n

    from current_window
    left join baselines
        on
            current_window.window_name = baselines.window_name
            and current_window.metric = baselines.metric
            and current_window.dimension = baselines.dimension
            and current_window.dimension_value = baselines.dimension_value
            and current_window.currency is not distinct from baselines.currency
    left join spreads
        on
            current_window.window_name = spreads.window_name
            and current_window.metric = spreads.metric
            and current_window.dimension = spreads.dimension
            and current_window.dimension_value = spreads.dimension_value
            and current_window.currency is not distinct from spreads.currency

),

scored as (

    select
        *,
        case
            when method = 'two_proportion' then
                case
                    when trials = 0 or coalesce(baseline_trials, 0) = 0 then null
                    when pooled_rate in (0, 1) then 0.0
                    else (value - baseline) / sqrt(
                        pooled_rate * (1 - pooled_rate) * (1.0 / trials + 1.0 / baseline_trials)
                    )
                end
            when metric = 'median_cycle_days' then -(value - baseline) / robust_scale
            else (value - baseline) / robust_scale
        end as z

    from compared

),

final as (

    select
        -- grain
        cast(getvariable('as_of') as date) as day,
        scored.window_name as trailing_window,
        scored.metric,
        scored.dimension,
        scored.dimension_value,
        scored.currency,

        -- the comparison
        scored.value,
        scored.baseline,
        cast(scored.n as bigint) as n,
        scored.z,
        case
            when scored.z is null or scored.n < settings.min_n then 'ok'
            when scored.z <= settings.alert_z then 'alert'
            when scored.z <= settings.warn_z then 'warn'
            else 'ok'
        end as status,
        exists (
            select 1 from cfg_monitoring_mutes as mutes
            where
                mutes.metric = scored.metric
                and (mutes.dimension is null or mutes.dimension = scored.dimension)
                and (mutes.dimension_value is null or mutes.dimension_value = scored.dimension_value)
        ) as is_muted,

        -- how it was judged
        scored.method,
        cast(scored.baseline_windows as integer) as baseline_windows,
        scored.window_start,
        scored.window_end

    from scored
    cross join settings

)

select * from final
order by trailing_window, metric, dimension, dimension_value, currency
