-- stg_run_sources: the row counts of one source in one run.
-- grain: (run_id, source)
-- inputs: log_run_sources

with

source as (

    select * from log_run_sources

),

renamed as (

    select
        -- ids
        run_id,
        source,
        entity,

        -- counts
        rows_read,
        rows_loaded,
        rows_quarantined,
        rows_warned,

        -- how the source ran: full, or incremental (new or changed records only)
        coalesce(mode, 'full') as mode,

        -- file sources: the encoding the files were read in, e.g. 'windows-1252 (detected)'
        encoding

    from source

)

select * from renamed
