"""Shared fixtures: the real exports folder, and one Prefect test server per session."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SAMPLE = REPO / "data" / "sample"


def copy_sample(root: Path) -> Path:
    """The default config and the bundled sample copied into `root`; returns the config's path."""
    shutil.copy(REPO / "funnel.toml", root / "funnel.toml")
    shutil.copytree(SAMPLE, root / "data" / "sample")
    return root / "funnel.toml"


#: The published tables CONTRACT.md names (analysts build on these names).
CONTRACT_TABLES = (
    "leads",
    "opportunities",
    "funnel_daily",
    "funnel_metrics_daily",
    "owner_metrics_daily",
    "source_metrics_daily",
    "stage_conversion",
    "stage_transitions",
    "pipeline_forecast",
    "lead_qualification",
    "dq_results",
    "dq_quarantine",
    "pipeline_runs",
)
#: Published tables beyond the contract (README: "Bottlenecks, qualification, forecast and
#: touches").
INSIGHT_TABLES = (
    "stage_durations",
    "stage_bottlenecks_weekly",
    "qualification_outcomes",
    "forecast_lookback",
    "activity_outcomes",
    "post_sale_handoffs",
)
#: Published tables of the issue on silent wrong numbers (one reporting currency).
CURRENCY_TABLES = ("exchange_rates",)
#: Published tables of issue 23 (revenue operations by fiscal period).
PERIOD_TABLES = (
    "calendar",
    "opportunity_changes",
    "pipeline_flow",
    "target_attainment",
    "period_metrics",
    "period_lost_reasons",
)
#: Published tables of issue 24 (monitoring the funnel).
MONITORING_TABLES = (
    "metric_windows",
    "metric_checks",
    "open_deal_health",
    "lead_followup",
    "owner_hygiene_daily",
    "lead_response",
    "response_metrics_daily",
    "touches_to_outcome",
    "lost_reasons",
    "nurture_returns",
)
#: Every table the warehouse publishes (every model in sql/marts).
PUBLISHED_TABLES = (
    CONTRACT_TABLES + INSIGHT_TABLES + CURRENCY_TABLES + PERIOD_TABLES + MONITORING_TABLES
)

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data, the real public exports; tests using it skip where it is absent."""
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{SHARED_DATA} is missing: CI always has ../shared/data")
        pytest.skip(f"{SHARED_DATA} not present (a clone without ../shared): acceptance skipped")
    return SHARED_DATA


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A real Prefect API (temporary server + SQLite) shared by every flow test."""
    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_HOME,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    home = tmp_path_factory.mktemp("prefect-home")
    with (
        temporary_settings({PREFECT_HOME: home, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}),
        prefect_test_harness(server_startup_timeout=60),
    ):
        yield


#: The as-of day `make run` publishes the bundled sample for.
SAMPLE_AS_OF = date(2026, 10, 31)


@pytest.fixture(scope="session")
def sample_project(tmp_path_factory: pytest.TempPathFactory, prefect_server: None) -> Path:
    """The bundled sample published as `make run` does (a real flow run, real DuckDB files), in
    a folder of its own; tests read it and must not change it. Returns the config path."""
    from flows.nightly import nightly

    config = copy_sample(tmp_path_factory.mktemp("sample"))
    summary = nightly(config_path=str(config), as_of=SAMPLE_AS_OF)
    assert summary.status == "published"
    return config
