-- audit: exchange_rates has one row per (currency, rate_date), a rate above 0, and no row of
-- the reporting currency (offending rows).
select
    currency,
    rate_date,
    count(*) as rows_in_grain

from exchange_rates
group by currency, rate_date
having
    count(*) > 1
    or min(rate) <= 0
    or bool_or(currency = reporting_currency)
