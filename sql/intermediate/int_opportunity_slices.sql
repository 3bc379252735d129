-- int_opportunity_slices: the slices each loaded opportunity counts in, by its current owner.
-- grain: (opportunity_id, level)
-- inputs: int_opportunities__enriched, stg_owners
-- decisions: level all (name '(all)'), owner (owner, '(none)' when blank), team and manager
--   (from the owners entity by the owner's name; '(none)' when the owner is not listed there or
--   the entry leaves it blank) and pipeline ('(none)' when blank). currency is the
--   opportunity's money currency (int_opportunities__converted).

with

opportunities as (

    select
        opportunity_id,
        owner,
        owner_key,
        pipeline,
        money_currency

    from int_opportunities__enriched

),

owners as (

    select * from stg_owners

),

final as (

    select
        opportunities.opportunity_id,
        opportunities.money_currency as currency,
        unnest(['all', 'team', 'manager', 'owner', 'pipeline']) as level,
        unnest([
            '(all)',
            coalesce(owners.team, '(none)'),
            coalesce(owners.manager, '(none)'),
            opportunities.owner_key,
            coalesce(opportunities.pipeline, '(none)')
        ]) as name

    from opportunities
    left join owners
        on opportunities.owner = owners.owner

)

select * from final
