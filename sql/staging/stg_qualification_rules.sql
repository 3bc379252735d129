-- stg_qualification_rules: the BANT rule parameters as one typed row.
-- grain: one row
-- inputs: cfg_qualification (key, value text pairs from [qualification] of the config)
-- notes: a missing or unreadable parameter is NULL: its criterion then never counts and its
-- threshold never matches. Role and signal lists are split on ',' and normalised like the
-- cleaned lead fields ('Decision Maker' -> 'decision_maker') so they compare case-insensitively.

with

source as (

    select * from cfg_qualification

),

renamed as (

    select
        -- budget
        try_cast(max(value) filter (where key = 'budget_min') as double) as budget_min,

        -- authority and need: normalised lists
        list_filter(
            list_transform(
                string_split(max(value) filter (where key = 'authority_roles'), ','),
                lambda x: trim(regexp_replace(lower(trim(x)), '[^a-z0-9]+', '_', 'g'), '_')
            ),
            lambda x: x <> ''
        ) as authority_roles,
        list_filter(
            list_transform(
                string_split(max(value) filter (where key = 'need_signals'), ','),
                lambda x: trim(regexp_replace(lower(trim(x)), '[^a-z0-9]+', '_', 'g'), '_')
            ),
            lambda x: x <> ''
        ) as need_signals,

        -- nurture: lead stage labels that mean "sent back to nurture", normalised
        list_filter(
            list_transform(
                string_split(max(value) filter (where key = 'nurture_labels'), ','),
                lambda x: trim(regexp_replace(lower(trim(x)), '[^a-z0-9]+', '_', 'g'), '_')
            ),
            lambda x: x <> ''
        ) as nurture_labels,

        -- timeline
        try_cast(
            try_cast(max(value) filter (where key = 'timeline_horizon_days') as double)
            as integer
        ) as timeline_horizon_days,

        -- weights
        try_cast(max(value) filter (where key = 'weight_budget') as double) as weight_budget,
        try_cast(max(value) filter (where key = 'weight_authority') as double) as weight_authority,
        try_cast(max(value) filter (where key = 'weight_need') as double) as weight_need,
        try_cast(max(value) filter (where key = 'weight_timeline') as double) as weight_timeline,

        -- thresholds
        try_cast(
            max(value) filter (where key = 'qualified_min_score') as double
        ) as qualified_min_score,
        try_cast(
            max(value) filter (where key = 'nurture_min_score') as double
        ) as nurture_min_score

    from source

)

select * from renamed
