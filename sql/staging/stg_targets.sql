-- stg_targets: the loaded sales targets, renamed and typed; nothing is derived here.
-- grain: one row per source row (period_kind, period_start, owner, team; blanks allowed)
-- inputs: raw_targets
-- notes: period_kind is lower-cased (month, quarter or year, checked on load); owner and team
-- both NULL: the whole company's target. currency NULL: the reporting currency (else the
-- [currency] default).

with

source as (

    select * from raw_targets

),

renamed as (

    select
        -- keys
        lower(period_kind) as period_kind,
        period_start,
        owner,
        team,

        -- the target
        amount,
        currency,

        -- lineage
        source_system,
        source_file,
        source_line,
        run_id as loaded_by_run_id

    from source

)

select * from renamed
