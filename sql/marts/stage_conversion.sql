-- stage_conversion: of the records that entered a stage in a month, how many moved further.
-- grain: (cohort_month, stage)
-- inputs: stage_transitions
-- decisions:
--   cohort_month = date_trunc('month', entered_at); a record entering the same stage twice in a
--   month counts once (advanced if either entry advanced).
--   advanced: the record later entered a stage further down the funnel (prospecting <
--   qualification < meeting < proposal < negotiation < won < post_sale; lost never counts as
--   further), i.e. stage_transitions.advanced_later, which also sees a later entry whose
--   moment is unknown.
--   won / lost: the record's current stage (record_stage) is won or post_sale / lost.
--   conversion_rate = advanced / entered; avg_days_in_stage over the entries that were exited.

with

entries as (

    select * from stage_transitions

),

record_cohorts as (

    select
        cast(date_trunc('month', entered_at) as date) as cohort_month,
        stage,
        record_id,
        min(stage_order) as stage_order,
        bool_or(advanced_later) as advanced,
        min(record_stage) as record_stage,
        sum(days_in_stage) as days_in_stage_sum,
        count(days_in_stage) as exited_entries

    from entries
    group by cohort_month, stage, record_id

),

final as (

    select
        cohort_month,
        stage,
        min(stage_order) as stage_order,
        count(*) as entered,
        count(*) filter (where advanced) as advanced,
        count(*) filter (where record_stage in ('won', 'post_sale')) as won,
        count(*) filter (where record_stage = 'lost') as lost,
        count(*) filter (where advanced) / count(*) as conversion_rate,
        sum(days_in_stage_sum) / nullif(sum(exited_entries), 0) as avg_days_in_stage

    from record_cohorts
    group by cohort_month, stage

)

select * from final
order by cohort_month, stage_order
