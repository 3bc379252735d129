-- pipeline_flow: how each fiscal period's pipeline moved, as a waterfall from its start to its
-- end (or the as-of day), for the whole company and per owner and pipeline.
-- grain: (period_kind, period_start, level, name, currency)
-- inputs: int_opportunity_flow__versions, int_fiscal_periods, int_opportunity_slices
-- decisions:
--   The pipeline of a period: the open opportunities expected to close in it. start is that
--   set at the end of the day before the period starts; end at the end of the period, or of
--   the as-of day while it runs. Periods starting after the as-of day have no rows.
--   Every state change inside the period (int_opportunity_flow__versions) moves a deal:
--   created (its first state, in the set or won at once), pulled_in (entered the set from an
--   open state with another or no expected close, or reopened), pushed_out (left the set still
--   open: expected close moved out of the period or removed), won (closed won; a deal won in
--   the period counts even when it was expected to close in another, entering as pulled in),
--   lost (closed lost, at its amount before the loss: lost deals often carry 0), amount_change
--   (amount changes while in the set, and from before to the win). Hence, for every row,
--   start + created + pulled_in + amount_change - pushed_out - won - lost = end (audit
--   pipeline_flow__balances), in amounts and (without amount_change) in counts.
--   Slices (int_opportunity_slices): level 'all' (name '(all)'), 'team' (the owner's team in
--   the owners entity), 'owner' and 'pipeline' ('(none)' when blank), by the opportunity's
--   current owner and pipeline: a rep's waterfall holds the deals they own now, over their
--   whole history.
--   Amounts are money amounts (int_opportunities__converted): one row per currency without
--   [currency] reporting, never summed across. Only slices with a deal in the period have rows.
--   slip_rate = pushed_out_amount / start_amount (NULL when start_amount is 0).

with

as_of as (

    select cast(getvariable('as_of') as date) as as_of_day

),

periods as (

    select
        int_fiscal_periods.period_kind,
        int_fiscal_periods.period_start,
        int_fiscal_periods.period_end,
        int_fiscal_periods.period_label,
        least(int_fiscal_periods.period_end, as_of.as_of_day) as cutoff

    from int_fiscal_periods
    cross join as_of
    where int_fiscal_periods.period_start <= as_of.as_of_day

),

versions as (

    select * from int_opportunity_flow__versions

),

-- the periods a state can count in: those holding its expected close, the one before, or its day
candidates as (

    select distinct
        versions.opportunity_id,
        versions.valid_from,
        periods.period_kind,
        periods.period_start

    from versions
    inner join periods
        on
            periods.period_start <= versions.expected_close_date
            and periods.period_end >= versions.expected_close_date

    union

    select
        versions.opportunity_id,
        versions.valid_from,
        periods.period_kind,
        periods.period_start

    from versions
    inner join periods
        on
            periods.period_start <= versions.previous_expected_close_date
            and periods.period_end >= versions.previous_expected_close_date

    union

    select
        versions.opportunity_id,
        versions.valid_from,
        periods.period_kind,
        periods.period_start

    from versions
    inner join periods
        on
            periods.period_start <= versions.valid_from
            and periods.period_end >= versions.valid_from

),

placed as (

    select
        versions.*,
        periods.*,
        versions.is_open
        and versions.expected_close_date between periods.period_start and periods.period_end
        as in_set,
        coalesce(
            versions.previous_is_open
            and versions.previous_expected_close_date
            between periods.period_start and periods.period_end,
            false
        ) as was_in_set

    from candidates
    inner join versions
        on
            candidates.opportunity_id = versions.opportunity_id
            and candidates.valid_from = versions.valid_from
    inner join periods
        on
            candidates.period_kind = periods.period_kind
            and candidates.period_start = periods.period_start

),

-- the set at the start (end of the day before) and at the end (cutoff) of each period
held as (

    select
        opportunity_id,
        period_kind,
        period_start,
        sum(amount) filter (where held_at_start) as start_amount,
        count(*) filter (where held_at_start) as start_count,
        sum(amount) filter (where held_at_end) as end_amount,
        count(*) filter (where held_at_end) as end_count

    from (
        select
            *,
            valid_from < period_start
            and (valid_to is null or valid_to >= period_start) as held_at_start,
            valid_from <= cutoff and (valid_to is null or valid_to > cutoff) as held_at_end

        from placed
        where in_set
    )
    group by all

),

changes as (

    select
        *,
        not was_in_set and (in_set or is_won and not coalesce(previous_is_won, false))
        as entered,
        case when previous_is_open then previous_amount else amount end as amount_before

    from placed
    where valid_from between period_start and cutoff

),

-- the changes that move a deal of the period's set: in it before, or entering it
active_changes as (

    select * from changes
    where was_in_set or entered

),

moves as (

    select
        opportunity_id,
        period_kind,
        period_start,
        sum(amount_before) filter (where entered and not has_previous) as created_amount,
        count(*) filter (where entered and not has_previous) as created_count,
        sum(amount_before) filter (where entered and has_previous) as pulled_in_amount,
        count(*) filter (where entered and has_previous) as pulled_in_count,
        sum(amount - amount_before) filter (
            where (in_set or is_won)
        ) as amount_change,
        sum(amount_before) filter (
            where is_open and not in_set
        ) as pushed_out_amount,
        count(*) filter (
            where is_open and not in_set
        ) as pushed_out_count,
        sum(amount) filter (where is_won) as won_amount,
        count(*) filter (where is_won) as won_count,
        sum(amount_before) filter (where is_lost) as lost_amount,
        count(*) filter (where is_lost) as lost_count

    from active_changes
    group by all

),

per_deal as (

    select
        coalesce(held.opportunity_id, moves.opportunity_id) as opportunity_id,
        coalesce(held.period_kind, moves.period_kind) as period_kind,
        coalesce(held.period_start, moves.period_start) as period_start,
        held.start_amount,
        held.start_count,
        moves.created_amount,
        moves.created_count,
        moves.pulled_in_amount,
        moves.pulled_in_count,
        moves.amount_change,
        moves.pushed_out_amount,
        moves.pushed_out_count,
        moves.won_amount,
        moves.won_count,
        moves.lost_amount,
        moves.lost_count,
        held.end_amount,
        held.end_count

    from held
    full outer join moves
        on
            held.opportunity_id = moves.opportunity_id
            and held.period_kind = moves.period_kind
            and held.period_start = moves.period_start

),

slices as (

    select * from int_opportunity_slices
    where level in ('all', 'team', 'owner', 'pipeline')

),

final as (

    select
        per_deal.period_kind,
        per_deal.period_start,
        periods.period_end,
        periods.period_label,
        periods.period_end <= (select as_of_day from as_of) as is_complete,
        slices.level,
        slices.name,
        slices.currency,
        coalesce(sum(per_deal.start_amount), 0) as start_amount,
        coalesce(sum(per_deal.start_count), 0) as start_count,
        coalesce(sum(per_deal.created_amount), 0) as created_amount,
        coalesce(sum(per_deal.created_count), 0) as created_count,
        coalesce(sum(per_deal.pulled_in_amount), 0) as pulled_in_amount,
        coalesce(sum(per_deal.pulled_in_count), 0) as pulled_in_count,
        coalesce(sum(per_deal.amount_change), 0) as amount_change,
        coalesce(sum(per_deal.pushed_out_amount), 0) as pushed_out_amount,
        coalesce(sum(per_deal.pushed_out_count), 0) as pushed_out_count,
        coalesce(sum(per_deal.won_amount), 0) as won_amount,
        coalesce(sum(per_deal.won_count), 0) as won_count,
        coalesce(sum(per_deal.lost_amount), 0) as lost_amount,
        coalesce(sum(per_deal.lost_count), 0) as lost_count,
        coalesce(sum(per_deal.end_amount), 0) as end_amount,
        coalesce(sum(per_deal.end_count), 0) as end_count,
        coalesce(sum(per_deal.pushed_out_amount), 0)
        / nullif(coalesce(sum(per_deal.start_amount), 0), 0) as slip_rate

    from per_deal
    inner join slices
        on per_deal.opportunity_id = slices.opportunity_id
    inner join periods
        on
            per_deal.period_kind = periods.period_kind
            and per_deal.period_start = periods.period_start
    group by all

)

select * from final
order by
    list_position(['year', 'quarter', 'month'], period_kind),
    period_start,
    list_position(['all', 'team', 'owner', 'pipeline'], level),
    name,
    currency
