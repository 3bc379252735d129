-- int_windows: the trailing windows every windowed mart reports.
-- grain: window_name
-- inputs: none
-- decisions: '30d', '90d' and '365d' are that many days ending on the row's day (inclusive);
-- 'all' (window_days NULL) is everything up to and including the day.

select * from (
    values
        ('30d', 30),
        ('90d', 90),
        ('365d', 365),
        ('all', null)
) as t (window_name, window_days)
