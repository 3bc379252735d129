"""Issue 3 acceptance: the sample export as three nightly runs, stages changed in between through
the export files only, gets its moves in stage_transitions; a rebuild from the stored state gives
the third run's tables again, and the first day's funnel_daily rows never shift."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest

from flows.nightly import nightly
from flows.rebuild import rebuild
from tests.conftest import CONTRACT_TABLES, REPO, SAMPLE
from tests.integration.ops_helpers import published_tables, query

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]

D1, D2, D3 = date(2026, 10, 29), date(2026, 10, 30), date(2026, 10, 31)
COLUMNS = {"stage": 4, "close": 9, "loss": 11, "modified": 13}  # opportunities.csv positions

# (opportunity, day the export changes, new values) - all open on day 1, each its record's current
# opportunity, their stage history ending before day 1.
EDITS = {
    D2: {
        # meeting -> negotiation, skipping proposal; modified that day
        "OP-00000833": {"stage": "Negotiation", "modified": "2026-10-30 11:00:00"},
        # proposal -> meeting, a move back; its modified date says nothing new
        "OP-00000831": {"stage": "Discovery Meeting", "modified": "2026-10-20 00:00:00"},
        # meeting -> lost (stands alone, no lead)
        "OP-00000826": {
            "stage": "Closed Lost",
            "close": "2026-10-30 15:00:00",
            "loss": "Budget",
            "modified": "2026-10-30 15:00:00",
        },
    },
    D3: {
        "OP-00000833": {"stage": "Closed Won", "close": "2026-10-31 14:00:00"},
        # the lost deal is reopened
        "OP-00000826": {
            "stage": "Negotiation",
            "close": "",
            "loss": "",
            "modified": "2026-10-31 09:00:00",
        },
    },
}


def _edit(path: Path, edits: dict[str, dict[str, str]]) -> None:
    """Change the named opportunities' lines in place; every other line stays byte for byte."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    seen = set()
    for i, line in enumerate(lines):
        key = line.split(",", 1)[0]
        if key in edits:
            fields = next(csv.reader([line]))
            for name, value in edits[key].items():
                fields[COLUMNS[name]] = value
            out = io.StringIO()
            csv.writer(out, lineterminator=line[len(line.rstrip("\r\n")) :]).writerow(fields)
            lines[i] = out.getvalue()
            seen.add(key)
    assert seen == set(edits)
    path.write_text("".join(lines), encoding="utf-8")


def _project(root: Path) -> Path:
    shutil.copytree(SAMPLE, root / "data" / "sample")
    text = (REPO / "funnel.toml").read_text().replace("data/warehouse/", "warehouse/")
    (root / "funnel.toml").write_text(text)
    return root / "funnel.toml"


def _entries(warehouse: Path, record_id: str) -> list[tuple[object, ...]]:
    """The record's entries from day 1 on: stage, entered_at, exited_at, direction, source."""
    return query(
        warehouse,
        "select stage, entered_at, exited_at, direction, entry_source from stage_transitions"
        f" where record_id = '{record_id}' and (exited_at is null or exited_at >= '2026-10-29')"
        " order by entered_at, stage_order",
    )


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_three_nightly_runs_record_the_moves_and_a_rebuild_gives_the_same_tables(
    tmp_path: Path,
) -> None:
    config = _project(tmp_path)
    warehouse = tmp_path / "warehouse" / "funnel.duckdb"
    first_day = tmp_path / "day1.duckdb"
    for day in (D1, D2, D3):
        if day in EDITS:
            _edit(tmp_path / "data" / "sample" / "opportunities.csv", EDITS[day])
        assert nightly(config_path=str(config), as_of=day).status == "published"
        if day == D1:
            shutil.copy(warehouse, first_day)
    third_day = tmp_path / "day3.duckdb"
    shutil.copy(warehouse, third_day)

    # skipped stage (proposal gets no entry), then a close
    assert _entries(warehouse, "LD-00001914")[-3:] == [
        ("meeting", ts("2026-10-21 04:49:28"), ts("2026-10-30 11:00"), "forward", "stage_history"),
        ("negotiation", ts("2026-10-30 11:00"), ts("2026-10-31 14:00"), "close", "snapshot"),
        ("won", ts("2026-10-31 14:00"), None, None, "snapshot"),
    ]
    # a move back, dated at the start of the day the pipeline first saw it
    assert _entries(warehouse, "LD-00001923")[-2:] == [
        ("proposal", ts("2026-10-17 01:31:12"), ts("2026-10-30 00:00"), "back", "stage_history"),
        ("meeting", ts("2026-10-30 00:00"), None, None, "snapshot"),
    ]
    # lost at its close date, then reopened: a move back out of lost
    assert _entries(warehouse, "OP-00000826")[-3:] == [
        ("meeting", ts("2026-10-20 01:53:41"), ts("2026-10-30 15:00"), "close", "stage_history"),
        ("lost", ts("2026-10-30 15:00"), ts("2026-10-31 09:00"), "back", "snapshot"),
        ("negotiation", ts("2026-10-31 09:00"), None, None, "snapshot"),
    ]

    summary = rebuild(config_path=str(config))
    assert (summary.status, summary.as_of) == ("published", D3)
    rebuilt = published_tables(warehouse, skip_run=summary.run_id)
    assert set(rebuilt) >= set(CONTRACT_TABLES)
    # identical contents, every column; pipeline_runs differs only by the rebuild's own row
    assert rebuilt == published_tables(third_day)
    assert query(
        warehouse,
        f"select status, as_of, rows_read from pipeline_runs where run_id = '{summary.run_id}'",
    ) == [("published", D3, 0)]

    # history does not shift: day 1 as the first run published it and as the rebuild shows it
    daily = f"select * from funnel_daily where day = '{D1}' order by stage_order"
    assert query(warehouse, daily) == query(first_day, daily)
    assert sum(int(r[4]) for r in query(first_day, daily)) > 0  # type: ignore[call-overload]
