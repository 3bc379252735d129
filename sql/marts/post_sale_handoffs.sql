-- post_sale_handoffs: every won opportunity and, where the source records it, how many days
-- after the win it was handed to post-sale.
-- grain: opportunity_id (every opportunity whose stage is won or post_sale)
-- inputs: opportunities, stage_transitions
-- decisions:
--   won_at: the opportunity's first entry into won (stage_transitions; not one of a record first
--   seen already won, entry_source 'first_seen'), else its closed_at.
--   post_sale_at: its first entry into post_sale at or after won_at, from a dated record of
--   the move (the source's stage history or the pipeline's own snapshots); an entry the models
--   only infer from the current state (entry_source 'record_state', dated at closed_at), or a
--   record first seen already in post_sale ('first_seen'), is not a recorded handoff. NULL when there is none.
--   has_post_sale: post_sale_at is known; days_won_to_post_sale = post_sale_at - won_at in days
--   (fractional), NULL without both. is_in_post_sale: the opportunity's current stage is
--   post_sale (true also when the handoff's moment is unknown).

with

won as (

    select
        opportunity_id,
        record_id,
        owner,
        amount,
        currency,
        amount_reporting,
        stage,
        closed_at

    from opportunities
    where is_won

),

entries as (

    select
        opportunity_id,
        stage,
        entered_at,
        entry_source

    from stage_transitions
    where opportunity_id is not null and stage in ('won', 'post_sale')

),

won_entries as (

    select
        opportunity_id,
        min(entered_at) as first_won_at

    from entries
    -- first seen already won: it was won by then, nobody knows when
    where stage = 'won' and entry_source <> 'first_seen'
    group by opportunity_id

),

dated as (

    select
        won.*,
        coalesce(won_entries.first_won_at, won.closed_at) as won_at

    from won
    left join won_entries
        on won.opportunity_id = won_entries.opportunity_id

),

handoffs as (

    select
        dated.opportunity_id,
        min(entries.entered_at) as post_sale_at

    from dated
    inner join entries
        on dated.opportunity_id = entries.opportunity_id
    where
        entries.stage = 'post_sale'
        and entries.entry_source not in ('record_state', 'first_seen')
        and entries.entered_at >= dated.won_at
    group by dated.opportunity_id

),

final as (

    select
        -- keys
        dated.opportunity_id,
        dated.record_id,

        -- descriptors
        dated.owner,
        dated.amount,
        dated.currency,
        dated.amount_reporting,
        dated.stage,
        dated.stage = 'post_sale' as is_in_post_sale,

        -- the handoff
        dated.won_at,
        handoffs.post_sale_at,
        handoffs.post_sale_at is not null as has_post_sale,
        date_diff('second', dated.won_at, handoffs.post_sale_at) / 86400.0
            as days_won_to_post_sale

    from dated
    left join handoffs
        on dated.opportunity_id = handoffs.opportunity_id

)

select * from final
order by opportunity_id
