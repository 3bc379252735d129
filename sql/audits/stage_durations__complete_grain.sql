-- audit: stage_durations has every canonical stage in every window (offending: missing pairs).
select
    windows.trailing_window,
    stages.stage

from (select unnest(['30d', '90d', '365d', 'all']) as trailing_window) as windows
cross join int_stages__ranked as stages
anti join stage_durations as durations
    on windows.trailing_window = durations.trailing_window and stages.stage = durations.stage
