"""The data-hygiene checks of each entity: expectation, severity and the reason a row fails."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import polars as pl

from funnel.quality.ranges import Limits, range_checks
from transforms.schema import ENTITIES, STAGES, Entity

#: Python's `\s` spelled out: every character `str.isspace()` accepts, as literal characters.
#: pandas runs a pattern with `\s` through Python's `re` one value at a time (RE2's `\s` is
#: narrower); the same class written out runs in pyarrow's RE2 over the whole column, much
#: faster (docs/decisions.md), and matches exactly the same values.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
#: name@domain.tld: r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$" with `\s` as WHITESPACE.
EMAIL_REGEX = f"^[^@{WHITESPACE}]+@[^@{WHITESPACE}]+\\.[A-Za-z]{{2,}}$"
PHONE_REGEX = r"^\+?\d{7,15}$"
#: Timestamps (and the date of a rate) that say when something happened, so cannot lie after
#: the as-of day.
EVENT_FIELDS = (
    "created_at",
    "closed_at",
    "converted_at",
    "updated_at",
    "entered_at",
    "occurred_at",
    "rate_date",
)
#: The field that says when a row came into being: on a past day, a row born later did not exist
#: (transforms.schema Entity.born).
BIRTH_FIELDS: dict[str, str] = {e.name: e.born for e in ENTITIES.values() if e.born}


#: (later, earlier): an event that cannot come before the record's creation.
LATER_THAN_CREATED = (("closed_at", "created_at"), ("converted_at", "created_at"))


def compared_with(later: str, earlier: str) -> str:
    """The helper column `later` is checked against (see `with_helper_columns`)."""
    return f"_{earlier}_vs_{later}"


@dataclass(frozen=True)
class Check:
    """One expectation on one entity, with its severity and a reason for each failing row."""

    name: str
    severity: str  # error | warn | deferred (a past day: later events, see entity_checks)
    expectation: str  # great-expectations class name in gx.expectations
    kwargs: Mapping[str, Any]
    reason: pl.Expr
    description: str

    @property
    def column(self) -> str | None:
        col = self.kwargs.get("column") or self.kwargs.get("column_A")
        return str(col) if col else None


def _quoted(col: str) -> pl.Expr:
    return pl.format("'{}'", pl.col(col).cast(pl.String).fill_null(""))


def entity_checks(
    entity: Entity,
    as_of: date,
    overrides: Mapping[str, str],
    past_day: bool = False,
    limits: Limits | None = None,
) -> list[Check]:
    """The checks of an entity; `overrides` maps a check name to error, warn or off.

    On a past day (a backfill or a re-run of an older as-of day) the export still shows today's
    state, so dates after the as-of day are expected: their `*_not_after_as_of` checks become
    `deferred`. A row born after the day (see BIRTH_FIELDS) is set aside for that day; a later
    close, conversion or update of an older row is counted, blanked, and the row loaded.
    """
    as_of_end = datetime.combine(as_of, time.max)
    checks: list[Check] = [
        Check(
            "values_parse",
            "error",
            "ExpectColumnValuesToBeNull",
            {"column": "_unparsed"},
            pl.format("unparseable value: {}", pl.col("_unparsed")),
            "every date, timestamp and number reads as its type",
        )
    ]
    if any(kind in ("money", "number") for kind in entity.fields.values()):
        checks.append(
            Check(
                "number_format",
                "error",
                "ExpectColumnValuesToBeNull",
                {"column": "_number_format"},
                pl.col("_number_format"),
                "every number uses its column's decimal mark (configured, or told by the"
                " column's values) and none is left ambiguous",
            )
        )
    if entity.id_field:
        idf = entity.id_field
        checks += [
            Check(
                f"{idf}_present",
                "error",
                "ExpectColumnValuesToNotBeNull",
                {"column": idf},
                pl.lit(f"{idf} is blank"),
                f"every row has a {idf}",
            ),
            Check(
                f"{idf}_unique",
                "error",
                "ExpectColumnValuesToBeUnique",
                {"column": idf},
                pl.format(f"{idf} {{}} also comes from another source", _quoted(idf)),
                f"{idf} is unique across all sources of {entity.name}",
            ),
        ]
    elif entity.unique_key:
        key = entity.unique_key
        checks.append(
            Check(
                "_".join(key) + "_unique",
                "error",
                "ExpectColumnValuesToBeUnique",
                {"column": UNIQUE_KEY},
                pl.format(
                    " and ".join(f"{f} {{}}" for f in key) + " also come from another source",
                    *(_quoted(f) for f in key),
                ),
                f"{', '.join(key)} are unique together across all sources of {entity.name}",
            )
        )
    for field in entity.required:
        if field in (entity.id_field, "stage"):
            continue
        checks.append(
            Check(
                f"{field}_present",
                "error",
                "ExpectColumnValuesToNotBeNull",
                {"column": field},
                pl.lit(f"{field} is blank"),
                f"every row has a {field}",
            )
        )
    if entity.one_of:
        names = " or ".join(entity.one_of)
        checks.append(
            Check(
                "reference_present",
                "error",
                "ExpectColumnValuesToNotBeNull",
                {"column": "_ref"},
                pl.lit(f"neither {names} is given"),
                f"every row names its {names}",
            )
        )
    if entity.has_stage:
        checks.append(
            Check(
                "stage_in_canonical_set",
                "error",
                "ExpectColumnValuesToNotBeNull",
                {"column": "_stage_ok"},
                pl.when(pl.col("stage_label").is_null())
                .then(pl.lit("stage is blank"))
                .otherwise(pl.format("unknown stage label {}", _quoted("stage_label"))),
                f"the stage label maps to a canonical stage ({', '.join(STAGES)})",
            )
        )
    if "email" in entity.fields:
        checks.append(
            Check(
                "email_format",
                "warn",
                "ExpectColumnValuesToMatchRegex",
                {"column": "email", "regex": EMAIL_REGEX},
                pl.format("malformed email {}", _quoted("email")),
                "email looks like name@domain.tld",
            )
        )
    if "phone" in entity.fields:
        checks.append(
            Check(
                "phone_format",
                "warn",
                "ExpectColumnValuesToMatchRegex",
                {"column": "phone", "regex": PHONE_REGEX},
                pl.format("malformed phone {}", _quoted("phone")),
                "phone has 7 to 15 digits after normalising",
            )
        )
    for field, kind in entity.fields.items():
        if kind == "money":
            checks.append(
                Check(
                    f"{field}_not_negative",
                    "error",
                    "ExpectColumnValuesToBeBetween",
                    {"column": field, "min_value": 0},
                    pl.format(f"negative {field} {{}}", pl.col(field)),
                    f"{field} is not negative",
                )
            )
    for field, allowed in entity.choices:
        spellings = sorted({v for a in allowed for v in (a, a.upper(), a.capitalize())})
        checks.append(
            Check(
                f"{field}_known",
                "error",
                "ExpectColumnValuesToBeInSet",
                {"column": field, "value_set": spellings},
                pl.format(f"{field} {{}} is not one of {', '.join(allowed)}", _quoted(field)),
                f"{field} is one of {', '.join(allowed)}",
            )
        )
    for field in entity.positive:
        checks.append(
            Check(
                f"{field}_positive",
                "error",
                "ExpectColumnValuesToBeBetween",
                {"column": field, "min_value": 0, "strict_min": True},
                pl.format(f"{field} {{}} is not above 0", pl.col(field)),
                f"{field} is above 0",
            )
        )
    if "probability" in entity.fields:
        checks.append(
            Check(
                "probability_in_range",
                "error",
                "ExpectColumnValuesToBeBetween",
                {"column": "probability", "min_value": 0, "max_value": 1},
                pl.format("probability {} is outside 0..1", pl.col("probability")),
                "probability is within 0..1 after scaling",
            )
        )
    for later, earlier in LATER_THAN_CREATED:
        if later in entity.fields and earlier in entity.fields:
            checks.append(
                Check(
                    f"{later.removesuffix('_at')}_after_created",
                    # CRMs let users enter a deal after it closed: the row loads, counted here
                    # (its cycle_days is left empty), never quarantined
                    "warn",
                    "ExpectColumnPairValuesAToBeGreaterThanB",
                    {
                        "column_A": later,
                        "column_B": compared_with(later, earlier),
                        "or_equal": True,
                        "ignore_row_if": "either_value_is_missing",
                    },
                    pl.format(
                        f"{later} {{}} is before {earlier} {{}}",
                        *(pl.col(c).dt.to_string("%Y-%m-%d %H:%M:%S") for c in (later, earlier)),
                    ),
                    f"{later} is not before {earlier} (by day when {later} has no time of day)",
                )
            )
    for field in EVENT_FIELDS:
        if field in entity.fields:
            shown = "%Y-%m-%d" if entity.fields[field] == "date" else "%Y-%m-%d %H:%M:%S"
            checks.append(
                Check(
                    f"{field}_not_after_as_of",
                    "error",
                    "ExpectColumnValuesToBeBetween",
                    {"column": field, "max_value": as_of_end},
                    pl.format(
                        f"{field} {{}} is after the as-of day {as_of}",
                        pl.col(field).dt.to_string(shown),
                    ),
                    f"{field} is not after the as-of day",
                )
            )
    checks += [
        Check(name, "error", "ExpectColumnValuesToBeBetween", kwargs, reason, description)
        for name, kwargs, reason, description in range_checks(entity, as_of, limits or Limits())
    ]
    out = []
    for c in checks:
        severity = overrides.get(c.name, c.severity)
        if past_day and severity != "off" and c.name.endswith("_not_after_as_of"):
            severity = "deferred"
        if severity != "off":
            out.append(Check(c.name, severity, c.expectation, c.kwargs, c.reason, c.description))
    return out


#: The helper column of a unique check over several fields (Entity.unique_key).
UNIQUE_KEY = "_unique_key"


def unique_fields(entity: Entity) -> tuple[str, ...]:
    """The fields whose value (together) is unique across all sources of the entity."""
    return (entity.id_field,) if entity.id_field else entity.unique_key


def unique_key(entity: Entity) -> pl.Expr:
    """The value a unique check compares: the id, or the unique key's fields joined. A blank
    required field makes it null (the `<field>_present` checks report those); a blank optional
    field is part of the key (a target with no owner and no team is the company's, and two
    of them for one period must not both count)."""
    fields = unique_fields(entity)
    if len(fields) == 1:
        return pl.col(fields[0])
    parts = [
        pl.col(f).cast(pl.String)
        if f in entity.required
        else pl.col(f).cast(pl.String).fill_null("")
        for f in fields
    ]
    return pl.concat_str(parts, separator="\x1f").alias(UNIQUE_KEY)


def with_helper_columns(frame: pl.DataFrame, entity: Entity) -> pl.DataFrame:
    """Columns some checks read: `_ref` (the row's record), `_stage_ok` (stage is known) and
    what a close or conversion is compared with (`compared_with`): the creation time, or its day
    when the later value has no time of day (a date-only CloseDate read as midnight is not
    before a deal created later that day)."""
    extra: list[pl.Expr] = []
    for later, earlier in LATER_THAN_CREATED:
        if later in entity.fields and earlier in entity.fields:
            date_only = pl.col(later) == pl.col(later).dt.truncate("1d")
            extra.append(
                pl.when(date_only)
                .then(pl.col(earlier).dt.truncate("1d"))
                .otherwise(pl.col(earlier))
                .alias(compared_with(later, earlier))
            )
    if entity.one_of:
        extra.append(pl.coalesce(*entity.one_of).alias("_ref"))
    if entity.has_stage:
        # A stage is required where the entity requires it; an optional one may be blank.
        blank_ok = "stage" not in entity.required
        extra.append(
            pl.when(pl.col("stage").is_not_null())
            .then(pl.col("stage"))
            .when(pl.col("stage_label").is_null() & pl.lit(blank_ok))
            .then(pl.lit("(none)"))
            .otherwise(None)
            .alias("_stage_ok")
        )
    return frame.with_columns(extra) if extra else frame
