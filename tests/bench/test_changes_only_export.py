"""The next night's changes-only export (bench/nextnight.py `changes_only`): which lines of the
night it holds, on a hand-written export and on a generated one."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import polars as pl

from bench import nextnight
from funnel.sample import generate

HEADERS = {
    "leads.csv": "Lead ID,Email,Last Modified Date",
    "opportunities.csv": "Opportunity ID,Stage,Last Modified Date",
    "stage_history.csv": "Opportunity ID,Stage,Changed At,Amount",
    "activities.csv": "Activity ID,Opportunity ID,Lead ID,Owner",
}
#: File -> (the night before's lines, tonight's lines, the changes-only lines expected).
CASES = {
    "leads.csv": (
        [
            "LD-1,a@x.com,2026-10-01",
            "LD-2,b@x.com,2026-10-01",
            " LD-3 ,c@x.com,2026-10-01",
            "LD-4,d@x.com,2026-10-01",
            "LD-4,d2@x.com,2026-10-02",
            "LD-5,e@x.com,2026-10-01",
        ],
        [
            "LD-1,a@x.com,2026-10-01",
            "LD-2,b@x.com,2026-11-01",  # changed
            " LD-3 ,c@x.com,2026-10-01",
            "LD-4,d@x.com,2026-10-01",
            "LD-4,d2@x.com,2026-11-01",  # changed: both rows of the duplicated id
            "LD-N1,f@x.com,2026-11-01",  # new (LD-5 is gone)
        ],
        [
            "LD-2,b@x.com,2026-11-01",
            "LD-4,d@x.com,2026-10-01",
            "LD-4,d2@x.com,2026-11-01",
            "LD-N1,f@x.com,2026-11-01",
        ],
    ),
    "opportunities.csv": (
        [
            "OP-1,Prospecting,2026-10-01",
            "OP-2,Qualification,2026-10-01",
            "OP-3,Negotiation,2026-10-01",
        ],
        [
            "OP-1,Prospecting,2026-10-01",
            "OP-2,Proposal Sent,2026-11-01",  # changed
            "OP-N1,Prospecting,2026-11-01",  # new (OP-3 is gone)
        ],
        ["OP-2,Proposal Sent,2026-11-01", "OP-N1,Prospecting,2026-11-01"],
    ),
    "stage_history.csv": (
        [
            "OP-1,Prospecting,2026-01-01,100.00",
            "OP-1,Qualification,2026-02-01,100.00",
            "OP-2,Prospecting,2026-01-01,200.00",
            " OP-2 ,Qualification,2026-02-01,200.00",
            "OP-2,Proposal Sent,2026-03-01,200.00",
            "OP-3,Prospecting,2026-01-01,300.00",
            "OP-3,Negotiation,2026-02-01,300.00",
        ],
        [
            "OP-1,Prospecting,2026-01-01,100.00",
            "OP-1,Qualification,2026-02-01,100.00",
            "OP-2,Prospecting,2026-01-01,200.00",
            " OP-2 ,Qualification,2026-02-01,200.00",
            "OP-2,Proposal Sent,2026-03-01,12345.00",  # changed: brings all of OP-2
            "OP-3,Prospecting,2026-01-01,300.00",  # (its Negotiation row is gone)
            "OP-N1,Prospecting,2026-01-01,100.00",  # a new opportunity's history
            "OP-N1,Qualification,2026-02-01,100.00",
        ],
        [
            "OP-2,Prospecting,2026-01-01,200.00",
            " OP-2 ,Qualification,2026-02-01,200.00",
            "OP-2,Proposal Sent,2026-03-01,12345.00",
            "OP-N1,Prospecting,2026-01-01,100.00",
            "OP-N1,Qualification,2026-02-01,100.00",
        ],
    ),
    "activities.csv": (
        [
            "AC-1,,LD-1,Ann",
            "AC-2,OP-1,,Bob",
            ",,LD-2,Cy",
            ",,LD-4,Di",
            "AC-3,,LD-1,Ed",
            "AC-3,,LD-1,Ed",
            "AC-4,,LD-2,Fay",
        ],
        [
            "AC-1,,LD-1,Ann",
            "AC-2,OP-1,,Taylor Changed",  # changed
            ",,LD-2,Cy",
            ",,LD-4,Taylor Changed",  # changed: a line without an id comes alone
            "AC-3,,LD-1,Ed",
            "AC-3,,LD-1,Ed",
            "AC-3,,LD-1,Ed",  # a third copy of a line is fresh too
            "AC-N1,OP-1,,Gus",  # new (AC-4 is gone)
        ],
        [
            "AC-2,OP-1,,Taylor Changed",
            ",,LD-4,Taylor Changed",
            "AC-3,,LD-1,Ed",
            "AC-3,,LD-1,Ed",
            "AC-3,,LD-1,Ed",
            "AC-N1,OP-1,,Gus",
        ],
    ),
}


def _write(folder: Path, which: int) -> Path:
    folder.mkdir()
    for name, lines in CASES.items():
        text = "\n".join([HEADERS[name], *lines[which]]) + "\n"
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_the_changes_only_export_holds_every_line_of_each_new_or_changed_record(
    tmp_path: Path,
) -> None:
    src, night = _write(tmp_path / "src", 0), _write(tmp_path / "night", 1)
    counts = nextnight.changes_only(src, night, tmp_path / "changes")
    for name, (_, _, expected) in CASES.items():
        text = (tmp_path / "changes" / name).read_text(encoding="utf-8")
        assert text == "\n".join([HEADERS[name], *expected]) + "\n", name
    assert counts == {
        "leads.csv": {"rows": 4, "records": 3, "fresh": 3},
        "opportunities.csv": {"rows": 2, "records": 2, "fresh": 2},
        "stage_history.csv": {"rows": 5, "records": 2, "fresh": 3},
        "activities.csv": {"rows": 6, "records": 3, "fresh": 4},
    }
    saved = json.loads((tmp_path / "changes" / "_changes_only.json").read_text(encoding="utf-8"))
    assert saved == counts


def test_a_night_without_changes_gives_files_with_only_their_header(tmp_path: Path) -> None:
    src = _write(tmp_path / "src", 0)
    counts = nextnight.changes_only(src, src, tmp_path / "changes")
    for name, header in HEADERS.items():
        assert (tmp_path / "changes" / name).read_text(encoding="utf-8") == header + "\n"
        assert counts[name] == {"rows": 0, "records": 0, "fresh": 0}


def _keyed_lines(path: Path) -> pl.DataFrame:
    """Every line of the file with its key (the trimmed first field)."""
    lines = pl.read_csv(path, separator="\x1f", quote_char=None, infer_schema=False).to_series()
    key = lines.str.extract(r"^([^,]*)", 1).str.strip_chars()
    return pl.DataFrame({"key": key, "line": lines})


def _records(path: Path) -> pl.DataFrame:
    """Per record key: its lines, sorted (lines without an id name no record: left out)."""
    keyed = _keyed_lines(path).filter(pl.col("key") != "")
    return keyed.group_by("key").agg(pl.col("line").sort()).sort("key")


def _unkeyed(path: Path) -> Counter[str]:
    """The lines without an id, counted."""
    return Counter(_keyed_lines(path).filter(pl.col("key") == "").get_column("line").to_list())


def test_the_night_before_with_the_changes_applied_is_the_night_but_for_gone_rows(
    tmp_path: Path,
) -> None:
    """On a generated export and its derived night: replacing the records the changes-only
    export lists gives tonight's lines of every record, except a record that only lost lines
    tonight (a deletion it cannot express), which keeps them."""
    src = tmp_path / "src"
    generate(src, leads=2000, seed=5)
    derived = nextnight.derive(src, tmp_path / "night")
    counts = nextnight.changes_only(src, tmp_path / "night", tmp_path / "changes")
    for name in nextnight.FILES:
        before, night = _records(src / name), _records(tmp_path / "night" / name)
        changes = _records(tmp_path / "changes" / name)
        applied = pl.concat([before.join(changes, on="key", how="anti"), changes]).sort("key")
        # the records the changes-only export lists hold exactly their lines of tonight, and
        # each has a fresh line (as a multiset: the sorted lines differ from last night's)
        assert changes.join(night, on="key", how="anti").is_empty(), name
        listed = night.join(changes.select("key"), on="key", how="semi")
        assert listed.equals(changes), name
        same = changes.join(before, on="key", suffix="_before").filter(
            pl.col("line") == pl.col("line_before")
        )
        assert same.is_empty(), name
        assert changes.height >= derived[name]["changed"] // 2, name
        # every other record is as it was, or lost lines tonight (no fresh one: it is not listed)
        differs = applied.join(night, on="key", how="full", suffix="_night").filter(
            pl.col("line").ne_missing(pl.col("line_night"))
        )
        for line, tonight in differs.select("line", "line_night").iter_rows():
            assert line is not None, name  # a record tonight has is never missing
            assert tonight is None or Counter(tonight) < Counter(line), name
        assert differs.height <= derived[name]["gone"], name
        assert counts[name]["records"] == changes.height, name
        # a line without an id is in the file of changes only when it is fresh tonight
        was, now = _unkeyed(src / name), _unkeyed(tmp_path / "night" / name)
        assert _unkeyed(tmp_path / "changes" / name) == now - was, name
