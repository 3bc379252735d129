-- stg_state_snapshots: the pipeline's own snapshots of leads and opportunities (changes only).
-- grain: (kind, id, snapshot_day, load_seq)
-- inputs: state_snapshots (appended by funnel.snapshots in each run's load transaction)
-- notes: a row is the tracked state of one lead (kind 'lead') or opportunity (kind
-- 'opportunity') as a run saw it on its as-of day (snapshot_day), written only when it differs
-- from the record's previous snapshot; present = false marks a record no longer loaded. Several
-- loads of one day: the one with the highest load_seq is that day's state.

with

source as (

    select * from state_snapshots

),

renamed as (

    select
        -- ids
        kind,
        id,
        lead_id,

        -- the snapshot
        as_of as snapshot_day,
        load_seq,
        run_id as snapshot_run_id,
        present,

        -- tracked state
        stage,
        owner,
        amount,
        probability,
        expected_close_date,
        is_open,
        forecast_category as forecast_category_label,

        -- dates
        created_at,
        closed_at,
        updated_at

    from source

)

select * from renamed
