"""Benchmark: the baseline (DuckDB alone), the full nightly run and the next night's incremental
run on a generated export of --leads leads, and the next night again as a changes-only export
(`changes_only = true`, over the state the full run left). See the README section "Benchmark".

Every measured run is a child process; its wall time is measured here and its peak memory is
the child's `ru_maxrss`. The full and incremental runs are `funnel run` against a running
Prefect server (started here on a free port unless PREFECT_API_URL is set); their per-step times
are the task runs' durations as the server recorded them. The last line printed is:

leads=<n> baseline_s=<s> full_s=<s> incremental_s=<s> full_vs_baseline=<r>
incremental_vs_full=<r> peak_rss_mb=<n>     (one line)

peak_rss_mb there is the larger of the two funnel runs' (the baseline's own is in its row).
`--max-rss-mb` guards the machine at large sizes: a run over it is killed and its figures are nan.
The line before it is the changes-only run's (nan when it was killed, failed or skipped with
`--no-changes-only`):

changes_only_s=<s> changes_only_vs_full=<r>
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import nextnight  # noqa: E402
from funnel import sample as generator  # noqa: E402
from funnel.config import load_config  # noqa: E402

BIN = Path(sys.executable).parent
#: The day the generated export ends (the full run's as-of day) and the next night's.
FULL_AS_OF, NEXT_AS_OF = "2026-10-31", "2026-11-01"
STEPS = ("extract", "clean", "validate", "load", "models", "report", "publish")


@dataclass
class Measured:
    """One measured child process."""

    name: str
    seconds: float
    peak_rss_mb: float
    rows: int
    steps: dict[str, float] = field(default_factory=dict)
    killed: bool = False
    #: Why the run failed (its error's line); "" when it ran.
    failure: str = ""

    @property
    def rows_per_s(self) -> float:
        """Rows read per second; nan for a run that did not finish (killed or failed)."""
        if self.killed or self.failure:
            return float("nan")
        return self.rows / self.seconds if self.seconds else 0.0


def generator_version() -> str:
    """Changes whenever funnel/sample/ changes (the cached exports are keyed by it)."""
    digest = hashlib.sha256()
    for module in sorted(Path(generator.__file__).parent.glob("*.py")):
        digest.update(module.read_bytes())
    return digest.hexdigest()[:12]


def cached_export(cache: Path, leads: int, seed: int) -> Path:
    """The generated export for (leads, seed, generator version), generated once."""
    target = cache / f"leads{leads}-seed{seed}-gen{generator_version()}"
    if not (target / "_manifest.json").exists():
        tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=cache))
        print(f"generating {leads:,} leads (seed {seed}) into {target} ...", flush=True)
        subprocess.run(
            [
                str(BIN / "funnel"),
                "generate",
                "--out",
                str(tmp),
                "--leads",
                str(leads),
                "--seed",
                str(seed),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
    return target


def cached_next_night(export: Path) -> Path:
    """The next night's export derived from `export` (1 % new or changed), derived once."""
    target = export.with_name(export.name + "-next")
    if not (target / "_next_night.json").exists():
        print(f"deriving the next night's export into {target} ...", flush=True)
        tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=export.parent))
        nextnight.derive(export, tmp)
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
    return target


def cached_changes(export: Path, next_export: Path) -> Path:
    """The next night's changes-only export (its new or changed records), derived once."""
    target = export.with_name(export.name + "-changes")
    if not (target / "_changes_only.json").exists():
        print(f"deriving the next night's changes-only export into {target} ...", flush=True)
        tmp = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=export.parent))
        nextnight.changes_only(export, next_export, tmp)
        shutil.rmtree(target, ignore_errors=True)
        tmp.rename(target)
    return target


def write_config(
    export: Path,
    warehouse: Path,
    out: Path,
    memory_limit: str | None = None,
    changes_only: bool = False,
) -> Path:
    """The bundled funnel.toml (written for a generated export) pointed at `export`, with that
    `[warehouse] memory_limit` if given, and every source `changes_only` if asked."""
    text = (ROOT / "funnel.toml").read_text(encoding="utf-8")
    text = text.replace('"data/sample/', f'"{export.as_posix()}/')
    if changes_only:  # the CRM files (exchange rates are read whole every run)
        blocks = text.split("[[sources]]\n")
        text = "[[sources]]\n".join(
            [blocks[0]]
            + [
                b if 'entity = "exchange_rates"' in b else "changes_only = true\n" + b
                for b in blocks[1:]
            ]
        )
    path = f'path = "{warehouse.as_posix()}"'
    if memory_limit is not None:
        path += f'\nmemory_limit = "{memory_limit}"'
    text = text.replace('path = "data/warehouse/funnel.duckdb"', path)
    out.write_text(text, encoding="utf-8")
    return out


EXPORT_FILES = (
    "leads.csv",
    "opportunities.csv",
    "stage_history.csv",
    "activities.csv",
    generator.RATES_FILE,
)


def point_export(folder: Path, export: Path) -> Path:
    """`folder` holding links to `export`'s files: the path the config names stays the same from
    one night to the next (as when a CRM export overwrites its files), only the content moves."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in EXPORT_FILES:
        link = folder / name
        link.unlink(missing_ok=True)
        link.symlink_to(export / name)
    return folder


def copy_state(config: Path, folder: Path) -> Path:
    """The warehouse and state files of `config` copied into `folder` (the state a later run
    starts from); returns the warehouse copy's path. Copied while no run has them open."""
    loaded = load_config(config)
    warehouse = folder / loaded.warehouse_path.name
    folder.mkdir(parents=True, exist_ok=True)
    for path, copy in (
        (loaded.warehouse_path, warehouse),
        (loaded.state_path, warehouse.with_name(warehouse.stem + ".state.duckdb")),
    ):
        shutil.copyfile(path, copy)
        wal = path.with_name(path.name + ".wal")  # (none after a clean close)
        if wal.exists():
            shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
    return warehouse


def export_rows(export: Path) -> int:
    """Data lines in the export's CSV files."""
    total = 0
    for f in EXPORT_FILES:
        with (export / f).open("rb") as fh:
            total += sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 24), b"")) - 1
    return total


def rss_mb(pid: int) -> float:
    """The process's resident set now (Linux /proc), 0 when it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Child:
    seconds: float
    peak_rss_mb: float
    stdout: str
    #: Killed by the watchdog for going over --max-rss-mb.
    killed: bool = False
    #: Its error (stderr's last line naming an Error, else its last line), when it failed and
    #: was allowed to (`may_fail`).
    error: str = ""


def run_child(
    cmd: list[str], env: dict[str, str], max_rss_mb: float = 0, may_fail: bool = False
) -> Child:
    """Run a child and read its own peak RSS with wait4 (not the maximum over all children).

    With `max_rss_mb`, a watchdog kills the child once its resident set goes above it (a 10M
    run must not take the machine down); the child is then reported as killed, not failed.
    A child that fails raises SystemExit, unless it `may_fail`: then its error is reported.
    """
    started = time.perf_counter()
    killed = False
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, text=True)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG if max_rss_mb else 0)
            if pid:
                break
            if not killed and rss_mb(proc.pid) > max_rss_mb:
                proc.kill()
                killed = True
            time.sleep(0.05)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0 and not killed:
        if not may_fail:
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stdout}\n{stderr}")
        # the exception's own line (DuckDB follows it with hints), else the last line
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        errors = [line for line in lines if "Error" in line] or lines
        error = errors[-1] if errors else f"exit status {proc.returncode}"
        return Child(seconds, usage.ru_maxrss / 1024, stdout, error=error)
    return Child(seconds, usage.ru_maxrss / 1024, stdout, killed)


def baseline_spec(config_path: Path, out: Path) -> dict[str, Any]:
    """What bench/baseline.py needs, taken from the config (so it imports no pipeline code)."""
    from funnel.config import load_config
    from funnel.connectors.presets import effective_mapping, reshape_of
    from funnel.encodings import duckdb_encoding
    from funnel.extract import file_encoding, read_header
    from funnel.state import LOG_DDL, SNAPSHOT_DDL
    from transforms.clean import stage_lookup
    from transforms.schema import ENTITIES, LINEAGE_COLUMNS, raw_table_ddl, raw_table_name

    config = load_config(config_path)
    sources = []
    for s in config.sources:
        entity = ENTITIES[s.entity]
        files = config.source_files(s)
        header = read_header(files[0], s)
        mapping = effective_mapping(s, header)
        folded = {h.casefold(): h for h in header}
        columns = {}
        for name in entity.fields:
            wanted = mapping.columns.get(name, name).casefold()
            if wanted in folded:
                columns[name] = folded[wanted]
        lineage = [c for c in LINEAGE_COLUMNS if c != "stage_label" or entity.has_stage]
        sources.append(
            {
                "name": s.name,
                "table": raw_table_name(entity.name),
                "table_columns": [*entity.fields, *lineage],
                "files": [str(f) for f in files],
                "fields": dict(entity.fields),
                "has_stage": entity.has_stage,
                "id_field": entity.id_field,
                "columns": columns,
                "stages": stage_lookup(mapping.stages),
                "date_formats": list(s.date_formats),
                "probability_scale": mapping.probability_scale,
                "delimiter": s.delimiter,
                # what DuckDB reads the (generated, UTF-8) files in
                "encoding": duckdb_encoding(file_encoding(files[0], s)),
                # a preset that reshapes its file (the ECB's rates) has SQL of its own
                "layout": s.format if reshape_of(s) else "csv",
            }
        )
    return {
        "out": str(out),
        "as_of": FULL_AS_OF,
        "ddl": [raw_table_ddl(e) for e in ENTITIES.values()]
        + [d.replace("if not exists ", "") for d in LOG_DDL if d.startswith("create")]
        + list(SNAPSHOT_DDL),
        "sources": sources,
        "config": str(config_path),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@contextmanager
def prefect_server(env: dict[str, str], home: Path) -> Iterator[str]:
    """PREFECT_API_URL when set; else a `prefect server start` of our own, stopped on exit."""
    if env.get("PREFECT_API_URL"):
        yield env["PREFECT_API_URL"]
        return
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    home.mkdir(parents=True, exist_ok=True)
    log = (home / "server.log").open("w")
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env={**env, "PREFECT_HOME": str(home)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while not _healthy(api_url):
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the Prefect server did not start: see {home / 'server.log'}")
            time.sleep(0.5)
        print(f"Prefect server on {api_url} (pid {server.pid})", flush=True)
        yield api_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def step_times(api_url: str) -> dict[str, float]:
    """Seconds per step of the latest funnel-nightly flow run: its task runs' run times as the
    server recorded them (a step over several sources, such as extract, is their sum)."""
    body = json.dumps(
        {"flows": {"name": {"any_": ["funnel-nightly"]}}, "sort": "START_TIME_DESC", "limit": 1}
    ).encode()
    req = urllib.request.Request(
        f"{api_url}/flow_runs/filter", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        (flow_run,) = json.load(r)
    body = json.dumps({"flow_runs": {"id": {"any_": [flow_run["id"]]}}, "limit": 200}).encode()
    req = urllib.request.Request(
        f"{api_url}/task_runs/filter", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        task_runs = json.load(r)
    steps: dict[str, float] = defaultdict(float)
    for t in task_runs:
        name = t["name"].split("[", 1)[0]  # extract[crm_leads], build-models, ...
        step = {"build-models": "models", "build-report": "report"}.get(name, name)
        steps[step] += float(t.get("total_run_time") or 0.0)
    steps["flow"] = float(flow_run.get("total_run_time") or 0.0)
    return dict(steps)


def funnel_run(
    config: Path,
    as_of: str,
    env: dict[str, str],
    api_url: str,
    rows: int,
    name: str,
    max_rss_mb: float,
) -> Measured:
    cmd = [str(BIN / "funnel"), "run", "--config", str(config), "--as-of", as_of]
    # a run that fails is reported with the figures of the others (its own print as nan)
    child = run_child(cmd, {**env, "PREFECT_API_URL": api_url}, max_rss_mb, may_fail=True)
    if child.error:
        print(f"{name} run failed: {child.error}", flush=True)
    time.sleep(1.0)  # the task runs' final states reach the server as events
    steps = step_times(api_url)  # of a killed or failed run: the steps it finished
    return Measured(name, child.seconds, child.peak_rss_mb, rows, steps, child.killed, child.error)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "bench" / ".cache")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the work folder (warehouse, state, configs, server log)",
    )
    parser.add_argument(
        "--max-rss-mb",
        type=float,
        default=0,
        help="kill a funnel run whose resident set goes above this (0: no limit); a killed run"
        " is reported with the steps it finished and its figures print as nan",
    )
    parser.add_argument(
        "--memory-limit",
        default=None,
        help="[warehouse] memory_limit of the funnel runs' config (the bundled config's 1GB"
        " fits 1M leads; 10M leads need about 4GB)",
    )
    parser.add_argument(
        "--no-changes-only",
        dest="changes_only",
        action="store_false",
        help="skip the changes-only run (the next night as a changes-only export)",
    )
    args = parser.parse_args(argv)

    args.cache_dir.mkdir(parents=True, exist_ok=True)
    export = cached_export(args.cache_dir, args.leads, args.seed)
    rows = export_rows(export)
    # the report's script bundle is cached between runs (built once per machine, 1.5 s): the
    # nightly runs measured here are not a machine's first
    from funnel.report.render import warm_bundle_cache

    warm_bundle_cache()

    work = Path(tempfile.mkdtemp(prefix="funnel-bench-"))
    env = {
        **os.environ,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_HOME": os.environ.get("PREFECT_HOME", str(work / "prefect")),
    }
    try:
        warehouse = work / "warehouse" / "funnel.duckdb"
        nightly_export = point_export(work / "export", export)
        config = write_config(nightly_export, warehouse, work / "funnel.toml", args.memory_limit)

        spec = work / "baseline.json"
        plan = baseline_spec(config, work / "baseline.duckdb")
        if args.max_rss_mb:  # under a cap the baseline spills to disk rather than be killed
            plan["memory_limit"] = f"{int(args.max_rss_mb * 0.6)}MB"
        spec.write_text(json.dumps(plan))
        # under a cap the baseline's DuckDB may run out of memory where it cannot spill: its
        # row then says so and the funnel runs are still measured
        child = run_child(
            [sys.executable, str(ROOT / "bench" / "baseline.py"), str(spec)],
            env,
            args.max_rss_mb,
            may_fail=bool(args.max_rss_mb),
        )
        baseline = Measured(
            "baseline",
            child.seconds,
            child.peak_rss_mb,
            rows,
            killed=child.killed,
            failure=child.error,
        )

        with prefect_server(env, work / "prefect-server") as api_url:
            runs = [funnel_run(config, FULL_AS_OF, env, api_url, rows, "full", args.max_rss_mb)]
            if not (runs[0].killed or runs[0].failure):  # (the next night is derived if needed)
                # the changes-only run starts from the full run's state, not the incremental's
                after_full = (
                    copy_state(config, work / "changes-warehouse") if args.changes_only else None
                )
                next_export = cached_next_night(export)
                point_export(nightly_export, next_export)
                runs.append(
                    funnel_run(
                        config,
                        NEXT_AS_OF,
                        env,
                        api_url,
                        export_rows(next_export),
                        "incremental",
                        args.max_rss_mb,
                    )
                )
                if after_full is not None:
                    changes = cached_changes(export, next_export)
                    changes_config = write_config(
                        point_export(work / "changes-export", changes),
                        after_full,
                        work / "changes.toml",
                        args.memory_limit,
                        changes_only=True,
                    )
                    runs.append(
                        funnel_run(
                            changes_config,
                            NEXT_AS_OF,
                            env,
                            api_url,
                            export_rows(changes),
                            "changes_only",
                            args.max_rss_mb,
                        )
                    )
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    report([baseline, *runs])
    nightly = [m for m in runs if m.name != "changes_only"]  # the last line's, as it always was
    print(changes_line(runs))
    print(last_line(args.leads, baseline, nightly))
    return 1 if any(m.failure for m in runs) else 0


def changes_line(runs: list[Measured]) -> str:
    """The changes-only run's line: its seconds and their ratio to the full run's; nan for a
    run that was killed, failed or never ran."""
    nan = float("nan")
    seconds = {m.name: (nan if m.killed or m.failure else m.seconds) for m in runs}
    full, changes = seconds.get("full", nan), seconds.get("changes_only", nan)
    return f"changes_only_s={changes:.2f} changes_only_vs_full={changes / full:.3f}"


def last_line(leads: int, baseline: Measured, runs: list[Measured]) -> str:
    """The one-line summary. peak_rss_mb is the funnel runs' (the baseline's is in its row);
    the figures of a run that was killed, failed or never ran are nan."""
    nan = float("nan")
    seconds = {m.name: (nan if m.killed or m.failure else m.seconds) for m in [baseline, *runs]}
    base = seconds["baseline"]
    full, incremental = seconds.get("full", nan), seconds.get("incremental", nan)
    peak = max(m.peak_rss_mb for m in runs)
    return (
        f"leads={leads} baseline_s={base:.2f} full_s={full:.2f}"
        f" incremental_s={incremental:.2f}"
        f" full_vs_baseline={full / base:.2f}"
        f" incremental_vs_full={incremental / full:.3f}"
        f" peak_rss_mb={peak:.0f}"
    )


def report(runs: list[Measured]) -> None:
    print(f"{'run':<12} {'wall s':>8} {'peak MB':>8} {'rows':>11} {'rows/s':>10}  steps (s)")
    for m in runs:
        steps = " ".join(f"{k}={m.steps[k]:.2f}" for k in (*STEPS, "flow") if k in m.steps)
        note = "  KILLED over --max-rss-mb (steps it finished)" if m.killed else ""
        note = f"  FAILED: {m.failure}" if m.failure else note
        print(
            f"{m.name:<12} {m.seconds:8.2f} {m.peak_rss_mb:8.0f} {m.rows:11,} "
            f"{m.rows_per_s:10,.0f}  {steps}{note}"
        )


if __name__ == "__main__":
    raise SystemExit(main())
