"""`funnel init --from FILE.csv`: a starting funnel.toml guessed from an export's header and
values, every guess commented so a person can see what to check."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from funnel.config import SourceConfig
from funnel.connectors.columns import find_column
from funnel.connectors.registry import FORMATS
from funnel.extract import read_header
from transforms.parse import parse_timestamps
from transforms.schema import ENTITIES, STAGES

#: The entities an export of one CRM object holds (reference data has presets of its own).
GUESSED_ENTITIES = ("leads", "opportunities", "stage_history", "activities")
DELIMITERS = (",", ";", "\t", "|")
#: Date formats tried on a date column's values (ISO 8601 is read without one).
DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%d.%m.%Y %H:%M:%S",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
)
#: Words in a stage label -> the canonical stage, first match wins (the more specific first).
STAGE_WORDS = (
    ("unqualif", "lost"),
    ("disqualif", "lost"),
    ("lost", "lost"),
    ("verloren", "lost"),
    ("perdu", "lost"),
    ("won", "won"),
    ("gewonnen", "won"),
    ("gagn", "won"),
    ("onboard", "post_sale"),
    ("renewal", "post_sale"),
    ("negotiat", "negotiation"),
    ("proposal", "proposal"),
    ("quote", "proposal"),
    ("angebot", "proposal"),
    ("meeting", "meeting"),
    ("discovery", "meeting"),
    ("demo", "meeting"),
    ("qualif", "qualification"),
    ("working", "qualification"),
    ("contacted", "qualification"),
    ("converted", "qualification"),
    ("prospect", "prospecting"),
    ("nurture", "prospecting"),
    ("new", "prospecting"),
    ("open", "prospecting"),
)
#: Rows read to see the values (stage labels, date formats).
SAMPLE_ROWS = 10_000


@dataclass(frozen=True)
class Guess:
    entity: str
    columns: dict[str, str]
    unmatched: list[str]


#: Spellings of a field beyond its own words and the presets'.
MORE_SPELLINGS = {
    "closed_at": ("Close Date", "Closed Date", "Date Closed"),
    "created_at": ("Created", "Create Date", "Date Created", "Engage Date"),
    "entered_at": ("Changed At", "Changed Date", "Stage Date", "Date"),
    "occurred_at": ("Activity Date", "Date", "Due Date"),
    "stage": ("Status", "Stage Name", "Deal Stage"),
    "lost_reason": ("Loss Reason", "Lost Reason", "Reason Lost"),
    "owner": ("Sales Agent", "Sales Rep", "Deal Owner", "Assigned To"),
    "amount": ("Value", "Deal Value", "Close Value", "Revenue"),
    "account": ("Company", "Account Name", "Organization"),
}


def _folded(name: str) -> str:
    """A column name as compared: case, `_`, `-` and repeated spaces do not count."""
    return " ".join(name.casefold().replace("_", " ").replace("-", " ").split())


def _find(header: list[str], names: tuple[str, ...]) -> str | None:
    """The first of `names` the header has (exactly, else as `_folded` compares them)."""
    found = find_column(header, names)
    if found is not None:
        return found
    folded = {_folded(h): h for h in reversed(header)}
    return next((folded[_folded(n)] for n in names if _folded(n) in folded), None)


def spellings(entity: str, field: str) -> tuple[str, ...]:
    """How exports spell a field: its own words first (`expected_close_date`: "Expected Close
    Date"), then common spellings, then every preset's."""
    words = field.replace("_", " ")
    names = [field, words, words.title(), words.replace(" at", " date").title()]
    if field.endswith("_id"):
        names.append(words.removesuffix(" id").title() + " ID")
    names += MORE_SPELLINGS.get(field, ())
    for connector in FORMATS.values():
        preset = connector.presets.get(entity)
        if preset is not None:
            names += preset.columns.get(field, ())
    return tuple(dict.fromkeys(names))


def guess_columns(header: list[str]) -> Guess:
    """The entity whose fields the header matches best (required fields count double)."""
    best: Guess | None = None
    best_score: tuple[int, int] = (-1, -1)
    for name in GUESSED_ENTITIES:
        entity = ENTITIES[name]
        columns: dict[str, str] = {}
        # a close date is the actual close before it is the expected one
        for field in sorted(entity.fields, key=lambda f: f != "closed_at"):
            found = _find(header, spellings(name, field))
            if found is not None and found not in columns.values():
                columns[field] = found
        # the most columns explained, then the most required fields found
        score = (len(columns), sum(1 for f in (*entity.required, *entity.one_of) if f in columns))
        if score > best_score:
            used = set(columns.values())
            best, best_score = Guess(name, columns, [h for h in header if h not in used]), score
    assert best is not None
    return best


def guess_delimiter(path: Path) -> str:
    """The delimiter the header line uses most."""
    with path.open("rb") as fh:
        line = fh.readline().decode("utf-8", errors="replace")
    return max(DELIMITERS, key=line.count)


def guess_stage(label: str, entity: str) -> str | None:
    """The canonical stage a label names: a preset's spelling, then words, else None."""
    if label.strip().casefold() in STAGES:
        return label.strip().casefold()
    for connector in FORMATS.values():
        preset = connector.presets.get(entity)
        if preset is not None and label in preset.stages:
            return preset.stages[label]
    folded = label.casefold()
    return next((stage for word, stage in STAGE_WORDS if word in folded), None)


def guess_date_formats(values: pl.Series) -> list[str]:
    """The formats that read the values ISO 8601 does not, most values first (empty: ISO)."""
    values = values.drop_nulls().str.strip_chars()
    values = values.filter(values != "")
    left = values.filter(parse_timestamps(values, [], "UTC").is_null())
    picked: list[str] = []
    while not left.is_empty():  # the format that reads most of what is left, then the next
        read = {f: parse_timestamps(left, [f], "UTC").is_not_null() for f in DATE_FORMATS}
        best = max(DATE_FORMATS, key=lambda f: int(read[f].sum()))
        if not read[best].any():
            break
        picked.append(best)
        left = left.filter(~read[best])
    return picked


def _toml(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def init_config(export: Path, out: Path) -> str:
    """The text of a starting funnel.toml for one export file (written by the caller)."""
    delimiter = guess_delimiter(export)
    probe = SourceConfig(name="probe", entity="leads", path=str(export), delimiter=delimiter)
    header = read_header(export, probe)
    guess = guess_columns(header)
    frame = pl.read_csv(
        export,
        separator=delimiter,
        infer_schema=False,
        n_rows=SAMPLE_ROWS,
        encoding="utf8-lossy",
        truncate_ragged_lines=True,
    )
    frame = frame.rename({c: c.strip() for c in frame.columns})
    entity = ENTITIES[guess.entity]
    date_columns = [
        c for f, c in guess.columns.items() if entity.fields[f] in ("date", "timestamp")
    ]
    formats: list[str] = []
    for c in date_columns:
        formats += [f for f in guess_date_formats(frame.get_column(c)) if f not in formats]
    name = "".join(ch if ch.isalnum() else "_" for ch in export.stem).strip("_") or "export"
    rel = os.path.relpath(export.resolve(), out.resolve().parent)
    if rel.startswith(".."):
        rel = str(export.resolve())
    lines = [
        f"# Written by `funnel init --from {export}`: every value marked 'guessed' was guessed",
        "# from the export's header and first rows. Check each, then run",
        f"#   funnel check --config {out}",
        "",
        "[warehouse]",
        'path = "data/warehouse/funnel.duckdb"',
        'timezone = "UTC"',
        "",
        "[[sources]]",
        f"name = {_toml(name)}",
        f"entity = {_toml(guess.entity)}  # guessed: {len(guess.columns)} of the header's"
        f" {len(header)} columns are its fields",
        'format = "csv"',
        f"path = {_toml(rel)}",
    ]
    if delimiter != ",":
        lines.append(f"delimiter = {_toml(delimiter)}  # guessed from the header line")
    if formats:
        shown = ", ".join(_toml(f) for f in formats)
        lines.append(f"date_format = [{shown}]  # guessed from the values of the date columns")
    lines += ["", "[sources.columns]  # canonical field = the export's column"]
    for field, column in sorted(
        guess.columns.items(), key=lambda fc: list(entity.fields).index(fc[0])
    ):
        lines.append(f"{field} = {_toml(column)}  # guessed from the column's name")
    missing = [f for f in entity.required if f not in guess.columns]
    for field in missing:
        lines.append(f'# {field} = ""  # required: no column found, name it here')
    if guess.unmatched:
        lines.append(f"# columns not mapped: {', '.join(guess.unmatched)}")
    stage_column = guess.columns.get("stage")
    if entity.has_stage and stage_column is not None:
        labels = frame.get_column(stage_column).drop_nulls().str.strip_chars()
        counts = labels.filter(labels != "").value_counts(sort=True)
        lines += ["", "[sources.stages]  # the label as the export spells it = canonical stage"]
        for label, n in counts.iter_rows():
            stage = guess_stage(label, guess.entity)
            if stage is None:
                lines.append(
                    f'# {_toml(label)} = ""  # not guessed ({n:,} rows): one of {", ".join(STAGES)}'
                )
            else:
                lines.append(f"{_toml(label)} = {_toml(stage)}  # guessed ({n:,} rows)")
    return "\n".join(lines) + "\n"
