"""The config the benchmark writes for its funnel runs."""

from __future__ import annotations

from pathlib import Path

from bench.run import copy_state, write_config
from funnel.config import load_config


def test_the_bench_config_points_at_the_export_with_the_memory_limit_asked_for(
    tmp_path: Path,
) -> None:
    export, warehouse = tmp_path / "export", tmp_path / "wh" / "funnel.duckdb"
    default = load_config(write_config(export, warehouse, tmp_path / "a.toml"))
    assert default.warehouse.memory_limit == "1GB"
    assert default.warehouse_path == warehouse
    assert default.sources[0].path == str(export / "leads.csv")
    big = load_config(write_config(export, warehouse, tmp_path / "b.toml", "4.5GB"))
    assert big.warehouse.memory_limit == "4.5GB"
    assert big.warehouse_path == warehouse


def test_the_changes_only_config_marks_every_source_and_finds_the_copied_state(
    tmp_path: Path,
) -> None:
    export, warehouse = tmp_path / "export", tmp_path / "wh" / "funnel.duckdb"
    full = write_config(export, warehouse, tmp_path / "full.toml")
    assert not any(s.changes_only for s in load_config(full).sources)
    warehouse.parent.mkdir()
    warehouse.write_bytes(b"warehouse")
    load_config(full).state_path.write_bytes(b"state")
    # the full run's files, copied where the changes-only run's config looks for them
    copied = copy_state(full, tmp_path / "changes-wh")
    changes = load_config(
        write_config(tmp_path / "changes", copied, tmp_path / "c.toml", "2GB", changes_only=True)
    )
    # every CRM source; the exchange rates are read whole every run
    assert [s.changes_only for s in changes.sources] == [True] * 4 + [False]
    assert [s.path for s in changes.sources] == [
        str(tmp_path / "changes" / f)
        for f in (
            "leads.csv",
            "opportunities.csv",
            "stage_history.csv",
            "activities.csv",
            "eurofxref-hist.csv",
        )
    ]
    assert changes.warehouse.memory_limit == "2GB"
    assert changes.warehouse_path == tmp_path / "changes-wh" / "funnel.duckdb"
    assert changes.warehouse_path.read_bytes() == b"warehouse"
    assert changes.state_path.read_bytes() == b"state"
