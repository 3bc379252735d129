"""`funnel serve` and `funnel deploy` against a real `prefect server start`: a scheduled run
publishes the warehouse, and its Prefect record names each task run by source and entity and
carries the run's summary and failed checks as artifacts."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from funnel.config import load_config
from funnel.run_record import FAILED_CHECKS_KEY, SUMMARY_KEY
from tests.conftest import REPO
from tests.integration.ops_helpers import query, write_project

pytestmark = pytest.mark.slow

PREFECT = Path(sys.executable).parent / "prefect"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(what: str, ready: object, timeout: float, process: subprocess.Popen[bytes]) -> None:
    """Poll `ready()` until true; fail naming `what` when the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{what}: process exited with {process.returncode}"
        if ready():  # type: ignore[operator]
            return
        time.sleep(0.5)
    pytest.fail(f"{what}: not ready within {timeout} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """`prefect server start` on a free loopback port with its own PREFECT_HOME; stopped after."""
    tmp_path = tmp_path_factory.mktemp("prefect-server")
    port = _free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PYTHONPATH": str(REPO),
    }
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    api = env["PREFECT_API_URL"]

    def healthy() -> bool:
        try:
            return requests.get(f"{api}/health", timeout=2).ok
        except requests.RequestException:
            return False

    try:
        _wait("prefect server", healthy, 120, server)
        yield api, env
    finally:
        _stop(server)
        log.close()


def test_served_deployment_runs_on_schedule_and_publishes(
    tmp_path: Path, prefect_api: tuple[str, dict[str, str]]
) -> None:
    api, env = prefect_api
    config = write_project(tmp_path / "project")
    warehouse = tmp_path / "project" / "warehouse" / "funnel.duckdb"
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [sys.executable, "-m", "funnel", "serve", "--config", str(config), "--interval", "5"],
        env={**env, "PREFECT_RUNNER_POLL_FREQUENCY": "2"},
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    today = datetime.now(UTC).date()  # the config's warehouse zone is UTC
    try:
        _wait("a scheduled run publishing the warehouse", warehouse.is_file, 240, serve)
    finally:
        _stop(serve)
        log.close()

    # the first scheduled run published; a later one may have been stopped with the server
    runs = query(warehouse, "select run_id, as_of, status, alerts_sent from pipeline_runs")
    published = [r for r in runs if r[2] == "published"]
    assert len(published) >= 1
    assert all(as_of == today and alerts == 0 for _, as_of, _, alerts in published)
    assert query(warehouse, "select count(*) from opportunities") == [(10,)]
    # it was a scheduled flow run of the served deployment
    deployments = requests.post(f"{api}/deployments/filter", json={}, timeout=10).json()
    assert [(d["name"], d["schedules"][0]["schedule"]["interval"]) for d in deployments] == [
        ("nightly", 5.0)
    ]
    completed = requests.post(
        f"{api}/flow_runs/filter",
        json={"flow_runs": {"state": {"type": {"any_": ["COMPLETED"]}}}},
        timeout=10,
    ).json()
    assert len(completed) >= 1
    assert {r["deployment_id"] for r in completed} == {deployments[0]["id"]}
    assert all(r["auto_scheduled"] for r in completed)
    # the published run's Prefect record: task runs by source and entity, and its artifacts
    run_id = str(published[0][0])
    flow_run = _flow_run_of(api, run_id)
    assert flow_run["deployment_id"] == deployments[0]["id"]
    names = {t["name"] for t in _post(api, "task_runs/filter", {"flow_runs": _ids(flow_run)})}
    assert names >= {
        "extract[crm_leads]", "extract[crm_deals]", "clean[crm_leads]", "clean[crm_deals]",
        "validate[leads]", "validate[opportunities]", "gate", "load", "build-models",
        "publish", "record-run",
    }  # fmt: skip
    _assert_artifacts(api, flow_run, config, run_id, "published")


def _post(api: str, path: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = requests.post(f"{api}/{path}", json=body, timeout=10)
    response.raise_for_status()
    return list(response.json())


def _ids(run: dict[str, Any]) -> dict[str, Any]:
    return {"id": {"any_": [run["id"]]}}


def _artifacts(api: str, flow_run: dict[str, Any]) -> list[dict[str, Any]]:
    return _post(
        api, "artifacts/filter", {"artifacts": {"flow_run_id": {"any_": [flow_run["id"]]}}}
    )


def _flow_run_of(api: str, run_id: str) -> dict[str, Any]:
    """The flow run whose summary artifact names funnel run `run_id`."""
    summaries = _post(api, "artifacts/filter", {"artifacts": {"key": {"any_": [SUMMARY_KEY]}}})
    (ours,) = [a for a in summaries if f"funnel run {run_id}:" in a["data"]]
    (flow_run,) = _post(
        api, "flow_runs/filter", {"flow_runs": {"id": {"any_": [ours["flow_run_id"]]}}}
    )
    return flow_run


def _assert_artifacts(
    api: str, flow_run: dict[str, Any], config: Path, run_id: str, status: str
) -> None:
    """The flow run's summary and failed-checks artifacts say what the run's log says."""
    artifacts = _artifacts(api, flow_run)
    by_key = {a["key"]: a for a in artifacts if a["key"]}  # Prefect adds unkeyed ones of its own
    assert set(by_key) == {SUMMARY_KEY, FAILED_CHECKS_KEY}
    assert by_key[SUMMARY_KEY]["type"] == "markdown"
    summary = by_key[SUMMARY_KEY]["data"]
    assert summary.startswith(f"# funnel run {run_id}: {status}\n")
    state_file = load_config(config).state_path
    sources = query(
        state_file,
        "select source, entity, rows_read, rows_loaded, rows_quarantined, rows_warned"
        f" from log_run_sources where run_id = '{run_id}' order by source",
    )
    assert len(sources) == 2
    for row in sources:
        assert (
            "| " + " | ".join(f"{v:,}" if isinstance(v, int) else str(v) for v in row) + " |"
            in summary
        )
    failed = query(
        state_file,
        'select source, "check", severity, rows_failed, rows_checked from log_dq_results'
        f" where run_id = '{run_id}' and not passed order by all",
    )
    assert by_key[FAILED_CHECKS_KEY]["type"] == "table"
    table = json.loads(by_key[FAILED_CHECKS_KEY]["data"])
    assert sorted(tuple(r.values()) for r in table) == sorted(failed)
    if status == "published":
        assert "## Headline figures\n\n| window | currency |" in summary
    else:
        assert "None: nothing was published." in summary
        assert failed and f"{len(failed)} failed" in summary


def test_a_run_that_fails_its_checks_leaves_its_failed_checks_in_prefect(
    tmp_path: Path, prefect_api: tuple[str, dict[str, str]]
) -> None:
    api, env = prefect_api
    config = write_project(tmp_path / "project", negative_amounts=3)
    result = subprocess.run(
        [sys.executable, "-m", "funnel", "run", "--config", str(config)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 3, result.stderr
    state_file = load_config(config).state_path
    ((run_id, status),) = query(state_file, "select run_id, status from log_pipeline_runs")
    assert status == "failed_dq"
    flow_run = _flow_run_of(api, str(run_id))
    names = {t["name"] for t in _post(api, "task_runs/filter", {"flow_runs": _ids(flow_run)})}
    assert {"validate[opportunities]", "gate", "record-run"} <= names
    assert "load" not in names
    _assert_artifacts(api, flow_run, config, str(run_id), "failed_dq")
    (table,) = [a for a in _artifacts(api, flow_run) if a["key"] == FAILED_CHECKS_KEY]
    failed = json.loads(table["data"])
    assert any(
        r["source"] == "crm_deals" and r["severity"] == "error" and r["rows_failed"] == 3
        for r in failed
    )


def _prefect(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(PREFECT), "--no-prompt", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_funnel_deploy_puts_the_config_schedule_on_a_process_pool_and_a_worker_runs_it(
    tmp_path: Path, prefect_api: tuple[str, dict[str, str]]
) -> None:
    api, env = prefect_api
    config = write_project(tmp_path / "project")  # [schedule] 0 2 * * * in Europe/Berlin
    _prefect(env, "work-pool", "create", "funnel-process", "--type", "process")
    deployed = subprocess.run(
        [sys.executable, "-m", "funnel", "deploy", "--config", str(config)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert "deployed funnel-nightly/nightly to work pool 'funnel-process'" in deployed.stdout
    deployments = requests.post(
        f"{api}/deployments/filter",
        json={"deployments": {"name": {"any_": ["nightly"]}}, "work_pools": {}},
        timeout=10,
    ).json()
    ours = [d for d in deployments if d["work_pool_name"] == "funnel-process"]
    assert len(ours) == 1
    (d,) = ours
    assert d["entrypoint"] == "flows/nightly.py:nightly"
    assert d["parameters"] == {"config_path": str(config.resolve())}
    assert [(s["schedule"]["cron"], s["schedule"]["timezone"]) for s in d["schedules"]] == [
        ("0 2 * * *", "Europe/Berlin")
    ]
    # a run of the deployment, picked up by a process worker
    _prefect(env, "deployment", "run", "funnel-nightly/nightly")
    _prefect(env, "worker", "start", "--pool", "funnel-process", "--run-once")
    warehouse = tmp_path / "project" / "warehouse" / "funnel.duckdb"
    assert query(warehouse, "select status from pipeline_runs") == [("published",)]
