"""The export's files, their columns and formats, and the window of time it covers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy.typing as npt

Arr = npt.NDArray[Any]

LEADS_FILE = "leads.csv"
OPPORTUNITIES_FILE = "opportunities.csv"
HISTORY_FILE = "stage_history.csv"
ACTIVITIES_FILE = "activities.csv"
FILES: tuple[str, ...] = (LEADS_FILE, OPPORTUNITIES_FILE, HISTORY_FILE, ACTIVITIES_FILE)
#: The exchange rates, in the ECB's layout (funnel.connectors.ecb); not one of the CRM FILES.
RATES_FILE = "eurofxref-hist.csv"
MANIFEST_FILE = "_manifest.json"

#: Leads per chunk: bounds memory whatever the number of leads; part of the output's identity.
CHUNK_LEADS = 500_000
#: Days of history before end_date.
WINDOW_DAYS = 730
#: The year of the "dates after the as-of day" dirt.
FUTURE_YEAR = 2099
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_FORMAT = "%Y-%m-%d"
#: What the mixed-date-format dirt writes instead (timestamps keep their time of day).
US_TIMESTAMP_FORMAT = "%m/%d/%Y %H:%M:%S"
US_DATE_FORMAT = "%m/%d/%Y"

# --- The files' headers --------------------------------------------------------------------
LEAD_COLUMNS: tuple[str, ...] = (
    "Lead ID",
    "Created Date",
    "Email",
    "Phone",
    "Company",
    "Lead Source",
    "Lead Owner",
    "Lead Status",
    "Budget",
    "Authority",
    "Need",
    "Timeline",
    "Converted Date",
    "Last Modified Date",
)
OPPORTUNITY_COLUMNS: tuple[str, ...] = (
    "Opportunity ID",
    "Lead ID",
    "Account Name",
    "Opportunity Owner",
    "Stage",
    "Amount",
    "Currency",
    "Created Date",
    "Expected Close Date",
    "Close Date",
    "Probability",
    "Loss Reason",
    "Pipeline",
    "Last Modified Date",
)
HISTORY_COLUMNS: tuple[str, ...] = ("Opportunity ID", "Stage", "Changed At", "Amount")
ACTIVITY_COLUMNS: tuple[str, ...] = (
    "Activity ID",
    "Opportunity ID",
    "Lead ID",
    "Type",
    "Occurred At",
    "Owner",
)
COLUMNS: dict[str, tuple[str, ...]] = {
    LEADS_FILE: LEAD_COLUMNS,
    OPPORTUNITIES_FILE: OPPORTUNITY_COLUMNS,
    HISTORY_FILE: HISTORY_COLUMNS,
    ACTIVITIES_FILE: ACTIVITY_COLUMNS,
}
#: Date-only columns (everything else named in DATE_COLUMNS is a timestamp).
DATE_ONLY_COLUMNS = frozenset({"Timeline", "Expected Close Date"})
DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    LEADS_FILE: ("Created Date", "Timeline", "Converted Date", "Last Modified Date"),
    OPPORTUNITIES_FILE: ("Created Date", "Expected Close Date", "Close Date", "Last Modified Date"),
    HISTORY_FILE: ("Changed At",),
    ACTIVITIES_FILE: ("Occurred At",),
}
#: Columns that may get white space around their value (hygiene dirt).
TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    LEADS_FILE: ("Lead ID", "Email", "Company", "Lead Source", "Lead Owner", "Lead Status"),
    OPPORTUNITIES_FILE: (
        "Opportunity ID",
        "Lead ID",
        "Account Name",
        "Opportunity Owner",
        "Stage",
        "Pipeline",
    ),
    HISTORY_FILE: ("Opportunity ID", "Stage"),
    ACTIVITIES_FILE: ("Activity ID", "Opportunity ID", "Lead ID", "Type", "Owner"),
}
MONEY_COLUMNS: dict[str, str] = {
    LEADS_FILE: "Budget",
    OPPORTUNITIES_FILE: "Amount",
    HISTORY_FILE: "Amount",
}

#: Seconds in a day and an hour: the draws work in epoch seconds.
DAY = 86_400
HOUR = 3_600


@dataclass(frozen=True)
class Clock:
    """Epoch seconds of the first and last second of the window."""

    start: int
    end: int

    @property
    def end_day(self) -> int:
        return self.end // DAY
