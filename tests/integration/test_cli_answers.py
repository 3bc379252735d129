"""Smoke: the command answers, and a wrong config exits 2 naming the key (no Prefect needed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO


def _funnel(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "funnel", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
    )


def test_help_lists_the_commands() -> None:
    result = _funnel("--help")
    assert result.returncode == 0
    for command in ("run", "rebuild", "generate", "serve"):
        assert command in result.stdout


def test_the_temporary_server_gets_two_minutes_to_start_unless_the_user_says() -> None:
    """A fresh PREFECT_HOME's temporary server took over Prefect's 20 s default to start on a
    slow machine; the CLI's default applies only where the environment sets none."""
    code = (
        "import funnel.cli\n"
        "from prefect.settings import get_current_settings as s\n"
        "print(s().server.ephemeral.startup_timeout_seconds)"
    )

    def timeout(extra: dict[str, str]) -> str:
        env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", **extra}
        run = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
        )
        assert run.returncode == 0, run.stderr
        return run.stdout.strip()

    assert timeout({}) == "120"
    assert timeout({"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "45"}) == "45"


def test_flows_import() -> None:
    from flows.nightly import nightly

    assert nightly.name == "funnel-nightly"


def test_wrong_config_key_exits_2_naming_file_and_key(tmp_path: Path) -> None:
    cfg = (REPO / "funnel.toml").read_text().replace("[warehouse]", "[warehouse]\ncolour = 1", 1)
    (tmp_path / "funnel.toml").write_text(cfg)
    result = _funnel("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "funnel.toml: warehouse.colour: unknown key" in result.stderr


def test_bad_as_of_exits_2() -> None:
    result = _funnel("run", "--as-of", "31/12/2017")
    assert result.returncode == 2
    assert "--as-of" in result.stderr


def test_missing_export_file_exits_2_naming_the_source(tmp_path: Path) -> None:
    (tmp_path / "funnel.toml").write_text((REPO / "funnel.toml").read_text())
    result = _funnel("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "no file matches" in result.stderr
    assert "sources[" in result.stderr


def test_rebuild_without_stored_state_exits_2(tmp_path: Path) -> None:
    (tmp_path / "funnel.toml").write_text((REPO / "funnel.toml").read_text())
    result = _funnel("rebuild", cwd=tmp_path)
    assert result.returncode == 2
    assert "funnel.state.duckdb does not exist" in result.stderr


def test_the_script_exits_as_sys_exit_would_less_the_teardown() -> None:
    """main() ends with os._exit: atexit handlers, non-daemon threads and buffered output must
    still be seen to, and the status be sys.exit's."""
    script = (
        "import atexit, sys, threading, time\n"
        "from funnel.cli import _exit_now\n"
        "atexit.register(lambda: print('atexit ran', flush=False))\n"
        "threading.Thread(target=lambda: (time.sleep(0.3), print('thread done'))).start()\n"
        "print('buffered', end=' ')\n"
        "sys.stderr.write('on stderr')\n"
        "_exit_now({code})\n"
    )
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    for code, status in (("3", 3), ("None", 0), ("'bad input'", 1)):
        result = subprocess.run(
            [sys.executable, "-c", script.format(code=code)],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert result.returncode == status
        assert result.stdout == "buffered thread done\natexit ran\n"
        expected_err = "on stderr" + ("bad input\n" if status == 1 else "")
        assert result.stderr == expected_err


def test_every_command_answers_h_and_help() -> None:
    commands = ("run", "rebuild", "backfill", "status", "serve", "report", "generate", "docs")
    commands += ("check", "init", "sql")
    for args in [(), *((c,) for c in commands)]:
        short, long = _funnel(*args, "-h"), _funnel(*args, "--help")
        assert short.returncode == long.returncode == 0, (args, short.stderr)
        assert short.stdout == long.stdout
        assert "Usage:" in short.stdout and "Options" in short.stdout


def test_version_prints_the_installed_version() -> None:
    from importlib.metadata import version

    result = _funnel("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"funnel {version('funnel')}"


def test_funnel_config_names_the_default_config(tmp_path: Path) -> None:
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "COLUMNS": "200"}
    missing = tmp_path / "elsewhere.toml"
    result = subprocess.run(
        [sys.executable, "-m", "funnel", "status"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "FUNNEL_CONFIG": str(missing)},
    )
    assert result.returncode == 2
    assert f"config file not found: {missing}" in result.stderr
