-- audit: with [currency] reporting, every opportunity with an amount has it in the reporting
-- currency (amounts that no rate converts are quarantined before they load); without it none
-- is converted (offending: the opportunities that break it).
select
    opportunities.opportunity_id,
    opportunities.amount,
    opportunities.currency,
    opportunities.amount_reporting,
    settings.reporting_currency

from opportunities
cross join stg_currency_config as settings
where
    (
        settings.reporting_currency is not null
        and opportunities.amount is not null
        and opportunities.amount_reporting is null
    )
    or (settings.reporting_currency is null and opportunities.amount_reporting is not null)
