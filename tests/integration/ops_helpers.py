"""A tiny export, its config, and a local webhook receiver for the operations tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb

#: Columns that differ between any two runs by nature: ids and wall-clock times.
RUN_COLUMNS = frozenset(
    {"run_id", "started_at", "ended_at", "duration_seconds", "checked_at", "quarantined_at"}
)

DAYS = (date(2026, 10, 29), date(2026, 10, 30), date(2026, 10, 31))
WEBHOOK_ENV = "FUNNEL_TEST_WEBHOOK"

CONFIG = """
[warehouse]
path = "warehouse/funnel.duckdb"
timezone = "UTC"

[[sources]]
name = "crm_leads"
entity = "leads"
path = "export/leads.csv"
[sources.columns]
lead_id = "Lead ID"
created_at = "Created Date"
email = "Email"
company = "Company"
stage = "Lead Status"
[sources.stages]
"New" = "prospecting"
"Working" = "qualification"
"Unqualified" = "lost"

[[sources]]
name = "crm_deals"
entity = "opportunities"
path = "export/deals.csv"
[sources.columns]
opportunity_id = "Deal ID"
lead_id = "Lead ID"
stage = "Stage"
amount = "Amount"
created_at = "Created Date"
closed_at = "Close Date"
[sources.stages]
"Discovery" = "meeting"
"Proposal" = "proposal"
"Closed Won" = "won"
"Closed Lost" = "lost"

[schedule]
cron = "0 2 * * *"
timezone = "Europe/Berlin"

[alerts]
webhook_url_env = "{env}"
warn_share = {warn_share}
"""

# Leads created from 2026-10-01 to 2026-10-31: the last ones are born during the backfill days.
LEADS = [
    ("Lead ID", "Created Date", "Email", "Company", "Lead Status"),
    ("L-01", "2026-10-01 09:00:00", "ada@acme.io", "Acme", "Working"),
    ("L-02", "2026-10-03 10:00:00", "bo@beta.io", "Beta", "Working"),
    ("L-03", "2026-10-05 11:00:00", "cy@gamma.io", "Gamma", "New"),
    ("L-04", "2026-10-08 12:00:00", "di@delta.io", "Delta", "Unqualified"),
    ("L-05", "2026-10-12 13:00:00", "ed@eps.io", "Epsilon", "Working"),
    ("L-06", "2026-10-15 14:00:00", "fay@zeta.io", "Zeta", "New"),
    ("L-07", "2026-10-20 15:00:00", "gus@eta.io", "Eta", "Working"),
    ("L-08", "2026-10-25 16:00:00", "hal@theta.io", "Theta", "New"),
    ("L-09", "2026-10-29 09:30:00", "ivy@iota.io", "Iota", "New"),
    ("L-10", "2026-10-30 10:30:00", "jo@kappa.io", "Kappa", "New"),
    ("L-11", "2026-10-31 11:30:00", "kim@lambda.io", "Lambda", "New"),
]
DEALS = [
    ("Deal ID", "Lead ID", "Stage", "Amount", "Created Date", "Close Date"),
    ("D-01", "L-01", "Closed Won", "12000", "2026-10-02 09:00:00", "2026-10-20 10:00:00"),
    ("D-02", "L-02", "Closed Lost", "8000", "2026-10-04 09:00:00", "2026-10-22 10:00:00"),
    ("D-03", "L-05", "Proposal", "15000", "2026-10-13 09:00:00", ""),
    ("D-04", "L-07", "Discovery", "5000", "2026-10-21 09:00:00", ""),
    ("D-05", "", "Closed Won", "30000", "2026-10-06 09:00:00", "2026-10-30 15:00:00"),
    ("D-06", "", "Proposal", "9000", "2026-10-18 09:00:00", ""),
    ("D-07", "", "Discovery", "4000", "2026-10-26 09:00:00", ""),
    ("D-08", "", "Closed Lost", "0", "2026-10-09 09:00:00", "2026-10-28 10:00:00"),
    ("D-09", "L-09", "Discovery", "7000", "2026-10-30 11:00:00", ""),
    ("D-10", "", "Proposal", "11000", "2026-10-27 09:00:00", ""),
]


def _csv(rows: list[tuple[str, ...]]) -> str:
    return "".join(",".join(r) + "\n" for r in rows)


def write_project(root: Path, warn_share: float = 0.5, negative_amounts: int = 0) -> Path:
    """The tiny export under root/export and its config; returns the config path.

    `negative_amounts` deals get a negative amount: 3 of 10 trips max_error_share (5 %).
    """
    (root / "export").mkdir(parents=True, exist_ok=True)
    (root / "export" / "leads.csv").write_text(_csv(LEADS))
    deals = [DEALS[0]] + [
        (*d[:3], f"-{d[3]}", *d[4:]) if i < negative_amounts else d for i, d in enumerate(DEALS[1:])
    ]
    (root / "export" / "deals.csv").write_text(_csv(deals))
    config = root / "funnel.toml"
    config.write_text(CONFIG.format(env=WEBHOOK_ENV, warn_share=warn_share))
    return config


def query(path: Path, sql: str) -> list[tuple[object, ...]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def published_tables(warehouse: Path, skip_run: str = "") -> dict[str, list[tuple[object, ...]]]:
    """Every published table, all columns; pipeline_runs without the rebuild's own row.

    Doubles are compared to 12 significant digits: DuckDB sums doubles in parallel, in no fixed
    order, so two builds of the same rows may differ in the last bit (stage_conversion's
    avg_days_in_stage does, between two nightly runs over the same state just the same).
    """
    out = {}
    for (name,) in query(warehouse, "select table_name from duckdb_tables() order by 1"):
        where = f"where run_id <> '{skip_run}'" if name == "pipeline_runs" else ""
        out[str(name)] = comparable(query(warehouse, f"select * from {name} {where}"))
    return out


def comparable(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """Rows with doubles to 12 significant digits, in one order (see `published_tables`)."""
    return sorted((tuple(_rounded(v) for v in row) for row in rows), key=repr)


def _rounded(value: object) -> object:
    return float(f"{value:.12g}") if isinstance(value, float) else value


@dataclass
class Receiver:
    """A Slack-compatible webhook on 127.0.0.1: records every POST, answers `codes` in turn."""

    codes: list[int] = field(default_factory=list)
    posts: list[dict[str, object]] = field(default_factory=list)
    url: str = ""

    @property
    def delivered(self) -> list[str]:
        return [str(p["text"]) for p in self.posts if p["_status"] == 200]


@contextmanager
def webhook(codes: list[int] | None = None) -> Iterator[Receiver]:
    """Serve a webhook receiver for the duration of the block."""
    receiver = Receiver(codes=list(codes or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = receiver.codes.pop(0) if receiver.codes else 200
            receiver.posts.append({**json.loads(body), "_status": status})
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"ok" if status == 200 else b"error")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_port}/hooks/funnel"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def run_in_group(
    args: list[str], env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run a command in a process group of its own; on a timeout the whole group is killed
    (a `funnel run` without PREFECT_API_URL starts a Prefect server of its own, which would
    outlive a killed run) and the test fails."""
    process = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise AssertionError(f"{args} did not end within {timeout:g} s") from None
    return subprocess.CompletedProcess(args, process.returncode, out, err)
