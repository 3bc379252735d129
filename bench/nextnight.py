"""The next night's export, derived deterministically from a generated one.

Per file, about 1 % of the records are new or changed (and 0.1 % are gone):
- changed (0.5 %): the row's last field gets a new value (leads and opportunities: Last Modified
  Date the next day; stage history: the amount; activities: the owner);
- new (0.5 %): a copy of a row under a new id (`LD-N...`, `OP-N...`, `AC-N...`); a new
  opportunity brings copies of its stage history under the same new id;
- gone (0.1 %): rows left out of the export.

Rows are handled as lines of text (polars, no per-row Python), so the CSV dirt of the original
export (broken rows, odd spellings) is carried over as it is.

`changes_only` writes the same night as a changes-only export (a source with `changes_only =
true`): per file only the records with a fresh line tonight, each with every line it has tonight,
since the pipeline replaces a listed record's rows with the file's. A record is the trimmed first
field, as the pipeline keys it (stage history: the opportunity); a line without an id names no
record (the pipeline quarantines it), so only such a line that is fresh is in the file.
Gone rows cannot be expressed: a record that only lost lines is absent, and keeps them loaded.

The exchange rates (`eurofxref-hist.csv`, read whole every night) are copied as they are.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl

#: File -> (id prefix of its first column, value the last field takes on a changed row).
FILES = {
    "leads.csv": ("LD-", "2026-11-01 09:00:00"),
    "opportunities.csv": ("OP-", "2026-11-01 09:00:00"),
    "stage_history.csv": ("OP-", "12345.00"),
    "activities.csv": ("AC-", "Taylor Changed"),
}
CHANGED, NEW, GONE = 5, 5, 1  # per mille of the rows
#: Files copied to the next night as they are (funnel.sample.RATES_FILE).
UNCHANGED = ("eurofxref-hist.csv",)


def _copy_unchanged(src: Path, out: Path) -> None:
    for name in UNCHANGED:
        if (src / name).exists():
            shutil.copy(src / name, out / name)


def _body(path: Path) -> tuple[str, pl.DataFrame]:
    """The header, and every non-empty data line as text, in the file's order."""
    header, *body = path.read_text(encoding="utf-8").split("\n")
    return header, pl.Series("line", body, pl.String).to_frame().filter(pl.col("line") != "")


def _lines(path: Path) -> tuple[str, pl.DataFrame]:
    """The header, and every data line as text with its 0-based position and a bucket 0..999."""
    header, lines = _body(path)
    pos = pl.int_range(pl.len(), dtype=pl.Int64)
    bucket = ((pos * 2654435761 + 97) % 4294967296) % 1000
    return header, lines.with_columns(pos.alias("pos"), bucket.alias("bucket"))


def _renamed(prefix: str) -> pl.Expr:
    """The line with its leading id `XX-123` as `XX-N123`."""
    return pl.col("line").str.replace(f"^{prefix}", f"{prefix}N")


def derive(src: Path, out: Path) -> dict[str, dict[str, int]]:
    """Write the next night's export of `src` into `out`; return counts per file."""
    out.mkdir(parents=True, exist_ok=True)
    counts: dict[str, dict[str, int]] = {}
    new_opps: pl.Series | None = None
    for name in ("leads.csv", "opportunities.csv", "stage_history.csv", "activities.csv"):
        prefix, new_value = FILES[name]
        header, lines = _lines(src / name)
        b = pl.col("bucket")
        changed = b < CHANGED
        gone = (b >= CHANGED) & (b < CHANGED + GONE)
        kept = lines.filter(~gone).with_columns(
            pl.when(changed)
            .then(pl.col("line").str.replace(r",[^,]*$", "," + new_value))
            .otherwise(pl.col("line"))
            .alias("line")
        )
        first = pl.col("line").str.extract(r"^([^,]*)", 1)
        if name == "stage_history.csv":
            assert new_opps is not None
            added = lines.filter(first.is_in(new_opps.implode()))
        else:
            added = lines.filter((b >= 500) & (b < 500 + NEW))
        if name == "opportunities.csv":
            new_opps = added.select(first.alias("id")).get_column("id")
        added = added.with_columns(_renamed(prefix))
        body = pl.concat([kept, added]).get_column("line")
        text = body.str.join("\n").item()
        (out / name).write_text(f"{header}\n{text}\n", encoding="utf-8")
        counts[name] = {
            "rows": kept.height + added.height,
            "changed": lines.filter(changed).height,
            "new": added.height,
            "gone": lines.filter(gone).height,
        }
    _copy_unchanged(src, out)
    manifest = src / "_manifest.json"
    if manifest.exists():
        shutil.copy(manifest, out / "_source_manifest.json")
    (out / "_next_night.json").write_text(json.dumps(counts, indent=2) + "\n", encoding="utf-8")
    return counts


def _counted(lines: pl.DataFrame) -> pl.DataFrame:
    """The lines with `nth`, the occurrence of each among equal lines: they are compared as a
    multiset, so a further copy of an existing line is fresh too."""
    return lines.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).over("line").alias("nth"))


def changes_only(src: Path, night: Path, out: Path) -> dict[str, dict[str, int]]:
    """Write the changes-only export of `night` (the next night's export of `src`) into `out`;
    return counts per file: lines written, their records, and the fresh lines among them."""
    out.mkdir(parents=True, exist_ok=True)
    key = pl.col("line").str.extract(r"^([^,]*)", 1).str.strip_chars()
    counts: dict[str, dict[str, int]] = {}
    for name in FILES:
        before = _counted(_body(src / name)[1])
        header, tonight = _body(night / name)
        # a line is fresh unless last night had it (as often: a multiset)
        tonight = (
            _counted(tonight)
            .join(
                before.with_columns(pl.lit(False).alias("_fresh")),
                on=["line", "nth"],
                how="left",
                maintain_order="left",
            )
            .with_columns(pl.col("_fresh").fill_null(True))
        )
        del before  # the night before's text: 1.8 GB of leads at 10M
        fresh = tonight.filter("_fresh")
        keys = fresh.select(key.alias("key")).filter(pl.col("key") != "").unique().to_series()
        # a line without an id names no record: only a fresh one is in the file of changes
        listed = (key != "") & key.is_in(keys.implode())
        picked = tonight.filter(listed | ((key == "") & pl.col("_fresh"))).get_column("line")
        body = picked.str.join("\n").item() + "\n" if picked.len() else ""
        (out / name).write_text(f"{header}\n{body}", encoding="utf-8")
        counts[name] = {"rows": picked.len(), "records": keys.len(), "fresh": fresh.height}
    _copy_unchanged(night, out)
    (out / "_changes_only.json").write_text(json.dumps(counts, indent=2) + "\n", encoding="utf-8")
    return counts
