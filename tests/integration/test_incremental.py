"""Incremental nightly runs of file sources (issue 6): the second night cleans and validates only
the records that changed, and publishes the same warehouse as a full run over the same files."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from flows.nightly import nightly
from flows.rebuild import rebuild
from funnel import extract, hygiene, incremental, load
from funnel.quality import validate
from tests.conftest import PUBLISHED_TABLES, copy_sample
from tests.integration.ops_helpers import RUN_COLUMNS, query

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]

D1, D2 = date(2026, 10, 30), date(2026, 10, 31)
WAREHOUSE = Path("data/warehouse")
#: Columns that differ between any two runs, and the columns that say how a run ran (an
#: incremental run checks fewer rows: dq_results).
COMPARED_OUT = RUN_COLUMNS | {"rows_checked", "rows_failed", "failed_share", "passed"}
LEAD_COLUMNS = {"company": 4, "budget": 8}


def _edit_lines(path: Path, edit: dict[str, dict[int, str]], drop: set[str]) -> list[str]:
    """Edit fields of the lines whose first field is a key of `edit`; drop `drop`'s lines."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    out = []
    for line in lines:
        key = line.split(",", 1)[0]
        if key in drop:
            continue
        if key in edit:
            fields = next(csv.reader([line]))
            for pos, value in edit[key].items():
                fields[pos] = value
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerow(fields)
            line = buf.getvalue()
        out.append(line)
    path.write_text("".join(out), encoding="utf-8")
    return out


def _next_night(root: Path) -> None:
    """Tonight's export: a lead changed, one added, one gone, a quarantined lead fixed, a second
    row for an existing lead id; an opportunity moved on."""
    leads = root / "data/sample/leads.csv"
    lines = _edit_lines(
        leads,
        {
            "LD-00000002": {LEAD_COLUMNS["company"]: "Beaconpeak Holdings"},
            "LD-00001688": {LEAD_COLUMNS["budget"]: "71500.00"},  # was negative: quarantined
        },
        drop={"LD-00000003"},
    )
    ld10 = next(line for line in lines if line.startswith("LD-00000010,"))
    added = ld10.replace("LD-00000010,", "LD-00009999,", 1)
    duplicate = ld10.replace("Skyfield Group", "Skyfield Group Intl", 1)
    with leads.open("a", encoding="utf-8") as fh:
        fh.write(added + duplicate)
    _edit_lines(
        root / "data/sample/opportunities.csv",
        {"OP-00000833": {4: "Negotiation", 13: "2026-10-30 11:00:00"}},
        drop=set(),
    )


def _value(v: object, root: Path) -> object:
    """Doubles to 12 digits; a path in the project at `root`, or in either project of a test
    whose night 1 ran in `incr` and was then copied, below `<project>`."""
    if isinstance(v, float):
        return float(f"{v:.12g}")
    if isinstance(v, str):
        for project in ("incr", "full", root.name):
            v = v.replace(str(root.parent / project), "<project>")
    return v


def _tables(
    root: Path, tables: tuple[str, ...] = PUBLISHED_TABLES, skip: frozenset[str] = frozenset()
) -> dict[str, list[tuple[object, ...]]]:
    """Every published table without per-run columns (and `skip`); doubles to 12 significant
    digits; the per-source structs of pipeline_runs without their mode; file paths below the
    project."""
    warehouse = root / WAREHOUSE / "funnel.duckdb"
    out = {}
    for name in tables:
        cols = [str(r[0]) for r in query(warehouse, f"describe {name}")]
        keep = [
            "list_transform(sources, lambda s: struct_extract(s, 'rows_read'))"
            if c == "sources"
            else f'"{c}"'
            for c in cols
            if c not in COMPARED_OUT | skip
        ]
        rows = query(warehouse, f"select {', '.join(keep)} from {name} order by all")
        out[name] = sorted(
            (tuple(_value(v, root) for v in row) for row in rows),
            key=repr,
        )
    return out


def _run_sources(warehouse: Path, day: date) -> dict[str, tuple[object, ...]]:
    rows = query(
        warehouse,
        "select s.source, s.rows_read, s.rows_loaded, s.rows_quarantined, s.rows_warned, s.mode"
        " from (select unnest(sources) as s from pipeline_runs"
        f" where as_of = '{day}' and status = 'published')",
    )
    return {str(r[0]): r[1:] for r in rows}


def _crm(counts: dict[str, tuple[object, ...]]) -> dict[str, tuple[object, ...]]:
    """The CRM sources' counts: not the exchange rates, reference data read whole every run."""
    return {s: c for s, c in counts.items() if s != "ecb_rates"}


def _quarantine(warehouse: Path, day: date) -> list[tuple[object, ...]]:
    return query(
        warehouse,
        "select source, source_line, reasons from dq_quarantine where run_id ="
        f" (select run_id from pipeline_runs where as_of = '{day}' and status = 'published')"
        " order by all",
    )


def test_incremental_run_checks_the_changes_only_and_publishes_what_a_full_run_does(
    tmp_path: Path,
) -> None:
    incr = tmp_path / "incr"
    incr.mkdir()
    config = copy_sample(incr)
    assert nightly(config_path=str(config), as_of=D1).status == "published"
    _next_night(incr)
    full = tmp_path / "full"
    shutil.copytree(incr, full)  # the same state after night 1, and the same files tonight

    summary = nightly(config_path=str(config), as_of=D2)
    assert summary.status == "published"
    assert nightly(config_path=str(full / "funnel.toml"), as_of=D2, full=True).status == (
        "published"
    )
    w_incr, w_full = incr / WAREHOUSE / "funnel.duckdb", full / WAREHOUSE / "funnel.duckdb"

    counts_incr, counts_full = _run_sources(w_incr, D2), _run_sources(w_full, D2)
    modes = {s: c[-1] for s, c in counts_incr.items()}
    assert modes.pop("ecb_rates") == "full"  # reference data is read whole every run
    assert modes == dict.fromkeys(modes, "incremental")
    assert {s: c[-1] for s, c in counts_full.items()} == dict.fromkeys(counts_full, "full")
    # every source counts every row of tonight's export, as the full run does, and balances
    assert {s: c[:-1] for s, c in counts_incr.items()} == {
        s: c[:-1] for s, c in counts_full.items()
    }
    for read, loaded, quarantined, _warned, _mode in counts_incr.values():
        assert read == loaded + quarantined
    # 2007 lines of leads: one gone, two added
    assert counts_incr["crm_leads"][0] == 2008

    # the incremental run checked only the rows of the records that changed (and of the rows
    # quarantined last night: they are re-checked every run)
    checked = dict(
        query(
            w_incr,
            "select source, max(rows_checked) from dq_results where \"check\" = 'values_parse'"
            " and run_id = (select run_id from pipeline_runs where as_of = '2026-10-31')"
            " group by source",
        )
    )
    full_checked = dict(
        query(
            w_full,
            "select source, max(rows_checked) from dq_results where \"check\" = 'values_parse'"
            " and run_id = (select run_id from pipeline_runs where as_of = '2026-10-31')"
            " group by source",
        )
    )
    assert full_checked["crm_leads"] > 1900
    assert checked.pop("ecb_rates") == full_checked["ecb_rates"]  # reference data: all of it
    for source, n in checked.items():
        assert 0 < n < full_checked[source] / 10, source

    # the unchanged bad rows are quarantined again with their reasons; the fixed one is not;
    # the new second row of LD-00000010 supersedes the old one
    quarantine = _quarantine(w_incr, D2)
    assert quarantine == _quarantine(w_full, D2)
    assert ("crm_opportunities", 792, "negative amount -24908.0") in quarantine
    assert ("crm_leads", 357, "lead_id is blank") in quarantine  # line 358 last night
    assert not [q for q in quarantine if "-71500" in str(q[2])]
    assert ("crm_leads", 10, "duplicate lead_id: superseded by the row on line 2009") in quarantine

    # the warehouse is the one a full run publishes, table by table
    tables_incr, tables_full = _tables(incr), _tables(full)
    for name in PUBLISHED_TABLES:
        assert tables_incr[name] == tables_full[name], name
    leads = dict(query(w_incr, "select lead_id, company from leads where lead_id like 'LD-0000%'"))
    assert leads["LD-00000002"] == "Beaconpeak Holdings"
    assert leads["LD-00000010"] == "Skyfield Group Intl"
    assert "LD-00000003" not in leads and "LD-00009999" in leads


def test_a_config_change_or_an_earlier_day_runs_in_full(tmp_path: Path) -> None:
    config = copy_sample(tmp_path)
    warehouse = tmp_path / WAREHOUSE / "funnel.duckdb"
    assert nightly(config_path=str(config), as_of=D1).status == "published"
    assert set(_run_sources(warehouse, D1)["crm_leads"][-1:]) == {"full"}
    # a [validation] severity changes what a row's checks say: every source runs in full
    text = config.read_text()
    config.write_text(text + '\n[validation.severity]\nemail_format = "off"\n')
    assert nightly(config_path=str(config), as_of=D2).status == "published"
    assert {c[-1] for c in _run_sources(warehouse, D2).values()} == {"full"}
    # unchanged again, but tonight's leads come as a dated file: incremental, and every lead's
    # lineage points into tonight's file
    dated = tmp_path / "data/sample/leads-2026-11-01.csv"
    (tmp_path / "data/sample/leads.csv").rename(dated)
    config.write_text(
        config.read_text().replace('"data/sample/leads.csv"', f'"data/sample/{dated.name}"')
    )
    day3 = date(2026, 11, 1)
    assert nightly(config_path=str(config), as_of=day3).status == "published"
    assert {c[-1] for c in _crm(_run_sources(warehouse, day3)).values()} == {"incremental"}
    files = query(warehouse, "select distinct source_file from leads")
    assert files == [(str(dated),)]
    # a past day after a later one (a backfill) runs in full
    runs_before = len(query(warehouse, "select 1 from pipeline_runs"))
    assert nightly(config_path=str(config), as_of=D1).status == "published"
    rows = query(
        warehouse,
        "select list_transform(sources, lambda s: struct_extract(s, 'mode')) from pipeline_runs"
        " order by started_at desc, run_id desc limit 1",
    )
    assert set(rows[0][0]) == {"full"}
    assert len(query(warehouse, "select 1 from pipeline_runs")) == runs_before + 1


def _lineage_in_files(files: list[Path]) -> dict[str, tuple[str, int]]:
    """Lead id (trimmed) -> (file, line) of its row, for the ids with one row in these files."""
    where: dict[str, list[tuple[str, int]]] = {}
    for f in files:
        for number, line in enumerate(f.read_text(encoding="utf-8").splitlines(), start=1):
            if number > 1:
                where.setdefault(line.split(",", 1)[0].strip(), []).append((str(f), number))
    return {lead: rows[0] for lead, rows in where.items() if len(rows) == 1}


def test_carried_rows_point_at_the_file_and_line_they_are_in_tonight(tmp_path: Path) -> None:
    """A source read from a file pattern: last night one file; tonight that file lost rows (the
    carried rows below them move up) and a second file came with a new lead and a changed
    copy of a lead the first file no longer has. Carried rows keep their load but point at
    their line tonight; the rows loaded tonight point at the second file."""
    config = copy_sample(tmp_path)
    sample = tmp_path / "data/sample"
    a, b = sample / "leads-a.csv", sample / "leads-b.csv"
    (sample / "leads.csv").rename(a)
    config.write_text(
        config.read_text().replace('"data/sample/leads.csv"', '"data/sample/leads-*.csv"')
    )
    warehouse = tmp_path / WAREHOUSE / "funnel.duckdb"
    assert nightly(config_path=str(config), as_of=D1).status == "published"

    header, *rows = a.read_text(encoding="utf-8").splitlines(keepends=True)
    gone, moved = rows[100:120], rows[100]
    a.write_text(header + "".join(rows[:100] + rows[120:]), encoding="utf-8")
    new = rows[0].replace(rows[0].split(",", 1)[0], "LD-00077777", 1)
    b.write_text(header + new + moved, encoding="utf-8")
    changed = moved.split(",", 1)[0].strip()
    _edit_lines(b, {moved.split(",", 1)[0]: {LEAD_COLUMNS["company"]: "Moved Ltd"}}, drop=set())
    assert nightly(config_path=str(config), as_of=D2).status == "published"

    assert _run_sources(warehouse, D2)["crm_leads"][-1] == "incremental"
    expected = _lineage_in_files([a, b])
    loaded = {
        str(lead): (str(f), int(line))
        for lead, f, line in query(warehouse, "select lead_id, source_file, source_line from leads")
    }
    unique = {lead: at for lead, at in loaded.items() if lead in expected}
    assert len(unique) > 1900
    assert unique == {lead: expected[lead] for lead in unique}
    last = rows[-1].split(",", 1)[0].strip()
    assert loaded[last] == (str(a), len(rows) + 1 - len(gone))  # carried, 20 lines up
    assert loaded["LD-00077777"] == (str(b), 2)
    assert loaded[changed] == (str(b), 3)
    assert query(warehouse, f"select company from leads where lead_id = '{changed}'") == [
        ("Moved Ltd",)
    ]


def test_lines_a_stopped_run_staged_are_applied_before_a_rebuild_reads_the_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With many carried rows the load stages their lines for tonight and applies them after its
    commit, a part at a time. A run stopped after one part leaves the rest staged (those rows
    still point at last night's lines); a rebuild applies them first and publishes what the
    finished run did, and nothing is left staged."""
    stopped, finished = tmp_path / "stopped", tmp_path / "finished"
    configs = {}
    for root in (stopped, finished):
        root.mkdir()
        configs[root] = str(copy_sample(root))
        assert nightly(config_path=configs[root], as_of=D1).status == "published"
        _next_night(root)  # a lead near the top is gone: the carried leads below move up
    apply_lines = load.apply_lines

    def stop_after_one_part(con: duckdb.DuckDBPyConnection) -> int:
        first = "(source, part) = (select min((source, part)) from state_pending_lines)"
        con.execute(f"create temp table later as from state_pending_lines where not {first}")
        con.execute(f"delete from state_pending_lines where not {first}")
        assert apply_lines(con) == 1
        con.execute("insert into state_pending_lines from later")
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(incremental, "CARRY_ROWS", 400)
        m.setattr(load, "IN_PLACE_ROWS", 0)  # staged, as for many carried rows
        m.setattr(load, "apply_lines", stop_after_one_part)
        with pytest.raises(KeyboardInterrupt):
            nightly(config_path=configs[stopped], as_of=D2)
    assert nightly(config_path=configs[finished], as_of=D2).status == "published"

    state_file = stopped / WAREHOUSE / "funnel.state.duckdb"
    staged = query(
        state_file, "select count(distinct (source, part)), count(*) from state_pending_lines"
    )
    assert staged[0][0] > 1 and staged[0][1] > 1000
    lines = "select lead_id, source_line from raw_leads order by all"
    assert query(state_file, lines) != query(finished / WAREHOUSE / "funnel.state.duckdb", lines)

    assert rebuild(config_path=configs[stopped], as_of=D2).status == "published"
    assert query(state_file, "select count(*) from state_pending_lines") == [(0,)]
    assert query(state_file, lines) == query(finished / WAREHOUSE / "funnel.state.duckdb", lines)
    published, expected = _tables(stopped), _tables(finished)
    del published["pipeline_runs"], expected["pipeline_runs"]  # the stopped run is in one
    assert published == expected


def test_sources_streamed_through_disk_publish_what_sources_read_into_memory_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files above extract.STREAM_BYTES are read batch by batch onto disk, then cleaned and
    checked a slice at a time, and carried rows are parked, their lines staged and applied a
    slice at a time (the in-memory run writes them in the load transaction). Forced here, in
    batches of 300 rows: a full night and an incremental one publish what the same nights read
    into memory publish."""
    streamed, in_memory = tmp_path / "incr", tmp_path / "full"
    configs = {}
    for root in (streamed, in_memory):
        root.mkdir()
        configs[root] = str(copy_sample(root))

    def night(root: Path, day: date) -> dict[str, tuple[object, ...]]:
        with monkeypatch.context() as m:
            if root == streamed:
                m.setattr(extract, "STREAM_BYTES", 0)
                m.setattr(extract, "READ_BATCH_ROWS", 300)
                m.setattr(hygiene, "CLEAN_ROWS", 500)
                m.setattr(validate, "VALIDATE_ROWS", 400)
                m.setattr(incremental, "CARRY_ROWS", 250)
                m.setattr(load, "IN_PLACE_ROWS", 0)
            assert nightly(config_path=configs[root], as_of=day).status == "published"
        return _run_sources(root / WAREHOUSE / "funnel.duckdb", day)

    first = night(streamed, D1)
    assert first == night(in_memory, D1)
    assert _tables(streamed) == _tables(in_memory)
    # the streamed side stores its loaded rows' hashes a lineage file (300 rows) at a time
    hashes = "select * from state_row_hashes order by all"
    stored = query(streamed / WAREHOUSE / "funnel.state.duckdb", hashes)
    assert len(stored) == sum(int(str(c[1])) for c in first.values()) > 0
    assert stored == query(in_memory / WAREHOUSE / "funnel.state.duckdb", hashes)
    for root in (streamed, in_memory):
        _next_night(root)
    counts = night(streamed, D2)
    assert counts == night(in_memory, D2)
    assert {c[-1] for c in _crm(counts).values()} == {"incremental"}
    assert counts["crm_leads"][0] == 2008
    w_streamed, w_in_memory = (r / WAREHOUSE / "funnel.duckdb" for r in (streamed, in_memory))
    assert _quarantine(w_streamed, D2) == _quarantine(w_in_memory, D2)
    assert ("crm_opportunities", 792, "negative amount -24908.0") in _quarantine(w_streamed, D2)
    assert _tables(streamed) == _tables(in_memory)


def _changes_only(config: Path, sources: tuple[str, ...]) -> None:
    """Mark the sources whose path is `data/sample/<name>.csv` as `changes_only`."""
    text = config.read_text()
    for name in sources:
        line = f'path = "data/sample/{name}.csv"\n'
        assert line in text
        text = text.replace(line, line + "changes_only = true\n")
    config.write_text(text)


def _only_lines(path: Path, keys: set[str]) -> None:
    """Keep the header and the lines whose first field is one of `keys`."""
    header, *lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text(header + "".join(x for x in lines if x.split(",", 1)[0] in keys))


def test_an_export_of_changes_only_replaces_its_records_and_keeps_the_others(
    tmp_path: Path,
) -> None:
    delta = tmp_path / "delta"
    delta.mkdir()
    config = copy_sample(delta)
    _changes_only(config, ("leads", "opportunities"))
    # The sample's last edits are of 2026-10-31: from that day on no date of a row is after the
    # as-of day and blanked for it (a file of changes would not bring such a row back the next
    # day, as a full export does: see the README).
    d1, d2 = date(2026, 10, 31), date(2026, 11, 1)
    # night 1: nothing of these sources is loaded yet, so their files load as full exports
    assert nightly(config_path=str(config), as_of=d1).status == "published"
    w_delta = delta / WAREHOUSE / "funnel.duckdb"
    assert {s: c[-1] for s, c in _run_sources(w_delta, d1).items()} == {
        "ecb_rates": "full",
        "crm_leads": "full",
        "crm_opportunities": "full",
        "crm_stage_history": "full",
        "crm_activities": "full",
    }
    lead3_line = query(w_delta, "select source_line from leads where lead_id = 'LD-00000003'")

    # tonight's full export (no deletions: a file of changes cannot tell them) ...
    full = tmp_path / "full"
    shutil.copytree(delta, full)
    (full / "funnel.toml").write_text(config.read_text().replace("changes_only = true\n", ""))
    leads = full / "data/sample/leads.csv"
    lines = _edit_lines(
        leads,
        {
            "LD-00000002": {LEAD_COLUMNS["company"]: "Beaconpeak Holdings"},
            "LD-00001688": {LEAD_COLUMNS["budget"]: "71500.00"},  # was negative: quarantined
        },
        drop=set(),
    )
    ld10 = next(line for line in lines if line.startswith("LD-00000010,"))
    with leads.open("a", encoding="utf-8") as fh:
        fh.write(ld10.replace("LD-00000010,", "LD-00009999,", 1))
    _edit_lines(
        full / "data/sample/opportunities.csv",
        {"OP-00000833": {4: "Negotiation", 13: "2026-10-30 11:00:00"}},
        drop=set(),
    )
    # ... and the same night as files of its changes only
    for name in ("leads", "opportunities"):
        shutil.copy(full / f"data/sample/{name}.csv", delta / f"data/sample/{name}.csv")
    _only_lines(delta / "data/sample/leads.csv", {"LD-00000002", "LD-00001688", "LD-00009999"})
    _only_lines(delta / "data/sample/opportunities.csv", {"OP-00000833"})

    assert nightly(config_path=str(config), as_of=d2).status == "published"
    assert nightly(config_path=str(full / "funnel.toml"), as_of=d2, full=True).status == (
        "published"
    )
    w_full = full / WAREHOUSE / "funnel.duckdb"
    counts = _run_sources(w_delta, d2)
    # read, loaded, quarantined, warned, mode: the changes only, in balance
    assert counts["crm_leads"][0] == 3 and counts["crm_leads"][-1] == "incremental"
    assert counts["crm_opportunities"][0] == 1 and counts["crm_opportunities"][-1] == "incremental"
    for read, loaded, quarantined, _warned, _mode in counts.values():
        assert read == loaded + quarantined
    assert _run_sources(w_full, d2)["crm_leads"][0] == 2008  # the whole export, read again
    # the fixed lead is loaded now; the leads the file leaves out stay as night 1 loaded them
    rows = dict(query(w_delta, "select lead_id, budget from leads where lead_id = 'LD-00001688'"))
    assert rows == {"LD-00001688": 71500.0}
    assert (
        query(w_delta, "select source_line from leads where lead_id = 'LD-00000003'") == lead3_line
    )
    assert query(
        w_delta, "select company, source_line from leads where lead_id = 'LD-00000002'"
    ) == [("Beaconpeak Holdings", 2)]

    # every table the rows make equals the full run's over the whole export (but the line a row
    # was read from: the file of changes has its own lines)
    modelled = tuple(t for t in PUBLISHED_TABLES if not t.startswith(("dq_", "pipeline_")))
    skip = frozenset({"source_line"})
    tables_delta, tables_full = _tables(delta, modelled, skip), _tables(full, modelled, skip)
    assert tables_delta.keys() == tables_full.keys()
    for name in modelled:
        assert tables_delta[name] == tables_full[name], name
    assert query(
        w_delta, "select stage from opportunities where opportunity_id = 'OP-00000833'"
    ) == [("negotiation",)]
