"""A CRM API that echoes the request's token in its error answer never gets the token written
anywhere (issue 20, failure 1).

Two real `funnel run` processes, each with its own temporary Prefect server whose database
lives in this test's PREFECT_HOME: the first meets a HubSpot stand-in answering 400 with the
`Authorization` header echoed in its body (the run fails and alerts), the second meets it
answering properly (the run publishes, and its `pipeline_runs` carries the first run's error).
Then the token is searched for, as bytes, in both runs' stdout and stderr, the state file, the
published warehouse, the report, every file under PREFECT_HOME and every webhook body.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.integration.crm_standins import mock_hubspot
from tests.integration.crm_standins.records import deals
from tests.integration.crm_standins.server import Request, Response
from tests.integration.ops_helpers import (
    WEBHOOK_ENV,
    query,
    run_in_group,
    webhook,
    write_project,
)

pytestmark = pytest.mark.slow

TOKEN_ENV = "FUNNEL_TEST_LEAK_TOKEN"
TOKEN = "pat-eu1-LEAKCHECK-7f3a9c1e-5b2d-4e8f"


class EchoingHubSpot(mock_hubspot.HubSpotApi):
    """HubSpot that, while `echo` is set, answers 400 with the request's headers echoed."""

    echo = True

    def authorized(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {TOKEN}"

    def route(self, request: Request) -> Response:
        if self.echo:
            auth = request.headers.get("authorization", "")
            return Response(
                400,
                {
                    "status": "error",
                    "message": f"Invalid request: header Authorization={auth} is not allowed here",
                    "request": {"headers": dict(request.headers)},
                },
            )
        return super().route(request)


def _run(config: Path, home: Path, webhook_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PYTHONPATH=str(REPO),
        **{TOKEN_ENV: TOKEN, WEBHOOK_ENV: webhook_url},
    )
    return run_in_group(
        [sys.executable, "-m", "funnel", "run", "--config", str(config), "--as-of", "2026-10-31"],
        env=env,
        timeout=400,
    )


def test_an_echoed_token_is_written_nowhere(tmp_path: Path) -> None:
    config = write_project(tmp_path / "project")
    home = tmp_path / "prefect-home"
    with EchoingHubSpot(deals()) as api, webhook() as hook:
        config.write_text(
            config.read_text()
            + f"""
[[sources]]
name = "hs_deals"
entity = "opportunities"
format = "hubspot_api"
token_env = "{TOKEN_ENV}"
base_url = "{api.url}"
timeout = 5
retries = 0
"""
        )
        failed = _run(config, home, hook.url)
        api.echo = False
        published = _run(config, home, hook.url)
    # the attack happened: the token went to the API and came back in its answer
    assert any(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in api.log)
    assert failed.returncode == 1, failed.stderr[-3000:]
    assert published.returncode == 0, published.stderr[-3000:]

    warehouse = config.parent / "warehouse" / "funnel.duckdb"
    (message,) = query(warehouse, "select message from pipeline_runs where status = 'failed'")[0]
    assert message == (
        "source 'hs_deals': GET /crm/v3/objects/deals answered HTTP 400: Invalid request:"
        " header Authorization=[redacted] is not allowed here"
    )
    assert "[redacted]" in failed.stderr
    # one alert for the failed run (the published one may alert too: its CRM stand-in's records
    # are older than the freshness limit); every body is searched for the token below
    failures = [text for text in hook.delivered if text.startswith("*funnel failed*")]
    assert len(failures) == 1 and "answered HTTP 400" in failures[0]

    secret = TOKEN.encode()
    places: dict[str, bytes] = {
        "stdout": (failed.stdout + published.stdout).encode(),
        "stderr": (failed.stderr + published.stderr).encode(),
        "webhook bodies": json.dumps(hook.posts).encode(),
    }
    for path in [*config.parent.rglob("*"), *home.rglob("*")]:
        if path.is_file():
            places[str(path)] = path.read_bytes()
    assert home / "prefect.db" in [Path(p) for p in places]  # Prefect's database is searched
    assert warehouse.with_name("report.html") in [Path(p) for p in places]
    leaks = [where for where, text in places.items() if secret in text]
    assert leaks == []
