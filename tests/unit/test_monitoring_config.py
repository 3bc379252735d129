"""[monitoring]: defaults, mistakes named by key, and the typed row the models read."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from funnel import sqlmodels
from funnel.config import MONITORED_METRICS, load_config
from funnel.errors import ConfigError
from funnel.warehouse import create_monitoring_tables

BASE = """
[[sources]]
name = "deals"
entity = "opportunities"
path = "deals.csv"
"""


def _load(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "funnel.toml"
    path.write_text(BASE + extra)
    return path


def test_defaults(tmp_path: Path) -> None:
    monitoring = load_config(_load(tmp_path)).monitoring
    assert monitoring.windows == ["7d", "28d"]
    assert (monitoring.baseline_windows, monitoring.warn_z, monitoring.alert_z) == (4, -2.0, -3.0)
    assert monitoring.min_n == 20
    assert monitoring.metrics == list(MONITORED_METRICS)
    assert monitoring.dimensions == ["owner", "source"]
    assert monitoring.mutes == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('[monitoring]\nwindows = ["4w"]', "monitoring.windows: '4w' is not a window"),
        ('[monitoring]\nmetrics = ["churn"]', "'churn' is not a metric"),
        ('[monitoring]\ndimensions = ["team"]', "'team' is not a dimension"),
        ("[monitoring]\nwarn_z = -3\nalert_z = -2", "alert_z (-2.0) must be at or below warn_z"),
        ("[monitoring]\nwarn_z = 1", "monitoring.warn_z"),
        ("[monitoring]\nmin_n = 0", "monitoring.min_n"),
        ('[[monitoring.mutes]]\nmetric = "nps"', "monitoring.mutes[0].metric"),
        ('[[monitoring.mutes]]\nmetric = "win_rate"\ndimension = "x"', "'x' is not a dimension"),
        ("[monitoring]\nthreshold = 2", "monitoring.threshold: unknown key"),
    ],
)
def test_mistakes_name_the_key(tmp_path: Path, extra: str, message: str) -> None:
    path = _load(tmp_path, extra)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value)
    assert message in str(err.value)


def test_the_models_read_the_settings_and_mutes(tmp_path: Path) -> None:
    config = load_config(
        _load(
            tmp_path,
            '[monitoring]\nwindows = ["14d"]\nmin_n = 50\nmetrics = ["win_rate"]\n'
            'dimensions = ["owner"]\n[[monitoring.mutes]]\nmetric = "win_rate"\n'
            'dimension = "owner"\nvalue = "bob"\n',
        )
    )
    con = duckdb.connect()
    create_monitoring_tables(con, config.monitoring, config.hygiene, config.response.sla_minutes)
    staging = next(m for m in sqlmodels.discover() if m.name == "stg_monitoring_config")
    row = con.execute(sqlmodels._body(staging.sql)).fetchall()
    assert row == [(["14d"], 4, -2.0, -3.0, 50, ["win_rate"], ["owner"])]
    assert con.execute("select * from cfg_monitoring_mutes").fetchall() == [
        ("win_rate", "owner", "bob")
    ]


def test_hygiene_defaults_and_mistakes(tmp_path: Path) -> None:
    hygiene = load_config(_load(tmp_path)).hygiene
    assert hygiene.required_open_fields == ["owner", "amount", "expected_close_date"]
    assert hygiene.stale_activity_days == 14
    path = _load(tmp_path, '[hygiene]\nrequired_open_fields = ["stage", "amount"]\n')
    with pytest.raises(ConfigError, match=r"hygiene.required_open_fields: 'stage' is not an"):
        load_config(path)
    # the first-touch SLA is [response] sla_minutes, shared with lead_response
    with pytest.raises(ConfigError, match=r"hygiene.lead_sla_minutes: unknown key"):
        load_config(_load(tmp_path, "[hygiene]\nlead_sla_minutes = 60\n"))
