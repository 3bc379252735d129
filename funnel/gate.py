"""The data-quality gate: every check's result logged, and the run stopped if a source blocks.

A source blocks the run by its own error checks (funnel.quality.validate), a stale export
([validation] max_staleness_days: funnel.freshness) or loaded rows that fell too far from its
last published run (funnel.quality.volume).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from funnel import state
from funnel.config import FunnelConfig
from funnel.errors import DataQualityError
from funnel.freshness import Freshness, blocking, judge, kept_rows, with_results
from funnel.quality import volume
from funnel.quality.validate import EntityOutcome
from funnel.read import SourceLoad


def judge_freshness(
    config: FunnelConfig,
    as_of: date,
    outcomes: Sequence[EntityOutcome],
    loads: Sequence[SourceLoad],
) -> list[Freshness]:
    """Each source's newest record against the as-of day ([validation] max_staleness_days)."""
    with state.open_state(config.state_path) as con:
        return judge(con, config.validation, as_of, outcomes, kept_rows(loads))


def gate(
    config: FunnelConfig,
    run_id: str,
    as_of: date,
    outcomes: Sequence[EntityOutcome],
    loads: Sequence[SourceLoad],
    judged: Sequence[Freshness],
) -> None:
    """Log every entity's check results and quarantine; raise DataQualityError if a source
    blocks the run."""
    modes: dict[str, str] = {s.name: s.mode for s in loads}
    changes_only = frozenset(s.name for s in loads if s.cleaned.extract.incremental)
    with state.open_state(config.state_path) as con:
        state.record_quality(con, run_id, with_results(outcomes, judged), modes)
        dropped = volume.row_drops(con, config, run_id, as_of, outcomes, changes_only)
        volume.record(con, run_id, dropped)
    stops = [b for o in outcomes for s in o.sources for b in s.blocking] + blocking(judged)
    stops += [d.message for d in dropped if d.blocking]
    if stops:
        raise DataQualityError("blocking data-quality gate failed:\n  " + "\n  ".join(stops))
