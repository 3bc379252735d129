"""The one place that builds the typed config object from the TOML file and the environment."""

from __future__ import annotations

import difflib
import glob
import os
import re
import stat
import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from funnel import redact
from funnel.connectors.http import MAX_PAGES
from funnel.connectors.registry import check_source, is_api
from funnel.errors import ConfigError
from transforms.schema import ENTITIES, STAGES

Severity = Literal["error", "warn", "off"]

#: Encodings a source may name, by the names users write (see funnel.encodings).
ENCODINGS: dict[str, str] = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8",
    "utf-16": "utf-16",
    "utf16": "utf-16",
    "latin-1": "latin-1",
    "latin1": "latin-1",
    "iso-8859-1": "latin-1",
    "windows-1252": "windows-1252",
    "cp1252": "windows-1252",
}

DEFAULT_STAGE_PROBABILITY: dict[str, float] = {
    "prospecting": 0.05,
    "qualification": 0.10,
    "meeting": 0.20,
    "proposal": 0.40,
    "negotiation": 0.60,
    "won": 1.0,
    "lost": 0.0,
    "post_sale": 1.0,
}


def known_zone(v: str) -> str:
    """An IANA time zone name, checked."""
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError(f"unknown time zone {v!r}") from e
    return v


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: A DuckDB memory size as `[warehouse] memory_limit` takes it: a number, then KB, MB, GB or TB
#: (powers of 1000) or KiB, MiB, GiB or TiB (powers of 1024).
MEMORY_SIZE = r"(\d+(?:\.\d+)?)\s*([KMGT])(i?)B"


class WarehouseConfig(_Strict):
    path: Path = Path("data/warehouse/funnel.duckdb")
    timezone: str = "UTC"
    #: The private state file (raw tables, run log). Default: beside the warehouse.
    state_path: Path | None = None
    #: DuckDB's memory limit while the models build (it spills to disk beyond it), and the
    #: least the load's snapshot comparison gets (funnel.state.limit_memory_growth).
    memory_limit: str = Field(default="1GB", pattern=rf"^{MEMORY_SIZE}$")
    #: The DuckDB storage format of the published file: "v1.2.0" opens in DuckDB 1.2 and later
    #: (the DuckDB shell installed with funnel, DBeaver, R, older Python); "latest" is
    #: DuckDB 2.0's own format, which 1.x cannot open.
    storage_version: str = Field(default="v1.2.0", pattern=r"^(v\d+\.\d+\.\d+|latest)$")

    @property
    def memory_limit_bytes(self) -> int:
        """`memory_limit` in bytes, as DuckDB reads it (KB = 1000 bytes, KiB = 1024)."""
        match = re.fullmatch(MEMORY_SIZE, self.memory_limit)
        if match is None:  # the field's pattern admits nothing else
            raise ValueError(f"not a memory size: {self.memory_limit!r}")
        number, unit, binary = match.groups()
        base = 1024 if binary else 1000
        return int(float(number) * base ** ("KMGT".index(unit) + 1))

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        return known_zone(v)

    @field_validator("storage_version")
    @classmethod
    def _known_storage_version(cls, v: str) -> str:
        try:
            duckdb.connect(config={"storage_compatibility_version": v}).close()
        except duckdb.Error as e:
            raise ValueError(f"{v!r} is not a storage version this DuckDB can write") from e
        return v


#: What a source name may be: it names temporary files and appears in SQL and messages.
SOURCE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
#: The largest amount DECIMAL(18,2) holds; `[validation] max_amount` stays below it.
DECIMAL_18_2_MAX = 9_999_999_999_999_999.99


class SourceConfig(_Strict):
    name: str = Field(min_length=1)
    #: One of transforms.schema.ENTITIES.
    entity: str
    format: str = "csv"
    path: str | None = None
    delimiter: str = ","
    #: None: detected per file (funnel.encodings.detect); a name: every file is read in it.
    encoding: str | None = None
    #: true: numbers use a decimal comma (1.234,56); false: a decimal point (1,234.56); unset:
    #: each number column's mark is told by its values (transforms.numbers).
    decimal_comma: bool | None = None
    date_format: str | list[str] | None = None
    #: 100 when the file's probability is 0-100, 1 when 0-1, "auto" to tell by the values.
    probability_scale: Literal["auto", 1, 100] = "auto"
    columns: dict[str, str] = Field(default_factory=dict)
    constants: dict[str, str | int | float | bool] = Field(default_factory=dict)
    stages: dict[str, str] = Field(default_factory=dict)
    #: Presets: values of the CRM's own outcome column the preset does not know (a language it
    #: has no spelling for), as the file spells them -> won, lost or open.
    outcomes: dict[str, Literal["won", "lost", "open"]] = Field(default_factory=dict)
    #: Presets with a status column (Pipedrive): its name in this file, where the preset does
    #: not know the spelling (a language it has none for).
    outcome_column: str | None = None
    # API sources
    token_env: str | None = None
    base_url: str | None = None
    #: Seconds each API call may take; then it is retried like a 5xx.
    timeout: float = Field(default=30.0, gt=0)
    #: Retries of one API call on 429, 5xx and timeouts (with backoff, honouring Retry-After).
    retries: int = Field(default=5, ge=0, le=20)
    #: Seconds before the first retry without Retry-After; doubles each time, at most 30 s.
    backoff: float = Field(default=1.0, ge=0)
    #: API sources: after the first pull, ask only for records changed since the last one.
    incremental: bool = True
    #: File sources: after the source's first load, tonight's files hold only the records that
    #: are new or changed (every row of each); they replace those records' rows, the rest stay.
    changes_only: bool = False
    #: API sources: pages one paged listing may take before the pull stops with an error.
    max_pages: int = Field(default=MAX_PAGES, ge=1)
    #: This source's own `[validation] max_row_drop` (1 lets it drop to no rows).
    max_row_drop: float | None = Field(default=None, ge=0, le=1)

    @field_validator("name")
    @classmethod
    def _safe_name(cls, v: str) -> str:
        if not re.fullmatch(SOURCE_NAME, v):
            raise ValueError(
                f"source name {v!r} may hold only letters, digits, '_', '-' and '.' (at most 64,"
                " starting with a letter or digit)"
            )
        return v

    @field_validator("entity")
    @classmethod
    def _known_entity(cls, v: str) -> str:
        if v not in ENTITIES:
            raise ValueError(f"unknown entity {v!r}; one of {', '.join(ENTITIES)}")
        return v

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str | None) -> str | None:
        if v is None:
            return None
        if v.lower() not in ENCODINGS:
            raise ValueError(
                f"encoding {v!r} is not supported; use one of utf-8, utf-16, windows-1252, "
                "latin-1, or leave it out to detect each file's"
            )
        return ENCODINGS[v.lower()]

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, v: str) -> str:
        if len(v) != 1:
            raise ValueError(f"delimiter must be one character, got {v!r}")
        return v

    @field_validator("stages")
    @classmethod
    def _canonical_targets(cls, v: dict[str, str]) -> dict[str, str]:
        for label, stage in v.items():
            if stage not in STAGES:
                raise ValueError(
                    f"label {label!r} maps to {stage!r}, which is not a canonical stage "
                    f"({', '.join(STAGES)})"
                )
        return v

    @model_validator(mode="after")
    def _fields_of_entity(self) -> SourceConfig:
        fields = ENTITIES[self.entity].fields
        for section in ("columns", "constants"):
            for key in getattr(self, section):
                if key not in fields:
                    raise ValueError(
                        f"{section}.{key}: not a field of {self.entity} "
                        f"(fields: {', '.join(fields)})"
                    )
        problem = check_source(self.format, self.entity)
        if problem:
            raise ValueError(problem)
        if is_api(self.format):
            if not self.token_env:
                raise ValueError(
                    f"token_env is required for format = {self.format!r} (the name of the "
                    "environment variable that holds the API token)"
                )
            if self.path:
                raise ValueError(f"path is not used by format = {self.format!r} (an API source)")
            if self.changes_only:
                raise ValueError(
                    f"changes_only is for file sources; an API source (format = {self.format!r})"
                    " asks for changes only with `incremental`"
                )
        elif not self.path:
            raise ValueError(f"path is required for format = {self.format!r}")
        if self.changes_only and ENTITIES[self.entity].reference:
            raise ValueError(
                f"changes_only: {self.entity} is read whole every run (other entities are"
                " checked against all of it); give the whole file"
            )
        return self

    @property
    def date_formats(self) -> list[str]:
        if self.date_format is None:
            return []
        return [self.date_format] if isinstance(self.date_format, str) else list(self.date_format)


class ValidationConfig(_Strict):
    #: A source whose share of error rows is above this blocks the run (exit 3).
    max_error_share: float = Field(default=0.05, ge=0, le=1)
    #: A source whose loaded rows fall by more than this share from its last published run
    #: blocks the run (exit 3); `[[sources]] max_row_drop` overrides it per source.
    max_row_drop: float = Field(default=0.5, ge=0, le=1)
    #: The largest plausible amount (absolute); larger ones are quarantined.
    max_amount: float = Field(default=1e12, gt=0, le=DECIMAL_18_2_MAX)
    #: Days after the as-of day a future date (expected close, timeline) may lie.
    date_horizon_days: int = Field(default=3650, ge=0, le=36_500)
    #: Override a check's severity by its name (see funnel.quality.checks).
    severity: dict[str, Severity] = Field(default_factory=dict)
    #: A source whose newest record is more days than this before the as-of day is stale
    #: (the check `freshness`, warn by default; see funnel.freshness).
    max_staleness_days: int = Field(default=7, ge=0)
    #: A preset source whose outcome column (Pipedrive's Status, Salesforce's IsClosed/IsWon,
    #: HubSpot's "Is Deal Closed?") says no outcome on more than this share of its rows fails
    #: the check `outcome_recognised` (see funnel.quality.outcomes).
    max_unrecognised_outcome_share: float = Field(default=0.0, ge=0, le=1)

    @field_validator("severity")
    @classmethod
    def _guards_stay_errors(cls, v: dict[str, Severity]) -> dict[str, Severity]:
        for name, severity in v.items():
            if severity != "error" and (name.endswith("_in_range")):
                raise ValueError(
                    f"{name}: a value-range guard stays an error (a value outside its range"
                    " would fail the models or lose the day); widen the range instead"
                    " (max_amount, date_horizon_days)"
                )
        return v


class QualificationConfig(_Strict):
    budget_min: float = 10_000
    authority_roles: list[str] = Field(
        default_factory=lambda: ["decision_maker", "economic_buyer", "executive"]
    )
    need_signals: list[str] = Field(default_factory=lambda: ["high", "medium"])
    timeline_horizon_days: int = 90
    weight_budget: float = 25
    weight_authority: float = 25
    weight_need: float = 25
    weight_timeline: float = 25
    qualified_min_score: float = 75
    nurture_min_score: float = 25
    #: Lead stage labels (as the source spells them, any case or spacing) that mean the lead
    #: was sent back to nurture: such a lead is `nurture`, never disqualified, whatever
    #: canonical stage the label maps to (lead_qualification, nurture_returns).
    nurture_labels: list[str] = Field(default_factory=lambda: ["nurture", "nurturing", "recycled"])

    @field_validator("nurture_labels")
    @classmethod
    def _labels_not_blank(cls, v: list[str]) -> list[str]:
        for label in v:
            if not label.strip():
                raise ValueError("a nurture label is blank")
            if "," in label:
                raise ValueError(f"nurture label {label!r} holds a comma")
        return v


#: The canonical forecast categories, from least to most certain (closed: won).
FORECAST_CATEGORIES: tuple[str, ...] = ("omitted", "pipeline", "best_case", "commit", "closed")

#: The forecast category of an open opportunity whose source gives none, by stage (closed
#: stages are always closed, lost omitted).
DEFAULT_STAGE_CATEGORY: dict[str, str] = {
    "prospecting": "pipeline",
    "qualification": "pipeline",
    "meeting": "pipeline",
    "proposal": "best_case",
    "negotiation": "commit",
    "won": "closed",
    "lost": "omitted",
    "post_sale": "closed",
}


class ForecastConfig(_Strict):
    stage_probability: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_STAGE_PROBABILITY)
    )
    #: Stage -> forecast category, for opportunities whose source gives no category; stages
    #: left out keep their default (DEFAULT_STAGE_CATEGORY).
    stage_category: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_STAGE_CATEGORY))

    @field_validator("stage_category")
    @classmethod
    def _stages_and_categories(cls, v: dict[str, str]) -> dict[str, str]:
        for stage, category in v.items():
            if stage not in STAGES:
                raise ValueError(f"{stage!r} is not a canonical stage")
            if category not in FORECAST_CATEGORIES:
                raise ValueError(
                    f"{stage}: {category!r} is not a forecast category (one of "
                    f"{', '.join(FORECAST_CATEGORIES)})"
                )
        return {**DEFAULT_STAGE_CATEGORY, **v}

    @field_validator("stage_probability")
    @classmethod
    def _stages_and_range(cls, v: dict[str, float]) -> dict[str, float]:
        for stage, p in v.items():
            if stage not in STAGES:
                raise ValueError(f"{stage!r} is not a canonical stage")
            if not 0 <= p <= 1:
                raise ValueError(f"{stage}: probability {p} is not in 0..1")
        return v


#: The days a week may start on, as `[calendar] week_start` names them (ISO day numbers).
WEEKDAYS: dict[str, int] = {
    "monday": 1,
    "tuesday": 2,
    "wednesday": 3,
    "thursday": 4,
    "friday": 5,
    "saturday": 6,
    "sunday": 7,
}


class CalendarConfig(_Strict):
    #: The calendar month (1-12) the fiscal year starts in; a fiscal year is named by the
    #: calendar year it ends in (April start: FY2025 runs 2024-04-01 to 2025-03-31).
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)
    #: The day a week starts on (the calendar's week_start column).
    week_start: str = "monday"

    @field_validator("week_start")
    @classmethod
    def _known_weekday(cls, v: str) -> str:
        day = v.strip().lower()
        if day not in WEEKDAYS:
            raise ValueError(f"{v!r} is not a day of the week (one of {', '.join(WEEKDAYS)})")
        return day


class ScheduleConfig(_Strict):
    cron: str = "0 2 * * *"
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        return known_zone(v)


class AlertsConfig(_Strict):
    #: The environment variable holding a Slack-compatible incoming webhook URL.
    webhook_url_env: str | None = None
    #: Alternatively, a Prefect Secret block holding that URL (used when the variable is unset).
    webhook_secret_block: str | None = None
    #: Alert also when a source's share of warned rows is above this.
    warn_share: float = Field(default=0.10, ge=0, le=1)


#: An ISO 4217 currency code as written in the config (any case; kept upper-case).
CURRENCY_CODE = r"^[A-Za-z]{3}$"


class CurrencyConfig(_Strict):
    #: Every money figure is converted into this currency through the exchange_rates sources
    #: (None: figures stay in each deal's own currency, per currency, never summed across).
    reporting: str | None = Field(default=None, pattern=CURRENCY_CODE)
    #: The currency of an amount whose row names none (None: such a deal's currency is
    #: unknown; with `reporting` set it is quarantined, since it cannot be converted).
    default: str | None = Field(default=None, pattern=CURRENCY_CODE)

    @field_validator("reporting", "default")
    @classmethod
    def _upper(cls, v: str | None) -> str | None:
        return v.upper() if v else v


#: The metrics metric_checks judges (see sql/marts/metric_checks.yml).
MONITORED_METRICS: tuple[str, ...] = (
    "win_rate",
    "stage_conversion",
    "created_count",
    "created_amount",
    "median_cycle_days",
    "sales_velocity",
    "lead_volume",
    "lead_to_win",
)
#: The breakdowns metric_checks may add to the whole funnel's row ('all').
MONITORED_DIMENSIONS: tuple[str, ...] = ("owner", "source")
#: A monitoring window: a number of days, written like the trailing windows ("28d").
MONITORING_WINDOW = r"^[1-9][0-9]{0,2}d$"


class MetricMute(_Strict):
    """A check that never alerts: a metric, optionally narrowed to a dimension and its value."""

    metric: str
    dimension: str | None = None
    value: str | None = None

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, v: str) -> str:
        if v not in MONITORED_METRICS:
            raise ValueError(f"{v!r} is not a metric (one of {', '.join(MONITORED_METRICS)})")
        return v

    @field_validator("dimension")
    @classmethod
    def _known_dimension(cls, v: str | None) -> str | None:
        known = ("all", "stage", *MONITORED_DIMENSIONS)
        if v is not None and v not in known:
            raise ValueError(f"{v!r} is not a dimension (one of {', '.join(known)})")
        return v


class MonitoringConfig(_Strict):
    #: Each window is judged against the `baseline_windows` windows of the same length before it.
    windows: list[str] = Field(default_factory=lambda: ["7d", "28d"], min_length=1)
    baseline_windows: int = Field(default=4, ge=1, le=12)
    #: z at or below these marks a check warn / alert (z is signed so that below 0 is worse).
    warn_z: float = Field(default=-2.0, lt=0)
    alert_z: float = Field(default=-3.0, lt=0)
    #: A check resting on fewer records than this is always ok (too few to judge).
    min_n: int = Field(default=20, ge=1)
    metrics: list[str] = Field(default_factory=lambda: list(MONITORED_METRICS))
    dimensions: list[str] = Field(default_factory=lambda: list(MONITORED_DIMENSIONS))
    mutes: list[MetricMute] = Field(default_factory=list)
    #: Metric alerts (breaches and recoveries) go to the [alerts] webhook; false keeps them off.
    alerts: bool = True

    @field_validator("windows")
    @classmethod
    def _window_lengths(cls, v: list[str]) -> list[str]:
        for w in v:
            if not re.fullmatch(MONITORING_WINDOW, w):
                raise ValueError(f'{w!r} is not a window: a number of days such as "28d"')
        if len(set(v)) != len(v):
            raise ValueError("a window is named twice")
        return v

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, v: list[str]) -> list[str]:
        for m in v:
            if m not in MONITORED_METRICS:
                raise ValueError(f"{m!r} is not a metric (one of {', '.join(MONITORED_METRICS)})")
        return v

    @field_validator("dimensions")
    @classmethod
    def _known_dimensions(cls, v: list[str]) -> list[str]:
        for d in v:
            if d not in MONITORED_DIMENSIONS:
                raise ValueError(
                    f"{d!r} is not a dimension (one of {', '.join(MONITORED_DIMENSIONS)})"
                )
        return v

    @model_validator(mode="after")
    def _alert_beyond_warn(self) -> MonitoringConfig:
        if self.alert_z > self.warn_z:
            raise ValueError(
                f"alert_z ({self.alert_z}) must be at or below warn_z ({self.warn_z}):"
                " an alert is the worse of the two"
            )
        return self


#: Opportunity fields `[hygiene] required_open_fields` may name (the others are always set).
REQUIRABLE_FIELDS: tuple[str, ...] = (
    "lead_id",
    "account",
    "owner",
    "amount",
    "currency",
    "created_at",
    "expected_close_date",
    "probability",
    "pipeline",
)


class HygieneConfig(_Strict):
    #: Fields every open opportunity should have; open_deal_health lists the missing ones.
    required_open_fields: list[str] = Field(
        default_factory=lambda: ["owner", "amount", "expected_close_date"]
    )
    #: An open deal without an activity for more than this many days is stale.
    stale_activity_days: int = Field(default=14, ge=1, le=3650)

    @field_validator("required_open_fields")
    @classmethod
    def _known_fields(cls, v: list[str]) -> list[str]:
        for f in v:
            if f not in REQUIRABLE_FIELDS:
                raise ValueError(
                    f"{f!r} is not an opportunity field that can be missing (one of"
                    f" {', '.join(REQUIRABLE_FIELDS)})"
                )
        return v


class ResponseConfig(_Strict):
    #: Speed to lead: a lead's first touch within this many minutes of its creation is within
    #: the SLA (lead_response.is_within_sla, response_metrics_daily.within_sla_share).
    sla_minutes: int = Field(default=60, ge=1, le=525_600)


class ReportConfig(_Strict):
    #: Every published run writes report.html beside the warehouse (a report failure fails the
    #: run, so the report always matches the published warehouse); false publishes without it.
    enabled: bool = True


class FunnelConfig(_Strict):
    warehouse: WarehouseConfig = Field(default_factory=WarehouseConfig)
    sources: list[SourceConfig] = Field(min_length=1)
    validation: ValidationConfig = Field(default_factory=ValidationConfig)
    qualification: QualificationConfig = Field(default_factory=QualificationConfig)
    forecast: ForecastConfig = Field(default_factory=ForecastConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    response: ResponseConfig = Field(default_factory=ResponseConfig)
    currency: CurrencyConfig = Field(default_factory=CurrencyConfig)
    calendar: CalendarConfig = Field(default_factory=CalendarConfig)
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    hygiene: HygieneConfig = Field(default_factory=HygieneConfig)
    #: The config file's folder; relative paths are relative to it. Set by load_config.
    base_dir: Path = Path(".")
    config_path: Path = Path("funnel.toml")

    @model_validator(mode="after")
    def _unique_names(self) -> FunnelConfig:
        seen: set[str] = set()
        for s in self.sources:
            if s.name in seen:
                raise ValueError(f"source name {s.name!r} is used twice")
            seen.add(s.name)
        return self

    @model_validator(mode="after")
    def _rates_need_a_reporting_currency(self) -> FunnelConfig:
        rates = [s.name for s in self.sources if s.entity == "exchange_rates"]
        if rates and self.currency.reporting is None:
            raise ValueError(
                f"sources[{rates[0]}]: exchange rates are used only to convert amounts into the"
                ' reporting currency: set [currency] reporting (e.g. reporting = "EUR")'
            )
        return self

    def resolve(self, p: str | Path) -> Path:
        """A path from the config file, relative to the config file's folder."""
        path = Path(p).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    @property
    def warehouse_path(self) -> Path:
        return self.resolve(self.warehouse.path)

    @property
    def report_path(self) -> Path:
        """The morning report, beside the published warehouse."""
        return self.warehouse_path.with_name("report.html")

    @property
    def state_path(self) -> Path:
        if self.warehouse.state_path is not None:
            return self.resolve(self.warehouse.state_path)
        wh = self.warehouse_path
        return wh.with_name(wh.stem + ".state.duckdb")

    def source_files(self, source: SourceConfig) -> list[Path]:
        """The files of a file source, sorted; ConfigError when none match."""
        assert source.path is not None
        pattern = self.resolve(source.path)
        key = f"{self.config_path}: sources[{source.name}].path"
        files = sorted(Path(p) for p in glob.glob(str(pattern)))
        if not files:
            raise ConfigError(f"{key}: no file matches {str(pattern)!r}")
        for f in files:
            _regular_file(f, key)
        return files

    def today(self) -> date:
        """Today in the warehouse time zone (the default as-of day)."""
        return datetime.now(ZoneInfo(self.warehouse.timezone)).date()


#: What a path that is not a regular file is, for the message.
_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a fifo (reading it would wait for a writer)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _regular_file(path: Path, key: str) -> None:
    """ConfigError unless `path` is (or links to) a regular file: a directory, fifo, device,
    socket, dangling link or link loop would fail the run later, or hang it."""
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        raise ConfigError(f"{key}: {path}: cannot be read ({e.strerror or e})") from None
    for test, kind in _KINDS:
        if test(mode):
            raise ConfigError(f"{key}: {path} is {kind}, not a file")
    if not stat.S_ISREG(mode):
        raise ConfigError(f"{key}: {path} is not a regular file")


def _loc(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """Turn a pydantic error location into a config key path, naming sources by name."""
    parts: list[str] = []
    node: Any = data
    for item in loc:
        if isinstance(item, int) and isinstance(node, list):
            name = (
                node[item].get("name")
                if item < len(node) and isinstance(node[item], dict)
                else None
            )
            parts[-1] += f"[{name or item}]"
            node = node[item] if item < len(node) else None
        else:
            parts.append(str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return ".".join(parts)


def _known_keys() -> set[str]:
    """Every key a config section may hold (the fields of every section's model)."""
    models: list[type[BaseModel]] = list(_Strict.__subclasses__())
    return {k for m in models for k in m.model_fields} - {"base_dir", "config_path"}


def _did_you_mean(key: str) -> str:
    """` (did you mean 'x'?)` for a misspelt key close to a known one, else nothing."""
    close = difflib.get_close_matches(key, sorted(_known_keys()), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def load_config(path: str | Path) -> FunnelConfig:
    """Read and check the TOML config; every problem is a ConfigError naming file and key."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from e
    for key in ("base_dir", "config_path"):
        if key in data:
            raise ConfigError(f"{path}: {key}: not a config key")
    try:
        config = FunnelConfig.model_validate(
            {**data, "base_dir": path.resolve().parent, "config_path": path}
        )
    except ValidationError as e:
        problems = []
        for err in e.errors():
            key = _loc(tuple(err["loc"]), data)
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key" + _did_you_mean(str(err["loc"][-1]))
            problems.append(f"{path}: {key}: {msg}")
        raise ConfigError("\n".join(problems)) from None
    register_secrets(config)
    return config


def register_secrets(config: FunnelConfig) -> None:
    """Every secret the config names (API tokens, the webhook URL), for funnel.redact."""
    for source in config.sources:
        if source.token_env:
            redact.register(os.environ.get(source.token_env))
    if config.alerts.webhook_url_env:
        redact.register(os.environ.get(config.alerts.webhook_url_env))
