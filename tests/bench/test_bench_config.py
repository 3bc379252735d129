"""The config the benchmark writes for its funnel runs."""

from __future__ import annotations

from pathlib import Path

from bench.run import write_config
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
