"""A deal's outcome as the CRM itself records it: won, lost or open, whatever its stage says.

Pipedrive keeps a won or lost deal in the pipeline stage it was in and writes the outcome in its
Status column (in the user's language); Salesforce writes the IsClosed and IsWon flags of the
deal's stage; HubSpot writes "Is Deal Closed?" and "Is Closed Won", or a probability of 1 for a
won deal and 0 for a lost one. The presets say where each CRM writes it (`Preset.outcome`);
`resolve` finds those columns in a file's header and `outcomes` reads them row by row.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import polars as pl

Outcome = Literal["won", "lost", "open"]
#: Flag values, as exports write booleans (true/false, 1/0, yes/no), compared case-folded.
TRUE_VALUES = ("true", "1", "yes", "y", "t")
FALSE_VALUES = ("false", "0", "no", "n", "f")
#: The column the outcome of each row travels in, from the text rows to the cleaned ones.
OUTCOME_COLUMN = "_outcome"
#: How many distinct values a finding names.
VALUES_SHOWN = 8


@dataclass(frozen=True)
class StatusColumn:
    """One column whose values name the outcome (Pipedrive's Status): every spelling the CRM
    uses for the column and for each outcome, compared case-folded."""

    columns: tuple[str, ...]
    won: tuple[str, ...]
    lost: tuple[str, ...]
    open: tuple[str, ...]


@dataclass(frozen=True)
class ClosedFlags:
    """Boolean flags: the deal is closed, and the closed deal is won (Salesforce IsClosed and
    IsWon); where the won flag is absent, a closed deal's probability tells (HubSpot: 1 won,
    0 lost). Without the closed flag the outcome is not read (a won flag alone cannot tell a
    lost deal from an open one)."""

    closed: tuple[str, ...]
    won: tuple[str, ...]
    won_probability: tuple[str, ...] = ()


OutcomeSpec = StatusColumn | ClosedFlags
#: Finds a column by its spellings in a header (see funnel.connectors.columns.find_column).
Finder = Callable[[tuple[str, ...]], str | None]


@dataclass(frozen=True)
class OutcomeColumns:
    """An outcome spec found in a file: the columns it reads, as the file names them."""

    spec: OutcomeSpec
    #: StatusColumn: (status,); ClosedFlags: (closed, won or probability).
    columns: tuple[str, ...]
    #: The source's own `[sources.outcomes]`: value as the file spells it -> outcome.
    extra: Mapping[str, Outcome] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The column(s) as a finding names them."""
        return " + ".join(self.columns)

    def outcomes(self, frame: pl.DataFrame) -> pl.Series:
        """Each row's outcome: won, lost, open, or null where the values say none of them."""
        if isinstance(self.spec, StatusColumn):
            return self._status(frame, self.spec)
        return self._flags(frame, self.spec)

    def values(self, frame: pl.DataFrame) -> pl.Series:
        """Each row's value(s) in the outcome column(s), as a finding shows them."""
        cols = [pl.col(c).cast(pl.String).fill_null("") for c in self.columns]
        return frame.select(pl.concat_str(cols, separator=" / ").alias("value")).to_series()

    def _status(self, frame: pl.DataFrame, spec: StatusColumn) -> pl.Series:
        lookup: dict[str, str] = {}
        for outcome, spellings in (("won", spec.won), ("lost", spec.lost), ("open", spec.open)):
            lookup.update({s.strip().casefold(): outcome for s in spellings})
        lookup.update({k.strip().casefold(): v for k, v in self.extra.items()})
        value = pl.col(self.columns[0]).str.strip_chars().str.to_lowercase()
        return frame.select(
            value.replace_strict(lookup, default=None, return_dtype=pl.String).alias(OUTCOME_COLUMN)
        ).to_series()

    def _flags(self, frame: pl.DataFrame, spec: ClosedFlags) -> pl.Series:
        closed = _flag(self.columns[0])
        second = self.columns[1]
        won: pl.Expr
        if _is_probability(second, spec):
            number = pl.col(second).str.strip_chars().cast(pl.Float64, strict=False)
            won = pl.when(number.is_in([1.0, 100.0])).then(True).when(number == 0).then(False)
        else:
            won = _flag(second)
        return frame.select(
            pl.when(closed.not_())
            .then(pl.lit("open"))
            .when(closed & won)
            .then(pl.lit("won"))
            .when(closed & won.not_())
            .then(pl.lit("lost"))
            .otherwise(None)
            .cast(pl.String)
            .alias(OUTCOME_COLUMN)
        ).to_series()


def _is_probability(column: str, spec: ClosedFlags) -> bool:
    folded = column.strip().casefold()
    return any(folded == p.strip().casefold() for p in spec.won_probability)


def _flag(column: str) -> pl.Expr:
    """A flag column as booleans (null when the value is neither a true nor a false word)."""
    value = pl.col(column).str.strip_chars().str.to_lowercase()
    return pl.when(value.is_in(TRUE_VALUES)).then(True).when(value.is_in(FALSE_VALUES)).then(False)


def resolve(
    spec: OutcomeSpec | None,
    find: Finder,
    extra: Mapping[str, Outcome] | None = None,
    status_column: str | None = None,
) -> OutcomeColumns | None:
    """The outcome columns of a file (`find` looks spellings up in its header), or None when
    the file does not have them. `status_column`: the source's own name for a status column
    (a spelling the preset does not know)."""
    if spec is None:
        return None
    extra = dict(extra or {})
    if isinstance(spec, StatusColumn):
        status = find((status_column,) if status_column else spec.columns)
        return OutcomeColumns(spec, (status,), extra) if status else None
    closed = find(spec.closed)
    won = find(spec.won) or find(spec.won_probability)
    return OutcomeColumns(spec, (closed, won), extra) if closed and won else None


def spellings(spec: OutcomeSpec) -> tuple[str, ...]:
    """The column spellings a spec looks for (as a finding lists them)."""
    if isinstance(spec, StatusColumn):
        return spec.columns
    return (*spec.closed, *spec.won, *spec.won_probability)


def apply(frame: pl.DataFrame) -> pl.DataFrame:
    """A won or lost outcome is the row's stage, whatever the stage label maps to; an open one
    (or none) leaves the stage label's mapping. `stage_label` keeps the file's stage."""
    if OUTCOME_COLUMN not in frame.columns:
        return frame
    closed = pl.col(OUTCOME_COLUMN).is_in(["won", "lost"])
    return frame.with_columns(
        pl.when(closed).then(pl.col(OUTCOME_COLUMN)).otherwise(pl.col("stage")).alias("stage")
    )


@dataclass
class Tally:
    """What a source's outcome column said, over all its rows (see funnel.quality.outcomes)."""

    column: str
    #: The spellings looked for when the file has none of them (and the preset needs one).
    missing: tuple[str, ...] = ()
    rows: int = 0
    won: int = 0
    lost: int = 0
    open: int = 0
    #: `_rid` of every row counted, and of those whose value says no outcome (their stage
    #: label decides).
    rids: list[pl.Series] = field(default_factory=list)
    unrecognised: list[pl.Series] = field(default_factory=list)
    #: value -> rows, over all rows, and over the rows whose value says no outcome.
    values: dict[str, int] = field(default_factory=dict)
    unrecognised_values: dict[str, int] = field(default_factory=dict)

    def add(self, rids: pl.Series, outcomes: pl.Series, values: pl.Series) -> None:
        """Count one slice of rows."""
        self.rows += len(outcomes)
        counts = {k: int(n) for k, n in outcomes.value_counts().iter_rows()}
        self.won += counts.get("won", 0)
        self.lost += counts.get("lost", 0)
        self.open += counts.get("open", 0)
        none = outcomes.is_null()
        self.rids.append(rids)
        self.unrecognised.append(rids.filter(none))
        _count(self.values, values)
        _count(self.unrecognised_values, values.filter(none))

    @property
    def all_rids(self) -> pl.Series:
        return _stacked(self.rids)

    @property
    def unrecognised_rids(self) -> pl.Series:
        return _stacked(self.unrecognised)


def _count(into: dict[str, int], values: pl.Series) -> None:
    for value, n in values.value_counts().iter_rows():
        into[value] = into.get(value, 0) + int(n)


def _stacked(parts: list[pl.Series]) -> pl.Series:
    if not parts:
        return pl.Series("_rid", [], dtype=pl.Int64)
    return pl.concat(parts).cast(pl.Int64).alias("_rid")


def values_seen(values: Mapping[str, int]) -> str:
    """The most frequent values with their rows: "'Vinto' x 12, 'Aperto' x 30"."""
    top = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{v!r} x {n}" for v, n in top[:VALUES_SHOWN])
    more = len(top) - VALUES_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")
