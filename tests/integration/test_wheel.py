"""The built wheel is the product: installed in a fresh venv outside the checkout, it runs the
bundled sample end to end (its SQL models and report template travel inside it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.conftest import REPO, SAMPLE, SAMPLE_AS_OF

pytestmark = pytest.mark.slow

UV = Path(sys.executable).with_name("uv")
PUBLISHED = Path("data") / "warehouse" / "funnel.duckdb"


def _ok(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result.stdout


def test_the_wheel_installed_outside_the_checkout_runs_the_sample(
    tmp_path: Path, sample_project: Path
) -> None:
    dist = tmp_path / "dist"
    _ok(UV, "build", "--wheel", "--out-dir", dist, REPO, cwd=REPO)
    (wheel,) = dist.glob("funnel-*.whl")
    pinned = _ok(
        UV, "export", "--project", REPO, "--frozen", "--no-dev", "--no-emit-project",
        "--no-hashes", "--quiet", cwd=tmp_path,
    )  # fmt: skip
    (tmp_path / "requirements.txt").write_text(pinned)
    venv = tmp_path / "venv"
    _ok(UV, "venv", "--quiet", "--python", sys.executable, venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    _ok(UV, "pip", "install", "--quiet", "--python", python, "-r", "requirements.txt", wheel,
        cwd=tmp_path)  # fmt: skip

    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(REPO / "funnel.toml", project / "funnel.toml")
    shutil.copytree(SAMPLE, project / "data" / "sample")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        **{k: v for k, v in os.environ.items() if k in ("TMPDIR", "LANG")},
    }
    # nothing of the checkout is importable: the installed package answers
    where = _ok(python, "-c", "import funnel.sqlmodels as m; print(m.SQL_DIR)", cwd=project,
                env=env)  # fmt: skip
    assert Path(where.strip()) == venv / "lib" / "python3.11" / "site-packages" / "funnel" / "sql"
    funnel = venv / "bin" / "funnel"
    _ok(funnel, "run", "--as-of", str(SAMPLE_AS_OF), cwd=project, env=env)
    assert (project / "data" / "warehouse" / "report.html").is_file()
    sql = "select (select count(*) from leads), (select count(*) from opportunities)"
    counts = _ok(funnel, "sql", "-f", "csv", sql, cwd=project, env=env).splitlines()[1]
    # the same figures as the checkout's own run of the sample
    with duckdb.connect(str(sample_project.parent / PUBLISHED), read_only=True) as con:
        leads, opportunities = con.execute(sql).fetchone() or (0, 0)
    assert counts == f"{leads},{opportunities}" and leads > 1000 and opportunities > 500
