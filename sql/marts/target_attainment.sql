-- target_attainment: each fiscal period's target against what was won, the open pipeline left
-- to cover the rest, and the projection by forecast category; for the company, each team,
-- manager and owner.
-- grain: (period_kind, period_start, level, name, currency)
-- inputs: stg_targets, stg_owners, stg_currency_config, int_fiscal_periods,
--   int_opportunities__enriched, int_opportunity_slices
-- decisions:
--   A target counts for the fiscal period of its period_kind that holds its period_start.
--   Target rows: owner set: that owner's; team only: the team's; both blank: the company's.
--   Rows of one key add up. Owner targets roll up: a team without a target of its own gets
--   the sum of its owners' (team from the owners entity, else the target row's team), a
--   manager the sum of their owners', the company without one of its own the sum of the teams'.
--   currency: the target's own, else [currency] reporting, else [currency] default; won and
--   open amounts are money amounts in the same currency (int_opportunities__converted).
--   won_amount: deals won (won or post_sale) with a close date in the period; open_pipeline:
--   open deals expected to close in it, omitted ones left out; commit_amount, best_case_amount,
--   pipeline_amount split it by forecast category, weighted_amount weighs best case and
--   pipeline by their effective probability.
--   attainment = won_amount / target; remaining = target - won_amount, at least 0;
--   coverage = open_pipeline / remaining (NULL when nothing remains);
--   win_rate_by_amount: won / (won + lost) amount of the slice's deals closed in the 365 days
--   to the as-of day; required_coverage = 1 / win_rate_by_amount;
--   projected = won_amount + commit_amount + weighted_amount.
--   Rows: every slice and period with a target, and every slice with deals won or open in a
--   period of the calendar.

with

as_of as (

    select cast(getvariable('as_of') as date) as as_of_day

),

settings as (

    select * from stg_currency_config

),

periods as (

    select * from int_fiscal_periods

),

owners as (

    select * from stg_owners

),

-- each target row placed in its period, with the level and name it is for
targets as (

    select
        periods.period_kind,
        periods.period_start,
        case
            when stg_targets.owner is not null then 'owner'
            when stg_targets.team is not null then 'team'
            else 'company'
        end as level,
        coalesce(stg_targets.owner, stg_targets.team, '(all)') as name,
        coalesce(owners.team, stg_targets.team, '(none)') as owner_team,
        coalesce(owners.manager, '(none)') as owner_manager,
        coalesce(
            stg_targets.currency, settings.reporting_currency, settings.default_currency
        ) as currency,
        stg_targets.amount

    from stg_targets
    cross join settings
    inner join periods
        on
            stg_targets.period_kind = periods.period_kind
            and stg_targets.period_start between periods.period_start and periods.period_end
    left join owners
        on stg_targets.owner = owners.owner

),

owner_targets as (

    select
        period_kind,
        period_start,
        name,
        owner_team,
        owner_manager,
        currency,
        sum(amount) as target

    from targets
    where level = 'owner'
    group by all

),

team_targets as (

    select
        coalesce(explicit.period_kind, rolled.period_kind) as period_kind,
        coalesce(explicit.period_start, rolled.period_start) as period_start,
        coalesce(explicit.name, rolled.name) as name,
        coalesce(explicit.currency, rolled.currency) as currency,
        coalesce(explicit.target, rolled.target) as target

    from (
        select period_kind, period_start, name, currency, sum(amount) as target
        from targets
        where level = 'team'
        group by all
    ) as explicit
    full outer join (
        select period_kind, period_start, owner_team as name, currency, sum(target) as target
        from owner_targets
        group by all
    ) as rolled
        on
            explicit.period_kind = rolled.period_kind
            and explicit.period_start = rolled.period_start
            and explicit.name = rolled.name
            and explicit.currency is not distinct from rolled.currency

),

all_targets as (

    select period_kind, period_start, 'owner' as level, name, currency, target
    from owner_targets

    union all

    select period_kind, period_start, 'manager', owner_manager, currency, sum(target)
    from owner_targets
    group by all

    union all

    select period_kind, period_start, 'team', name, currency, target
    from team_targets

    union all

    select
        coalesce(explicit.period_kind, rolled.period_kind),
        coalesce(explicit.period_start, rolled.period_start),
        'company',
        '(all)',
        coalesce(explicit.currency, rolled.currency),
        coalesce(explicit.target, rolled.target)

    from (
        select period_kind, period_start, currency, sum(amount) as target
        from targets
        where level = 'company'
        group by all
    ) as explicit
    full outer join (
        select period_kind, period_start, currency, sum(target) as target
        from team_targets
        group by all
    ) as rolled
        on
            explicit.period_kind = rolled.period_kind
            and explicit.period_start = rolled.period_start
            and explicit.currency is not distinct from rolled.currency

),

slices as (

    select
        opportunity_id,
        currency,
        case level when 'all' then 'company' else level end as level,
        name

    from int_opportunity_slices
    where level in ('all', 'team', 'manager', 'owner')

),

deals as (

    select
        slices.level,
        slices.name,
        slices.currency,
        opportunities.is_won,
        opportunities.is_lost,
        opportunities.is_open,
        opportunities.closed_date,
        opportunities.expected_close_date,
        opportunities.forecast_category,
        opportunities.effective_probability,
        coalesce(opportunities.money_amount, 0) as amount

    from int_opportunities__enriched as opportunities
    inner join slices
        on opportunities.opportunity_id = slices.opportunity_id

),

won as (

    select
        periods.period_kind,
        periods.period_start,
        deals.level,
        deals.name,
        deals.currency,
        sum(deals.amount) as won_amount

    from deals
    inner join periods
        on deals.closed_date between periods.period_start and periods.period_end
    where deals.is_won
    group by all

),

open_pipeline as (

    select
        periods.period_kind,
        periods.period_start,
        deals.level,
        deals.name,
        deals.currency,
        sum(deals.amount) as open_pipeline,
        sum(deals.amount) filter (where deals.forecast_category = 'commit') as commit_amount,
        sum(deals.amount) filter (
            where deals.forecast_category = 'best_case'
        ) as best_case_amount,
        sum(deals.amount) filter (
            where deals.forecast_category = 'pipeline'
        ) as pipeline_amount,
        sum(deals.amount * deals.effective_probability) filter (
            where deals.forecast_category in ('best_case', 'pipeline')
        ) as weighted_amount

    from deals
    inner join periods
        on deals.expected_close_date between periods.period_start and periods.period_end
    where deals.is_open and deals.forecast_category <> 'omitted'
    group by all

),

win_rates as (

    select
        deals.level,
        deals.name,
        deals.currency,
        sum(deals.amount) filter (where deals.is_won)
        / nullif(sum(deals.amount) filter (where deals.is_won or deals.is_lost), 0)
        as win_rate_by_amount

    from deals
    cross join as_of
    where
        deals.closed_date > as_of.as_of_day - interval 365 day
        and deals.closed_date <= as_of.as_of_day
        and (deals.is_won or deals.is_lost)
    group by all

),

keys as (

    select period_kind, period_start, level, name, currency from all_targets
    union
    select period_kind, period_start, level, name, currency from won
    union
    select period_kind, period_start, level, name, currency from open_pipeline

),

final as (

    select
        keys.period_kind,
        keys.period_start,
        periods.period_end,
        periods.period_label,
        keys.level,
        keys.name,
        keys.currency,
        all_targets.target,
        coalesce(won.won_amount, 0) as won_amount,
        coalesce(won.won_amount, 0) / nullif(all_targets.target, 0) as attainment,
        case
            when all_targets.target is not null
                then greatest(all_targets.target - coalesce(won.won_amount, 0), 0)
        end as remaining,
        coalesce(open_pipeline.open_pipeline, 0) as open_pipeline,
        coalesce(open_pipeline.commit_amount, 0) as commit_amount,
        coalesce(open_pipeline.best_case_amount, 0) as best_case_amount,
        coalesce(open_pipeline.pipeline_amount, 0) as pipeline_amount,
        coalesce(open_pipeline.weighted_amount, 0) as weighted_amount,
        coalesce(open_pipeline.open_pipeline, 0)
        / nullif(greatest(all_targets.target - coalesce(won.won_amount, 0), 0), 0) as coverage,
        win_rates.win_rate_by_amount,
        1 / nullif(win_rates.win_rate_by_amount, 0) as required_coverage,
        coalesce(won.won_amount, 0)
        + coalesce(open_pipeline.commit_amount, 0)
        + coalesce(open_pipeline.weighted_amount, 0) as projected

    from keys
    inner join periods
        on
            keys.period_kind = periods.period_kind
            and keys.period_start = periods.period_start
    left join all_targets
        on
            keys.period_kind = all_targets.period_kind
            and keys.period_start = all_targets.period_start
            and keys.level = all_targets.level
            and keys.name = all_targets.name
            and keys.currency is not distinct from all_targets.currency
    left join won
        on
            keys.period_kind = won.period_kind
            and keys.period_start = won.period_start
            and keys.level = won.level
            and keys.name = won.name
            and keys.currency is not distinct from won.currency
    left join open_pipeline
        on
            keys.period_kind = open_pipeline.period_kind
            and keys.period_start = open_pipeline.period_start
            and keys.level = open_pipeline.level
            and keys.name = open_pipeline.name
            and keys.currency is not distinct from open_pipeline.currency
    left join win_rates
        on
            keys.level = win_rates.level
            and keys.name = win_rates.name
            and keys.currency is not distinct from win_rates.currency

)

select * from final
order by
    list_position(['year', 'quarter', 'month'], period_kind),
    period_start,
    list_position(['company', 'team', 'manager', 'owner'], level),
    name,
    currency
