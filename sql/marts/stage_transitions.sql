-- stage_transitions: one row per entry of a funnel record into a stage.
-- grain: (record_id, stage, entered_at)
-- inputs: int_stage_entries__sequenced (see its header for how entries are derived and ordered)
-- decisions:
--   Built from the source's stage history where the record has one, else from the pipeline's own
--   daily snapshots (state_snapshots: a stage change seen between two runs), else from the
--   record's own timestamps (a lead enters 'prospecting' at created_at; an opportunity enters its
--   stage at closed_at when closed, else at created_at), else, for the stage a record had when
--   the snapshots first saw it, at the start of that first snapshot day (an export without
--   dates); snapshot changes also fill in after a record's last history row. Rules for skipped stages, moves back, re-entry and reopened lost
--   records: int_stage_entries__sequenced (and the README). Entries whose moment is unknown are
--   left out here (the grain includes entered_at) but count in funnel_daily.
--   exited_at / next_stage: the next entry of the record; NULL while current or when the next
--   moment is unknown. days_in_stage: exited_at - entered_at in days, NULL when not exited.
--   is_current: this is the record's current stage. direction: 'forward', 'back' or 'close'
--   (next stage won or lost); NULL while current. advanced_later: the record later entered a
--   stage further down the funnel (lost never counts as further; an entry into lost counts as
--   level 6, so only post_sale lies beyond it). entry_source: stage_history, snapshot,
--   lead_created, record_state or first_seen (see the .yml). stage_order: the stage's place in the canonical order (1..8). record_stage:
--   the record's current stage (where the record ended up as of the as-of day).

with

entries as (

    select * from int_stage_entries__sequenced
    where entered_at is not null

),

final as (

    select
        -- keys
        record_id,
        lead_id,
        opportunity_id,

        -- the entry
        stage,
        sort_order as stage_order,
        entered_at,

        -- the exit
        exited_at,
        next_stage,
        days_in_stage,
        is_current,
        direction,
        advanced_later,
        record_stage,

        -- lineage
        entry_source

    from entries

)

select * from final
