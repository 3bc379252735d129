-- stg_monitoring_config: the [monitoring] settings of the config as one typed row.
-- grain: one row
-- inputs: cfg_monitoring (key, value text pairs from [monitoring] of the config; lists joined
--   by ',')
-- notes: windows are numbers of days ('28d'); metrics and dimensions name what metric_checks
-- judges. A missing parameter is NULL (funnel.config validates them before any run).

with

source as (

    select * from cfg_monitoring

),

renamed as (

    select
        -- windows
        list_transform(
            string_split(max(value) filter (where key = 'windows'), ','),
            lambda w: trim(w)
        ) as windows,
        try_cast(max(value) filter (where key = 'baseline_windows') as integer) as baseline_windows,

        -- thresholds
        try_cast(max(value) filter (where key = 'warn_z') as double) as warn_z,
        try_cast(max(value) filter (where key = 'alert_z') as double) as alert_z,
        try_cast(max(value) filter (where key = 'min_n') as integer) as min_n,

        -- what is judged
        list_filter(
            string_split(max(value) filter (where key = 'metrics'), ','), lambda m: m <> ''
        ) as metrics,
        list_filter(
            string_split(max(value) filter (where key = 'dimensions'), ','), lambda d: d <> ''
        ) as dimensions

    from source

)

select * from renamed
