-- calendar: the fiscal calendar every period table uses, one row per day.
-- grain: day
-- inputs: int_calendar__days
-- decisions: see int_calendar__days (range, naming of fiscal years, offsets).

select * from int_calendar__days
order by day
