-- audit: post_sale_handoffs has one row per won opportunity, and a handoff never precedes the
-- win (offending rows).
select
    opportunity_id,
    count(*) over (partition by opportunity_id) as rows_in_grain

from post_sale_handoffs
qualify
    count(*) over (partition by opportunity_id) > 1
    or days_won_to_post_sale < 0
    or has_post_sale <> (days_won_to_post_sale is not null)
    or count(*) over () <> (select count(*) from opportunities where is_won)
