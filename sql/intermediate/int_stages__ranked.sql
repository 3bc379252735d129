-- int_stages__ranked: the eight canonical stages with their order and configured default.
-- grain: stage
-- inputs: stg_stage_probabilities
-- notes:
--   sort_order  follows funnel.schema.STAGES (prospecting .. post_sale) and breaks ties between
--               entries recorded at the same instant.
--   funnel_rank is the funnel order used for direction and advancement: prospecting 1 <
--               qualification 2 < meeting 3 < proposal 4 < negotiation 5 < won 6 < post_sale 7;
--               lost has no rank of its own (it is a close), the models read it as level 6.
--   default_probability is NULL for a stage the config leaves out (weighted as 0).

with

stages as (

    select * from (
        values
            ('prospecting', 1, 1, false, false),
            ('qualification', 2, 2, false, false),
            ('meeting', 3, 3, false, false),
            ('proposal', 4, 4, false, false),
            ('negotiation', 5, 5, false, false),
            ('won', 6, 6, true, true),
            ('lost', 7, null, true, false),
            ('post_sale', 8, 7, true, true)
    ) as t (stage, sort_order, funnel_rank, is_closed, is_won)

),

probabilities as (

    select * from stg_stage_probabilities

),

ranked as (

    select
        stages.stage,
        stages.sort_order,
        stages.funnel_rank,
        stages.is_closed,
        not stages.is_closed as is_open,
        stages.is_won,
        stages.stage = 'lost' as is_lost,
        probabilities.default_probability

    from stages
    left join probabilities
        on stages.stage = probabilities.stage

)

select * from ranked
