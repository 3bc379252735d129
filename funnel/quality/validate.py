"""Validate all sources of one entity together; split rows into loaded and quarantined."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import partial

import polars as pl

from funnel import rowfiles
from funnel.config import ValidationConfig
from funnel.extract import original_rows
from funnel.hygiene import CleanSource
from funnel.quality.checks import (
    BIRTH_FIELDS,
    EVENT_FIELDS,
    Check,
    entity_checks,
    unique_fields,
    unique_key,
    with_helper_columns,
)
from funnel.quality.outcomes import CHECK as OUTCOME_CHECK
from funnel.quality.outcomes import DEFAULT_SEVERITY as OUTCOME_SEVERITY
from funnel.quality.outcomes import OutcomeResult, check_outcomes
from funnel.quality.ranges import Limits
from funnel.quality.rates import Rates, with_check_columns
from funnel.quality.rates import checks as conversion_checks
from funnel.quality.runner import run_suite
from transforms.schema import ENTITIES

#: Rows checked at a time (see `_reasons`).
VALIDATE_ROWS = 1_000_000
QUARANTINE_SCHEMA = pl.Schema(
    {
        "source": pl.String(),
        "entity": pl.String(),
        "source_file": pl.String(),
        "source_line": pl.Int64(),
        "reasons": pl.String(),
        "checks": pl.List(pl.String()),
        "original_row": pl.String(),
    }
)
RESULT_SCHEMA = pl.Schema(
    {
        "source": pl.String,
        "entity": pl.String,
        "check": pl.String,
        "column_name": pl.String,
        "severity": pl.String,
        "rows_checked": pl.Int64,
        "rows_failed": pl.Int64,
        "passed": pl.Boolean,
        # a check's findings in words: why a source-level finding failed, naming column and
        # values; how number columns were read (number_format), passed or not
        "details": pl.String,
    }
)


@dataclass(frozen=True)
class SourceOutcome:
    """What became of one source's rows."""

    source: str
    entity: str
    #: The source's rows after hygiene (its CleanSource's, parked on disk until load reads
    #: them); `loaded` is them less `rejected`.
    clean_rows: rowfiles.KeptRows
    #: `_rid` of the rows quarantined by a check.
    rejected: pl.Series
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    rows_warned: int
    #: Why this source blocks the run (empty: it does not).
    blocking: tuple[str, ...]
    #: A past day: later dates of loaded rows are blanked as of it (see _as_it_was).
    past_day: date | None = None
    #: `_rid` of the rows that failed a warn check.
    warned: pl.Series = field(default_factory=lambda: pl.Series("_rid", [], dtype=pl.Int64))
    #: File sources: the encoding their files were read in (funnel.encodings).
    encoding: str | None = None

    def loaded(self, rows_per_batch: int = 500_000) -> Iterator[pl.DataFrame]:
        """The rows that load, built when asked and a slice of the source's rows at a time
        (read back from disk one by one), at least one batch even when empty: the load holds
        one slice in memory, not a copy of the source's rows."""
        rejected = self.rejected.implode()
        for part in self.clean_rows.slices(rows_per_batch):
            kept = part.filter(~pl.col("_rid").is_in(rejected)).collect()
            yield kept if self.past_day is None else _as_it_was(kept, self.entity, self.past_day)


@dataclass(frozen=True)
class EntityOutcome:
    sources: tuple[SourceOutcome, ...]
    quarantine: pl.DataFrame
    results: pl.DataFrame


def _failure_reasons(
    suite_failures: pl.DataFrame, rows: pl.DataFrame, checks: list[Check]
) -> pl.DataFrame:
    """(_part, _rid, check, severity, reason) for every failing row and check."""
    # The reasons read only the failing rows: pick them once, not a join of all rows per check.
    failing = rows.filter(pl.col("_gid").is_in(suite_failures.get_column("_gid").implode()))
    per_check = [
        suite_failures.filter(pl.col("check") == c.name)
        .join(failing, on="_gid")
        .select("_part", "_rid", "check", "severity", c.reason.cast(pl.String).alias("reason"))
        for c in checks
    ]
    return pl.concat(per_check)


def _check(entity_name: str, rows: pl.DataFrame, checks: list[Check]) -> pl.DataFrame:
    """The failure reasons of `rows` (`_part`, `_rid` and the checked columns) for `checks`."""
    gids = rows.with_row_index("_gid").with_columns(pl.col("_gid").cast(pl.Int64))
    return _failure_reasons(run_suite(entity_name, gids, checks).failures, gids, checks)


def _reasons(
    entity_name: str,
    parts: list[CleanSource],
    checks: list[Check],
    helpers: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
) -> pl.DataFrame:
    """Every failure reason of every row of the entity's sources.

    The checks of one row at a time run over a slice of a source's rows at a time, read back
    from disk slice by slice: great-expectations works on a pandas copy of what it checks,
    several times the rows' own size. Uniqueness spans every row of the entity: it is
    checked over the rows whose id comes more than once, which are exactly the rows it fails.
    """
    entity = ENTITIES[entity_name]
    unique = [c for c in checks if c.expectation == "ExpectColumnValuesToBeUnique"]
    per_row = [c for c in checks if c not in unique]
    found = []
    for i, p in enumerate(parts):
        for piece in p.clean_rows.slices(VALIDATE_ROWS):
            rows = with_helper_columns(piece.collect(), entity)
            if helpers is not None:  # columns of checks across entities (rates.with_check_columns)
                rows = helpers(rows)
            found.append(_check(entity_name, rows.with_columns(_part=pl.lit(i, pl.Int32)), per_row))
            del rows
    if unique:
        col = str(unique[0].kwargs["column"])
        fields = [f for f in unique_fields(entity) if f != col]
        ids = pl.concat(
            [
                p.clean_rows.scan()
                .select(
                    pl.lit(i, pl.Int32).alias("_part"),
                    "_rid",
                    *fields,
                    unique_key(entity).alias(col),
                )
                .collect()
                for i, p in enumerate(parts)
            ]
        )
        repeated = ids.filter(pl.col(col).is_not_null() & pl.col(col).is_duplicated())
        found.append(_check(entity_name, repeated, unique))
    rank = {c.name: i for i, c in enumerate(checks)}  # a row's reasons read in check order
    return pl.concat(found).sort(pl.col("check").replace_strict(rank), maintain_order=True)


def _quarantine(p: CleanSource, errors: pl.DataFrame, id_field: str | None) -> pl.DataFrame:
    """Rows of one source set aside: CSV rejects, superseded duplicates, failed error checks."""
    failed = errors.select("_rid", "reasons", "checks")
    superseded = p.superseded.select(
        "_rid",
        pl.format(
            "duplicate {}: superseded by the row on line {}",
            pl.lit(id_field or "row"),
            pl.col("winner_line"),
        ).alias("reasons"),
        pl.lit(["duplicate_superseded"]).alias("checks"),
    )
    rejected = pl.concat([superseded, failed], how="vertical_relaxed")
    from_rows = rejected.join(original_rows(p.extract, rejected.get_column("_rid")), on="_rid")
    from_reader = p.extract.rejects.select(
        "_file",
        "_line",
        pl.col("reason").alias("reasons"),
        pl.concat_list("check").alias("checks"),
        "original_row",
    )
    return (
        pl.concat([from_reader, from_rows.drop("_rid")], how="diagonal_relaxed")
        .select(
            pl.lit(p.source.name).alias("source"),
            pl.lit(p.source.entity).alias("entity"),
            pl.col("_file").alias("source_file"),
            pl.col("_line").alias("source_line"),
            "reasons",
            "checks",
            "original_row",
        )
        .cast(QUARANTINE_SCHEMA)
        .sort("source_file", "source_line")
    )


def _results(
    p: CleanSource,
    checks: list[Check],
    failed: dict[str, int],
    checked: int,
    outcome: OutcomeResult | None = None,
) -> pl.DataFrame:
    """One dq_results row per check of this source, the hygiene checks first."""
    rows: list[tuple[str, str | None, str, int, int, str | None]] = [
        ("csv_structure", None, "error", p.extract.rows_read, p.extract.rejects.height, None),
        ("duplicate_superseded", None, "error", p.extract.rows.height, p.superseded.height, None),
        ("required_columns", None, "error", checked, checked if p.missing_required else 0, None),
    ]
    if outcome is not None:
        o = outcome
        rows.append(
            (OUTCOME_CHECK, o.column, o.severity, o.rows_checked, o.failed.len(), o.details)
        )
    formats = _number_formats_detail(p)
    rows += [
        (
            c.name, c.column, c.severity, checked, failed.get(c.name, 0),
            formats if c.name == "number_format" else None,
        )
        for c in checks
    ]  # fmt: skip
    return pl.DataFrame(
        [
            (p.source.name, p.source.entity, name, col, sev, n, bad, bad == 0, details)
            for name, col, sev, n, bad, details in rows
        ],
        schema=RESULT_SCHEMA,
        orient="row",
    )


def _number_formats_detail(p: CleanSource) -> str | None:
    """The decimal mark of each number column of the source, in words (dq_results.details)."""
    return "; ".join(f.describe() for f in p.number_formats.values()) or None


def _outcome(p: CleanSource, config: ValidationConfig) -> OutcomeResult | None:
    """The outcome check of a source (see funnel.quality.outcomes)."""
    severity = config.severity.get(OUTCOME_CHECK, OUTCOME_SEVERITY)
    whole = not p.extract.incremental and p.extract.carried == 0
    return check_outcomes(p.outcome, severity, config.max_unrecognised_outcome_share, whole)


def _blocking(
    p: CleanSource, error_rows: int, max_share: float, outcome: OutcomeResult | None = None
) -> tuple[str, ...]:
    """Why this source stops the run: a required column missing, too many error rows, or an
    outcome check set to error that failed."""
    out = []
    name = p.source.name
    if p.missing_required:
        out.append(f"{name}: required column(s) missing: {', '.join(p.missing_required)}")
    if outcome is not None and outcome.severity == "error" and outcome.details:
        out.append(f"{name}: {OUTCOME_CHECK}: {outcome.details}")
    total = p.extract.rows_read
    share = error_rows / total if total else 0.0
    if share > max_share:
        out.append(
            f"{name}: {error_rows} of {total} rows ({share:.1%}) failed error checks, "
            f"above max_error_share {max_share:.1%}"
        )
    return tuple(out)


def _as_it_was(rows: pl.DataFrame, entity_name: str, as_of: date) -> pl.DataFrame:
    """On a past day, a close, conversion or update after the day had not happened yet: blank.

    The export shows today's state; blanking the later dates keeps every model's promise that
    no date is after the as-of day (the row's current stage stays as exported).
    """
    end = datetime.combine(as_of, time.max)
    later = [f for f in EVENT_FIELDS if f in rows.columns and f != BIRTH_FIELDS.get(entity_name)]
    return rows.with_columns(
        pl.when(pl.col(f) > end).then(None).otherwise(pl.col(f)).alias(f) for f in later
    )


def validate_entity(
    entity_name: str,
    parts: list[CleanSource],
    as_of: date,
    config: ValidationConfig,
    past_day: bool = False,
    rates: Rates | None = None,
) -> EntityOutcome:
    """Run the entity's great-expectations suite over all its sources at once.

    Rows failing an `error` check are quarantined with every reason; `warn` rows are loaded
    and counted. Superseded duplicates and CSV rows the reader rejected are quarantined too, so
    for every source rows read = rows loaded + rows quarantined. On a past day, rows born after
    the as-of day are quarantined as `deferred`: out of scope for that day, never blocking; later
    dates of older rows are blanked (see _as_it_was). With `rates` (opportunities, when
    [currency] reporting is set), an amount that cannot be converted is quarantined too
    (funnel.quality.rates).
    """
    entity = ENTITIES[entity_name]
    limits = Limits(config.max_amount, config.date_horizon_days)
    checks = entity_checks(entity, as_of, config.severity, past_day, limits)
    helpers = None
    if rates is not None:
        checks += conversion_checks(rates)
        helpers = partial(with_check_columns, rates=rates, as_of=as_of)
    reasons = _reasons(entity_name, parts, checks, helpers)
    # an entity without a birth field (owners, targets) has no row that is not born yet
    born = BIRTH_FIELDS.get(entity_name)
    not_born_yet = (pl.col("severity") == "deferred") & (
        pl.col("check") == f"{born}_not_after_as_of"
    )
    errors = (
        reasons.filter((pl.col("severity") == "error") | not_born_yet)
        .group_by("_part", "_rid")
        .agg(
            pl.col("reason").str.join("; ").alias("reasons"),
            pl.col("check").alias("checks"),
            not_born_yet.any().alias("deferred"),
        )
    )

    outcomes, quarantines, results = [], [], []
    for i, p in enumerate(parts):
        errs = errors.filter(pl.col("_part") == i)
        mine_reasons = reasons.filter(pl.col("_part") == i)
        quarantine = _quarantine(p, errs, entity.id_field or " and ".join(entity.unique_key))
        rejected = errs.get_column("_rid")
        # an incremental run: the carried rows of the export stay loaded as they were
        rows_loaded = p.clean_rows.height - rejected.len() + p.extract.carried
        warned = mine_reasons.filter(pl.col("severity") == "warn").get_column("_rid")
        outcome = _outcome(p, config)
        if outcome is not None and outcome.severity == "warn":
            # the outcome finding's rows load and count as warned, as a warn check's do
            gone = pl.concat([rejected, p.superseded.get_column("_rid")]).implode()
            loaded = outcome.failed.filter(~outcome.failed.is_in(gone))
            warned = pl.concat([warned, loaded.alias("_rid")])
        warned = warned.unique()
        if p.extract.rows_read != rows_loaded + quarantine.height:
            raise AssertionError(
                f"{p.source.name}: rows read {p.extract.rows_read} != loaded {rows_loaded}"
                f" + quarantined {quarantine.height}"
            )
        failed = dict(mine_reasons.group_by("check").len().iter_rows())
        quarantines.append(quarantine)
        results.append(_results(p, checks, failed, p.clean_rows.height, outcome))
        outcomes.append(
            SourceOutcome(
                source=p.source.name,
                entity=entity_name,
                clean_rows=p.clean_rows,
                rejected=rejected,
                rows_read=p.extract.rows_read,
                rows_loaded=rows_loaded,
                rows_quarantined=quarantine.height,
                rows_warned=warned.len() + p.extract.carried_warned,
                blocking=_blocking(
                    p,
                    errs.filter(~pl.col("deferred")).height + p.extract.rejects.height,
                    config.max_error_share,
                    outcome,
                ),
                past_day=as_of if past_day else None,
                warned=warned,
                encoding=p.extract.encoding,
            )
        )
    return EntityOutcome(tuple(outcomes), pl.concat(quarantines), pl.concat(results))
