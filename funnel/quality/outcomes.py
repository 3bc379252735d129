"""The check that a preset source never leaves its deals silently open.

Where the CRM writes its own outcome (Pipedrive's Status, Salesforce's IsClosed and IsWon,
HubSpot's "Is Deal Closed?"), a value the preset does not know (a language it has no spelling
for, a renamed column's leftovers) says no outcome: the row's stage label decides instead, and
a won deal may stay in its last open stage. The check `outcome_recognised` fails when

- the CRM always writes the column (Pipedrive's Status) and the file has none the preset knows,
- no row of a source read in full says won or lost (every deal would be open or undecided), or
- more than `[validation] max_unrecognised_outcome_share` of the rows say no outcome,

and names the column and the values it saw. Its severity (`[validation] severity`) is `warn`
by default: the failing rows load and count as warned (an alert goes out above
`[alerts] warn_share`); `error` blocks the run (exit 3); `off` skips it.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from funnel.connectors.outcome import Tally, values_seen

CHECK = "outcome_recognised"
DEFAULT_SEVERITY = "warn"


@dataclass(frozen=True)
class OutcomeResult:
    """The check over one source: its rows, the `_rid` of those that failed, and why."""

    column: str
    severity: str
    rows_checked: int
    failed: pl.Series
    #: Why it failed, naming the column and the values seen; None when it passed.
    details: str | None


def check_outcomes(
    tally: Tally | None, severity: str, max_share: float, whole_source: bool
) -> OutcomeResult | None:
    """The check's result for one source, or None when it has no outcome column (or the check
    is off). `whole_source`: the rows are all of the source's (not an incremental run's changes
    only), so a source without any won or lost row is a finding."""
    if tally is None or severity == "off":
        return None
    none = pl.Series("_rid", [], dtype=pl.Int64)
    if tally.missing:
        looked = ", ".join(repr(s) for s in tally.missing)
        details = (
            f"no column of the file holds the deal's own outcome (looked for {looked}): a won "
            "or lost deal would stay in its last stage. Name the column with `outcome_column`"
        )
        return OutcomeResult("(none)", severity, tally.rows, tally.all_rids, details)
    unrecognised = tally.unrecognised_rids
    if whole_source and tally.rows and tally.won + tally.lost == 0:
        details = (
            f"no row of column {tally.column!r} says won or lost ({tally.open} say open, "
            f"{len(unrecognised)} nothing the preset knows); values seen: "
            f"{values_seen(tally.values)}. Map the values the preset does not know under "
            '[sources.outcomes] (e.g. "Vinto" = "won")'
        )
        return OutcomeResult(tally.column, severity, tally.rows, tally.all_rids, details)
    share = len(unrecognised) / tally.rows if tally.rows else 0.0
    if share > max_share:
        details = (
            f"{len(unrecognised)} of {tally.rows} rows ({share:.1%}) of column "
            f"{tally.column!r} say neither won, lost nor open (above "
            f"validation.max_unrecognised_outcome_share {max_share:.1%}), so their stage label "
            f"decides; values seen: {values_seen(tally.unrecognised_values)}. Map them under "
            "[sources.outcomes]"
        )
        return OutcomeResult(tally.column, severity, tally.rows, unrecognised, details)
    return OutcomeResult(tally.column, severity, tally.rows, none, None)
