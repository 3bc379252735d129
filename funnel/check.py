"""`funnel check`: the config and the first rows of every source, read and cleaned as a run
reads and cleans them, without Prefect, great-expectations or a warehouse.

Each source's rows go through the run's own extract and clean steps (funnel.extract,
funnel.hygiene) and the run's own checks (funnel.quality.checks), evaluated here in polars: a
check's reason is the run's reason, so `funnel check` and a run quarantine a row for the same
words. Checks that compare rows across sources (an id from two sources) or with exchange rates
need every row and are a run's to make.
"""

from __future__ import annotations

import csv
import difflib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from funnel.config import FunnelConfig, SourceConfig
from funnel.connectors.presets import effective_mapping, reshape_of
from funnel.connectors.registry import is_api
from funnel.errors import ConfigError
from funnel.extract import extract_head, read_header, unique_names
from funnel.hygiene import clean_source
from funnel.quality.checks import Check, entity_checks, unique_key, with_helper_columns
from funnel.quality.outcomes import CHECK as OUTCOME_CHECK
from funnel.quality.outcomes import DEFAULT_SEVERITY as OUTCOME_SEVERITY
from funnel.quality.outcomes import check_outcomes
from funnel.quality.ranges import Limits
from funnel.reasons import reason_groups, where
from transforms.mapping import to_canonical
from transforms.numbers import MarkCounts
from transforms.schema import ENTITIES

#: Rows read of each file by default: enough to see every column's format and most labels.
DEFAULT_ROWS = 10_000
#: Bytes read for a header line.
HEAD_BYTES = 1 << 16
#: Kinds of reason listed per source.
TOP_REASONS = 4


@dataclass(frozen=True)
class SourceReport:
    """What `funnel check` found in one source: lines for people, and the exit code a run
    would have for it (0 fine, 2 a config error, 3 a blocking data-quality failure)."""

    name: str
    lines: list[str] = field(default_factory=list)
    exit_code: int = 0


def exit_code_of(reports: list[SourceReport]) -> int:
    """As a run: a config error (2) before any data-quality failure (3)."""
    codes = {r.exit_code for r in reports}
    return 2 if 2 in codes else 3 if 3 in codes else 0


def file_header(source: SourceConfig, files: list[Path]) -> list[str]:
    """The columns of a source's files, as the run stacks them (every file's, in order)."""
    return list(dict.fromkeys(c for f in files for c in unique_names(_header(f, source))))


def _header(path: Path, source: SourceConfig) -> list[str]:
    """The header row: from the file's first bytes when they are plain UTF-8 (a run checks a
    large file's columns without reading all of it to detect its encoding), else as the run
    reads it (funnel.extract.read_header)."""
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
    line = head.split(b"\n", 1)[0]
    plain = source.encoding in (None, "utf-8") and not head.startswith((b"\xff\xfe", b"\xfe\xff"))
    if plain and b"\n" in head:
        try:
            text = line.decode("utf-8").removeprefix("\ufeff").rstrip("\r")
        except UnicodeDecodeError:
            return read_header(path, source)
        return [h.strip() for h in next(csv.reader([text], delimiter=source.delimiter), [])]
    return read_header(path, source)


def absent_columns(config: FunnelConfig, source: SourceConfig, files: list[Path]) -> list[str]:
    """One problem per mapped column the files lack, naming key, file and the closest column.

    Empty for a source whose preset reshapes or prepares its rows first (its columns are
    known only then; the clean step checks them)."""
    header = file_header(source, files)
    mapping = effective_mapping(source, header)
    if reshape_of(source) is not None or mapping.prepare is not None:
        return []
    frame = pl.DataFrame(schema=dict.fromkeys(header, pl.String))
    entity = ENTITIES[source.entity]
    absent = to_canonical(frame, entity, mapping.columns, source.constants).absent_columns
    shown = ", ".join(str(f) for f in files) if len(files) < 4 else f"{files[0]} and others"
    problems = []
    for name in absent:
        fields = [f for f, c in mapping.columns.items() if c == name]
        key = f"sources[{source.name}].columns" + (f".{fields[0]}" if fields else "")
        close = difflib.get_close_matches(name, header, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"its columns: {', '.join(header)}"
        problems.append(f"{config.config_path}: {key}: {name!r} not found in {shown} ({hint})")
    return problems


def preflight(config: FunnelConfig) -> None:
    """Every file source's files exist and have every mapped column, or one ConfigError naming
    them all (a run calls this before Prefect starts: reading headers takes milliseconds)."""
    problems: list[str] = []
    for source in config.sources:
        if not source.path:
            continue
        try:
            problems += absent_columns(config, source, config.source_files(source))
        except ConfigError as e:
            problems.append(str(e))
    if problems:
        raise ConfigError("\n".join(problems))


def _fails(check: Check) -> pl.Expr | None:
    """Where a row fails the check, as great-expectations would decide it (None: a check this
    evaluation does not make: comparisons of two columns, which only warn)."""
    name = check.kwargs.get("column")
    if name is None:
        return None
    col = pl.col(str(name))
    kind = check.expectation
    if kind == "ExpectColumnValuesToBeNull":
        return col.is_not_null()
    if kind == "ExpectColumnValuesToNotBeNull":
        return col.is_null()
    if kind == "ExpectColumnValuesToMatchRegex":
        return col.is_not_null() & ~col.str.contains(str(check.kwargs["regex"]))
    if kind == "ExpectColumnValuesToBeUnique":
        return col.is_not_null() & col.is_duplicated()
    if kind == "ExpectColumnValuesToBeBetween":
        low, high = check.kwargs.get("min_value"), check.kwargs.get("max_value")
        out = pl.lit(False)
        if low is not None:
            out = out | ((col <= low) if check.kwargs.get("strict_min") else (col < low))
        if high is not None:
            out = out | ((col >= high) if check.kwargs.get("strict_max") else (col > high))
        return col.is_not_null() & out
    return None


FAILURE_SCHEMA = pl.Schema(
    {
        "source_file": pl.String,
        "source_line": pl.Int64,
        "_rid": pl.Int64,
        "check": pl.String,
        "severity": pl.String,
        "reasons": pl.String,
    }
)


def failures(rows: pl.DataFrame, checks: list[Check]) -> pl.DataFrame:
    """One row per failing row and check: file, line, `_rid`, check, severity, reason."""
    found = [pl.DataFrame(schema=FAILURE_SCHEMA)]
    for c in checks:
        fails = _fails(c)
        if fails is None:
            continue
        found.append(
            rows.filter(fails)
            .select(
                pl.col("_file").alias("source_file"),
                pl.col("_line").alias("source_line"),
                "_rid",
                pl.lit(c.name).alias("check"),
                pl.lit(c.severity).alias("severity"),
                c.reason.cast(pl.String).alias("reasons"),
            )
            .cast(FAILURE_SCHEMA)
        )
    return pl.concat(found)


def _rows(n: int) -> str:
    return f"{n:,} row" + ("" if n == 1 else "s")


def _has_values(c: MarkCounts) -> bool:
    return c.plain + c.comma + c.point + c.ambiguous + c.unreadable > 0


def _stage_line(rows: pl.DataFrame) -> str:
    labels = rows.filter(pl.col("stage_label").is_not_null())
    mapped = labels.filter(pl.col("stage").is_not_null()).get_column("stage_label").n_unique()
    unmapped = (
        labels.filter(pl.col("stage").is_null())
        .group_by("stage_label")
        .len()
        .sort("len", "stage_label", descending=[True, False])
    )
    if unmapped.is_empty():
        return f"stages: {mapped} labels, all mapped"
    shown = ", ".join(f"{label!r} ({_rows(n)})" for label, n in unmapped.head(8).iter_rows())
    more = f" and {unmapped.height - 8} more" if unmapped.height > 8 else ""
    return (
        f"stages: {mapped} labels mapped; not mapped: {shown}{more} (add them to [sources.stages])"
    )


def check_source(
    config: FunnelConfig, source: SourceConfig, rows: int, as_of: date
) -> SourceReport:
    """Read, clean and check a source's first `rows` rows of each file."""
    head = f"{source.name} ({source.entity}, format {source.format})"
    if is_api(source.format):
        return SourceReport(source.name, [head, "  an API source: a run pulls it; not read here"])
    base = config.config_path.resolve().parent
    try:
        files = config.source_files(source)
        problems = absent_columns(config, source, files)
        if problems:
            return SourceReport(source.name, [head] + [f"  config error: {p}" for p in problems], 2)
        extract = extract_head(config, source, rows)
        cleaned = clean_source(config, source, extract)
    except ConfigError as e:
        return SourceReport(source.name, [head, f"  config error: {e}"], 2)
    entity = ENTITIES[source.entity]
    frame = with_helper_columns(cleaned.rows, entity)
    if entity.unique_key and not entity.id_field:
        frame = frame.with_columns(unique_key(entity))
    limits = Limits(config.validation.max_amount, config.validation.date_horizon_days)
    checks = entity_checks(entity, as_of, config.validation.severity, False, limits)
    failed = failures(frame, checks)
    read = extract.rows_read
    shown = ", ".join(where(f, None, base) for f in extract.files)
    lines = [f"{head}: {shown}", f"  rows: {read:,} read (the first {rows:,} of each file at most)"]
    lines.append(
        f"  columns: {len(effective_mapping(source, extract.header).columns)} mapped, all found"
    )
    blocking: list[str] = []
    if cleaned.missing_required:
        blocking.append(f"required column(s) missing: {', '.join(cleaned.missing_required)}")
    if entity.has_stage:
        lines.append("  " + _stage_line(frame))
    severity = config.validation.severity.get(OUTCOME_CHECK, OUTCOME_SEVERITY)
    share = config.validation.max_unrecognised_outcome_share
    outcome = check_outcomes(cleaned.outcome, severity, share, whole_source=True)
    if outcome is not None and outcome.details:  # a preset's own won/lost/open column
        lines.append(f"  outcome: {outcome.details}")
        if outcome.severity == "error":
            blocking.append(f"{OUTCOME_CHECK}: {outcome.details}")
    formats = (
        ", ".join([*source.date_formats, "then ISO 8601"])
        if source.date_formats
        else "ISO 8601 (no date_format)"
    )
    bad_values = failed.filter(pl.col("check") == "values_parse")
    lines.append(f"  dates: read as {formats}")
    numbers = [f.describe() for f in cleaned.number_formats.values() if _has_values(f.counts)]
    if numbers:
        lines.append(f"  numbers: {'; '.join(numbers)}")
    if not bad_values.is_empty():
        for g in reason_groups(bad_values.with_columns(source=pl.lit(source.name)))[:TOP_REASONS]:
            lines.append("  " + g.describe(base).strip().replace(f"{source.name}: ", "", 1))
    ids = [
        c for c in checks if c.name.endswith("_present") and c.column in (entity.id_field, "_ref")
    ]
    for c in ids:
        n = failed.filter(pl.col("check") == c.name).height
        what = " or ".join(entity.one_of) if c.column == "_ref" else str(c.column)
        lines.append(f"  ids: {what} " + ("in every row" if n == 0 else f"blank in {_rows(n)}"))
    errors = failed.filter(pl.col("severity") == "error")
    bad_rows = errors.get_column("_rid").n_unique() + extract.rejects.height
    share = bad_rows / read if read else 0.0
    limit = config.validation.max_error_share
    verdict = f"  errors: {bad_rows:,} of {read:,} rows ({share:.1%}) would be quarantined"
    lines.append(verdict + f" (max_error_share {limit:.1%})")
    others = errors.filter(pl.col("check") != "values_parse")
    if share > limit:
        blocking.append(f"{share:.1%} of rows fail error checks, above max_error_share {limit:.1%}")
    if blocking and not others.is_empty():
        for g in reason_groups(others.with_columns(source=pl.lit(source.name)))[:TOP_REASONS]:
            lines.append("  " + g.describe(base).strip().replace(f"{source.name}: ", "", 1))
    for b in blocking:
        lines.append(f"  BLOCKING: {b}: a run would stop (exit 3)")
    return SourceReport(source.name, lines, 3 if blocking else 0)


def verdict(reports: list[SourceReport]) -> str:
    """The last line: what a run would do."""
    code = exit_code_of(reports)
    n = len(reports)
    if code == 2:
        bad = [r.name for r in reports if r.exit_code == 2]
        return f"config error in {', '.join(bad)}: a run would not start (exit 2)"
    if code == 3:
        bad = [r.name for r in reports if r.exit_code == 3]
        return f"blocking data-quality failure in {', '.join(bad)}: a run would stop (exit 3)"
    return f"{n} source{'s' if n != 1 else ''} checked: a run would go ahead (exit 0)"


def check(
    config: FunnelConfig, rows: int = DEFAULT_ROWS, as_of: date | None = None
) -> list[SourceReport]:
    """Every source of the config checked (see check_source)."""
    day = as_of or config.today()
    return [check_source(config, s, rows, day) for s in config.sources]
