"""`funnel serve` against a real `prefect server start`: a scheduled run publishes the warehouse."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

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


def test_prefect_yaml_deploys_to_a_process_pool_and_a_worker_runs_it(
    tmp_path: Path, prefect_api: tuple[str, dict[str, str]]
) -> None:
    api, env = prefect_api
    env = {**env, "PWD": str(REPO)}
    _prefect(env, "work-pool", "create", "funnel-process", "--type", "process")
    _prefect(env, "deploy", "--all")
    deployments = requests.post(
        f"{api}/deployments/filter",
        json={"deployments": {"name": {"any_": ["nightly"]}}, "work_pools": {}},
        timeout=10,
    ).json()
    ours = [d for d in deployments if d["work_pool_name"] == "funnel-process"]
    assert len(ours) == 1
    (d,) = ours
    assert d["entrypoint"] == "flows/nightly.py:nightly"
    assert d["parameters"] == {"config_path": "funnel.toml"}
    assert [(s["schedule"]["cron"], s["schedule"]["timezone"]) for s in d["schedules"]] == [
        ("0 2 * * *", "UTC")
    ]
    # a run of the deployment on a tiny export, picked up by a process worker
    config = write_project(tmp_path / "project")
    _prefect(env, "deployment", "run", "funnel-nightly/nightly", "--param", f"config_path={config}")
    _prefect(env, "worker", "start", "--pool", "funnel-process", "--run-once")
    warehouse = tmp_path / "project" / "warehouse" / "funnel.duckdb"
    assert query(warehouse, "select status from pipeline_runs") == [("published",)]
