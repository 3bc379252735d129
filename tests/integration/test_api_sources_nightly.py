"""API sources through the real nightly flow (Prefect, DuckDB files) against local servers.

Per CRM: a first run pulls everything through paging and injected faults (429 with
Retry-After, a 500, a timeout); the same records as export files publish the same numbers; a
second run after one deal changed asks only for changes and moves only that deal; a pull that
fails midway leaves the state file, the watermark and the published warehouse as they were.
"""

from __future__ import annotations

import hashlib
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flows.nightly import nightly
from funnel.connectors.http import ConnectorError
from tests.integration.crm_standins import mock_hubspot, mock_pipedrive, mock_salesforce
from tests.integration.crm_standins.records import AS_OF, Deal, changed_one, ts
from tests.integration.crm_standins.server import Fault, MockApi

pytestmark = [pytest.mark.usefixtures("prefect_server"), pytest.mark.slow]

OPPORTUNITY_COLUMNS = (
    "opportunity_id, stage, owner, amount, created_at, expected_close_date, closed_at, probability,"
    " is_open, is_won, cycle_days"
)


@dataclass(frozen=True)
class Crm:
    name: str
    token_env: str
    token: str
    #: The path the first run's faults are injected on (the opportunities list).
    list_path: str
    #: A path only the incremental stage-history pull calls after the opportunities succeeded.
    history_path: str

    def write_exports(self, folder: Path, deals: list[Deal]) -> str:
        """Export files of the deals; the [[sources]] TOML that reads them with the preset."""
        folder.mkdir(parents=True, exist_ok=True)
        src = f'format = "{self.name}"\n'
        if self.name == "hubspot":
            mock_hubspot.write_deals_export(folder / "deals.csv", deals)
        elif self.name == "pipedrive":
            mock_pipedrive.write_deals_export(folder / "deals.csv", deals)
        else:
            mock_salesforce.write_opportunities_report(folder / "deals.csv", deals)
            mock_salesforce.write_history_report(folder / "history.csv", deals)
        out = f'[[sources]]\nname = "deals"\nentity = "opportunities"\n{src}path = "deals.csv"\n'
        if self.name == "salesforce":
            out += f'[[sources]]\nname = "history"\nentity = "stage_history"\n{src}'
            out += 'path = "history.csv"\n'
        return out

    def api_sources(self, api: MockApi, retries: int = 3) -> str:
        out = ""
        for name, entity in (("deals", "opportunities"), ("history", "stage_history")):
            out += textwrap.dedent(f"""
                [[sources]]
                name = "{name}"
                entity = "{entity}"
                format = "{self.name}_api"
                token_env = "{self.token_env}"
                base_url = "{api.url}"
                timeout = 1.5
                retries = {retries}
                backoff = 0.1
                """)
        return out


CRMS = {
    "hubspot": Crm(
        "hubspot",
        "TEST_HUBSPOT_TOKEN",
        mock_hubspot.TOKEN,
        "/crm/v3/objects/deals",
        "/crm/v3/objects/deals/batch/read",
    ),
    "pipedrive": Crm(
        "pipedrive",
        "TEST_PIPEDRIVE_TOKEN",
        mock_pipedrive.TOKEN,
        "/v1/deals",
        "/v1/deals/1003/flow",
    ),
    "salesforce": Crm(
        "salesforce",
        "TEST_SALESFORCE_TOKEN",
        mock_salesforce.TOKEN,
        "/services/data/v60.0/query",
        "/services/data/v60.0/query",
    ),
}


def project(folder: Path, sources: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    cfg = folder / "funnel.toml"
    cfg.write_text('[warehouse]\npath = "wh/funnel.duckdb"\ntimezone = "UTC"\n\n' + sources)
    return cfg


def query(path: Path, sql: str) -> pl.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql(sql).pl()


def published(folder: Path) -> dict[str, pl.DataFrame]:
    wh = folder / "wh" / "funnel.duckdb"
    return {
        # The as-of day: past days' weighted pipeline also reads stage history, which the API
        # pulls and the export fixtures do not carry.
        "funnel_metrics_daily": query(
            wh,
            "select * from funnel_metrics_daily"
            " where day = (select max(day) from funnel_metrics_daily) order by all",
        ),
        "opportunities": query(
            wh, f"select {OPPORTUNITY_COLUMNS} from opportunities order by opportunity_id"
        ),
    }


def assert_same(a: dict[str, pl.DataFrame], b: dict[str, pl.DataFrame]) -> None:
    for table in a:
        assert a[table].height > 0, table
        assert_frame_equal(a[table], b[table], check_exact=False, rel_tol=1e-9)


def state_rows(folder: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(folder / "wh" / "funnel.state.duckdb"), read_only=True) as con:
        return con.execute(sql).fetchall()


def rows_read(summary: Any, source: str) -> int:
    (n,) = [s.rows_read for s in summary.sources if s.source == source]
    return int(n)


@pytest.mark.parametrize("crm_name", list(CRMS))
def test_api_pull_equals_export_then_pulls_only_changes(
    crm_name: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    crm = CRMS[crm_name]
    api: Any = request.getfixturevalue(f"{crm_name}_api")
    monkeypatch.setenv(crm.token_env, crm.token)
    api.faults[crm.list_path] = [Fault(429, {"Retry-After": "1"}), Fault(500), Fault(delay=2.0)]

    # 1. full pull through faults and paging == the same records as export files
    api_cfg = project(tmp_path / "api", crm.api_sources(api))
    first = nightly(config_path=str(api_cfg), as_of=AS_OF)
    assert first.status == "published"
    assert rows_read(first, "deals") == 7
    assert api.faults[crm.list_path] == []  # the 429, the 500 and the timeout were served
    export_cfg = project(tmp_path / "export", crm.write_exports(tmp_path / "export", api.deals))
    nightly(config_path=str(export_cfg), as_of=AS_OF)
    assert_same(published(tmp_path / "api"), published(tmp_path / "export"))
    (mark1,) = state_rows(
        tmp_path / "api", "select watermark from state_watermarks where source = 'deals'"
    )[0]

    # 2. one deal changes: the next run asks only for changes and moves only that deal
    api.deals, changed = changed_one(api.deals)
    api.log.clear()
    second = nightly(config_path=str(api_cfg), as_of=AS_OF)
    assert rows_read(second, "deals") == 1
    asked = [(r.path, r.query, r.body) for r in api.log]
    if crm_name == "hubspot":
        # no list call: a search for changes, then the owners' names
        assert {(r.method, r.path) for r in api.log if r.method == "GET"} == {
            ("GET", "/crm/v3/owners")
        }
        assert {r.body["filterGroups"][0]["filters"][0]["value"] for r in api.log
                if r.path.endswith("/search")} == {mark1}  # fmt: skip
    elif crm_name == "pipedrive":
        assert not any(p == "/v1/deals" for p, _, _ in asked)
        assert {q["since_timestamp"] for p, q, _ in asked if p == "/v1/recents"} == {mark1}
        assert [p for p, _, _ in asked if p.endswith("/flow")] == ["/v1/deals/1004/flow"] * 2
    else:
        soql = [q["q"] for p, q, _ in asked if "q" in q]
        assert len(soql) == 2 and all(" > 2026-07-07T10:20:00Z" in q for q in soql)
    ((run2,),) = state_rows(tmp_path / "api", "select max(run_id) from log_pipeline_runs")
    moved = state_rows(
        tmp_path / "api",
        f"select opportunity_id, stage from raw_opportunities where run_id = '{run2}'",
    )
    assert [(i[-4:], s) for i, s in moved] == [(changed.id, "won")]
    assert state_rows(tmp_path / "api", "select count(*) from raw_opportunities") == [(7,)]
    # nothing changed since: an empty incremental pull publishes and keeps every row
    third = nightly(config_path=str(api_cfg), as_of=AS_OF)
    assert (third.status, rows_read(third, "deals"), rows_read(third, "history")) == (
        "published", 0, 0
    )  # fmt: skip
    assert state_rows(tmp_path / "api", "select count(*) from raw_opportunities") == [(7,)]
    # ... and publishes what a full export of the changed records publishes
    export2 = project(tmp_path / "export2", crm.write_exports(tmp_path / "export2", api.deals))
    nightly(config_path=str(export2), as_of=AS_OF)
    assert_same(published(tmp_path / "api"), published(tmp_path / "export2"))
    marks = state_rows(
        tmp_path / "api", "select source, watermark from state_watermarks order by 1"
    )
    assert [m for _, m in marks] == [marks[0][1]] * 2 and marks[0][1] > mark1

    # 3. a pull that fails midway (deals pulled, history keeps failing) changes nothing
    api.deals = [
        d.moved_to("won", ts("2026-10-25 09:00:00"), 1.0) if d.id == "1003" else d
        for d in api.deals
    ]
    wh = tmp_path / "api" / "wh" / "funnel.duckdb"
    before = hashlib.sha256(wh.read_bytes()).hexdigest()
    raw_before = state_rows(tmp_path / "api", "select * from raw_opportunities order by all")
    api.log.clear()
    if crm_name == "salesforce":
        api.faults[crm.history_path] = [Fault(), Fault(500), Fault(500)]
    else:
        api.broken[crm.history_path] = Fault(500)
    api_cfg = project(tmp_path / "api", crm.api_sources(api, retries=1))
    with pytest.raises(ConnectorError, match=r"source 'history': .* failed after 2 attempts"):
        nightly(config_path=str(api_cfg), as_of=AS_OF)
    assert hashlib.sha256(wh.read_bytes()).hexdigest() == before
    assert (
        state_rows(tmp_path / "api", "select * from raw_opportunities order by all") == raw_before
    )
    assert (
        state_rows(tmp_path / "api", "select source, watermark from state_watermarks order by 1")
        == marks
    )


def test_bad_token_fails_the_run_with_exit_2_naming_the_source(
    hubspot_api: MockApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_HUBSPOT_TOKEN", "revoked-token-123")
    cfg = project(tmp_path, CRMS["hubspot"].api_sources(hubspot_api))
    with pytest.raises(Exception) as e:
        nightly(config_path=str(cfg), as_of=AS_OF)
    assert getattr(e.value, "exit_code", None) == 2
    assert "source 'deals'" in str(e.value) and "$TEST_HUBSPOT_TOKEN" in str(e.value)
    assert "revoked-token-123" not in str(e.value)
    assert not (tmp_path / "wh" / "funnel.duckdb").exists()
