"""A synthetic CRM export with realistic dirt: the engine behind `funnel generate`.

`generate` writes it (funnel.sample.generate); the files and their columns are in `layout`, the
CRM's picklists in `labels`, names, companies, emails and phones in `people`, the records drawn
as arrays in `draws`, their text columns in `frames`, the dirt in `dirt` and the exchange rates
in `rates`.
"""

from funnel.sample.dirt import DIRT_RATES, FILE_DIRT_KINDS, HYGIENE_KINDS, REJECT_KINDS
from funnel.sample.generate import GenerateSummary, generate
from funnel.sample.labels import (
    LEAD_STATUSES,
    OPPORTUNITY_STAGES,
    STAGE_LABELS,
    UNKNOWN_STAGE_LABELS,
)
from funnel.sample.layout import (
    ACTIVITIES_FILE,
    COLUMNS,
    DATE_COLUMNS,
    FILES,
    HISTORY_FILE,
    LEADS_FILE,
    MANIFEST_FILE,
    OPPORTUNITIES_FILE,
    RATES_FILE,
)

__all__ = [
    "ACTIVITIES_FILE",
    "COLUMNS",
    "DATE_COLUMNS",
    "DIRT_RATES",
    "FILES",
    "FILE_DIRT_KINDS",
    "HISTORY_FILE",
    "HYGIENE_KINDS",
    "LEADS_FILE",
    "LEAD_STATUSES",
    "MANIFEST_FILE",
    "OPPORTUNITIES_FILE",
    "OPPORTUNITY_STAGES",
    "RATES_FILE",
    "REJECT_KINDS",
    "STAGE_LABELS",
    "UNKNOWN_STAGE_LABELS",
    "GenerateSummary",
    "generate",
]
