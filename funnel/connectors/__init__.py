"""CRM connectors: one module per CRM, and what every connector shares.

A file format with a preset (`salesforce`, `hubspot`, `pipedrive`) reads CSV like `csv` and
brings the CRM's column names, stage labels and probability scale (`ecb`: the European Central
Bank's reference rates, reshaped into one row per day and currency); an API format
(`salesforce_api`, `hubspot_api`, `pipedrive_api`) pulls over HTTP and brings the same preset.

`registry` names every `format` (the config check reads it, so it imports no config, extract or
clean step); `presets` merges a source's preset under its own keys; `api` pulls an API source
into an Extract. This file imports none of them, so importing one imports only what it needs.
"""
