"""The sample project broken the ways a new user breaks it (issue 21): for `funnel run` and
`funnel check` alike."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from tests.conftest import REPO, copy_sample

#: The kinds of failure, each: what is done to the sample project.
KINDS = (
    "typo_key",
    "missing_file",
    "absent_column",
    "unknown_stages",
    "unparseable_dates",
    "blocking_share",
)
AS_OF = "2026-10-31"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new))


def broken_project(root: Path, kind: str) -> Path:
    """The sample project in `root`, broken by `kind`; returns the config's path."""
    root.mkdir(parents=True, exist_ok=True)
    config = copy_sample(root)
    opportunities = root / "data" / "sample" / "opportunities.csv"
    if kind == "typo_key":
        _edit(config, "probability_scale = 100", "probabilty_scale = 100")
    elif kind == "missing_file":
        _edit(config, "data/sample/opportunities.csv", "data/sample/opportunites.csv")
    elif kind == "absent_column":
        _edit(config, 'amount = "Amount"\ncurrency', 'amount = "Amout"\ncurrency')
    elif kind == "unknown_stages":  # a German export: its lost deals say Verloren
        _edit(opportunities, ",Closed Lost,", ",Verloren,")
    elif kind == "unparseable_dates":  # 2024-11-02 02:32:40 written as 02.11.2024 02:32
        text = opportunities.read_text()
        iso = r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):\d\d"
        opportunities.write_text(re.sub(iso, r"\3.\2.\1 \4:\5", text))
    elif kind == "blocking_share":  # the sample's few dirty rows are now too many
        _edit(config, "[schedule]", "[validation]\nmax_error_share = 0.0\n\n[schedule]")
    else:
        raise ValueError(kind)
    return config


def funnel_env(home: Path) -> dict[str, str]:
    """A plain environment for a `funnel` subprocess, with its own Prefect home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PYTHONPATH=str(REPO),
    )
    return env


FUNNEL = [sys.executable, "-m", "funnel"]
