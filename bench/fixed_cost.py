"""The fixed cost of a run: `funnel run` on the bundled 2,000-lead sample against a running
Prefect server, as a full run (no warehouse or state) and as the next night's incremental run
(the same export over the full run's state). See the README section "The fixed cost of a run".

The project's `funnel.toml` and `data/sample/` are copied to a temporary folder; a Prefect server
is started on a free port of 127.0.0.1 (unless PREFECT_API_URL is set) and stopped at the end.
Each round deletes the warehouse and its state, runs `python -m funnel run` once (full) and once
more (incremental), each a child process measured here: wall time, CPU time (user + system, from
wait4) and peak RSS. Then the import of the heavy packages, each in a fresh interpreter less an
empty one's start. The last lines printed are:

full_min_s=<s> full_median_s=<s> full_cpu_median_s=<s>
incremental_min_s=<s> incremental_median_s=<s> incremental_cpu_median_s=<s>
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import prefect_server  # noqa: E402

AS_OF = "2026-10-31"
#: What a run imports, timed each in a fresh interpreter: name -> code. great-expectations as
#: the run imports it (funnel.quality.runner), and as a plain import.
IMPORTS = {
    "prefect": "import prefect",
    "great_expectations (as run)": (
        "from funnel.quality.runner import import_great_expectations as i; i()"
    ),
    "great_expectations (plain)": "import great_expectations",
    "polars": "import polars",
    "duckdb": "import duckdb",
    "altair": "import altair",
    "funnel.cli": "import funnel.cli",
}


@dataclass(frozen=True)
class Timed:
    kind: str
    wall_s: float
    cpu_s: float
    peak_rss_mb: float


def timed(cmd: list[str], env: dict[str, str], cwd: Path, kind: str) -> Timed:
    """Run a child; its wall time here, its CPU time and peak RSS from wait4."""
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            out.seek(0)
            raise SystemExit(f"{' '.join(cmd)} failed:\n{out.read()}")
    return Timed(kind, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def import_seconds(env: dict[str, str], cwd: Path, repeat: int) -> dict[str, float]:
    """Each package's import: the least wall time of `python -c "import X"` over `repeat` tries,
    less the least of an empty interpreter's."""

    def least(code: str) -> float:
        cmd = [sys.executable, "-c", code]
        return min(timed(cmd, env, cwd, "import").wall_s for _ in range(repeat))

    empty = least("pass")
    return {name: least(code) - empty for name, code in IMPORTS.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="full + incremental pairs")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--no-imports", dest="imports", action="store_false")
    args = parser.parse_args(argv)

    from funnel.report.render import warm_bundle_cache

    warm_bundle_cache()  # a nightly run finds the report's script bundle stored
    work = Path(tempfile.mkdtemp(prefix="funnel-fixed-cost-"))
    project = work / "project"
    (project / "data").mkdir(parents=True)
    shutil.copy(ROOT / "funnel.toml", project / "funnel.toml")
    shutil.copytree(ROOT / "data" / "sample", project / "data" / "sample")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(":"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_HOME": os.environ.get("PREFECT_HOME", str(work / "prefect")),
    }
    cmd = [sys.executable, "-m", "funnel", "run", "--config", "funnel.toml", "--as-of", AS_OF]
    runs: list[Timed] = []
    try:
        with prefect_server(env, work / "prefect") as api_url:
            run_env = {**env, "PREFECT_API_URL": api_url}
            for _ in range(args.rounds):
                shutil.rmtree(project / "data" / "warehouse", ignore_errors=True)
                for kind in ("full", "incremental"):
                    runs.append(timed(cmd, run_env, project, kind))
                    r = runs[-1]
                    print(
                        f"{kind:<12} wall {r.wall_s:6.2f} s  cpu {r.cpu_s:6.2f} s"
                        f"  peak {r.peak_rss_mb:5.0f} MiB",
                        flush=True,
                    )
        if args.imports:
            for name, seconds in import_seconds(env, project, 3).items():
                print(f"import {name:<28} {seconds:5.2f} s", flush=True)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    for kind in ("full", "incremental"):
        walls = [r.wall_s for r in runs if r.kind == kind]
        cpus = [r.cpu_s for r in runs if r.kind == kind]
        print(
            f"{kind}_min_s={min(walls):.2f} {kind}_median_s={statistics.median(walls):.2f}"
            f" {kind}_cpu_median_s={statistics.median(cpus):.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
