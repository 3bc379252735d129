-- int_forecast_categories: the canonical forecast category of each way a CRM spells one.
-- grain: label_key
-- inputs: none (the spellings are fixed here)
-- decisions: label_key is the label lower-cased with everything but letters removed, so
--   "Best Case", "BestCase" and "BEST_CASE" meet. Salesforce's ForecastCategoryName (Pipeline,
--   Best Case, Commit, Closed, Omitted) and its API values (BestCase, Forecast = Commit),
--   HubSpot's hs_manual_forecast_category (PIPELINE, BEST_CASE, COMMIT, CLOSED, OMIT). A label
--   not listed has no category (the stage's configured one is used).

select * from (
    values
        ('pipeline', 'pipeline'),
        ('bestcase', 'best_case'),
        ('upside', 'best_case'),
        ('commit', 'commit'),
        ('forecast', 'commit'),
        ('closed', 'closed'),
        ('closedwon', 'closed'),
        ('won', 'closed'),
        ('omitted', 'omitted'),
        ('omit', 'omitted'),
        ('closedlost', 'omitted')
) as t (label_key, forecast_category)
