-- audit: every pipeline_flow row balances, in amounts and in counts:
-- start + created + pulled in + amount change - pushed out - won - lost = end
-- (offending: the rows that do not, with the difference).
select
    period_kind,
    period_start,
    level,
    name,
    currency,
    start_amount + created_amount + pulled_in_amount + amount_change
    - pushed_out_amount - won_amount - lost_amount - end_amount as amount_difference,
    start_count + created_count + pulled_in_count
    - pushed_out_count - won_count - lost_count - end_count as count_difference

from pipeline_flow
where
    abs(
        start_amount + created_amount + pulled_in_amount + amount_change
        - pushed_out_amount - won_amount - lost_amount - end_amount
    ) > 1e-6 * greatest(1, abs(start_amount) + abs(end_amount) + created_amount + won_amount)
    or start_count + created_count + pulled_in_count
    - pushed_out_count - won_count - lost_count <> end_count
