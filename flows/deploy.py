"""The nightly flow on its schedule: served from this process, or deployed to a work pool.

Both read `[schedule]` of funnel.toml, the one place the schedule is kept.
"""

# No `from __future__ import annotations`: as flows/nightly.py, loaded by Prefect from its source.

from pathlib import Path
from typing import cast
from uuid import UUID

from prefect import Flow
from prefect.schedules import Cron, Interval, Schedule, validate_cron_string

from flows.nightly import nightly
from funnel.config import ScheduleConfig
from funnel.errors import ConfigError
from funnel.summary import RunSummary

#: The folder that holds flows/: a worker runs the deployed flow from it.
SOURCE = Path(__file__).resolve().parents[1]
ENTRYPOINT = "flows/nightly.py:nightly"


def nightly_schedule(
    config_path: Path, schedule: ScheduleConfig, every: int | None = None
) -> Schedule:
    """`[schedule]` as a Prefect schedule (`every`: seconds between runs instead, for trying it
    out). A cron Prefect cannot read is a ConfigError naming the key."""
    if every:
        return Interval(every, timezone=schedule.timezone)
    try:
        validate_cron_string(schedule.cron)
    except ValueError as e:
        raise ConfigError(f"{config_path}: schedule.cron: {e}") from None
    return Cron(schedule.cron, timezone=schedule.timezone)


def serve(config_path: Path, schedule: Schedule, name: str) -> None:
    """Run the nightly flow on `schedule` from this process until stopped, one run at a time."""
    nightly.serve(
        name=name,
        schedule=schedule,
        parameters={"config_path": str(config_path.resolve())},
        limit=1,  # one run at a time: a late run never overlaps the next one
        print_starting_message=True,
    )


def deploy(config_path: Path, schedule: Schedule, name: str, pool: str) -> UUID:
    """Create or update the deployment `funnel-nightly/<name>` on work pool `pool`; its worker
    runs the flow from this checkout (or installed package), one run at a time."""
    # both are async-dispatched: called here, outside an event loop, they run and return values
    flow = cast("Flow[..., RunSummary]", nightly.from_source(str(SOURCE), ENTRYPOINT))
    deployed = flow.deploy(
        name=name,
        work_pool_name=pool,
        schedule=schedule,
        parameters={"config_path": str(config_path.resolve())},
        concurrency_limit=1,
        description="Extract, clean, validate, load, model and publish the funnel warehouse.",
        print_next_steps=False,
    )
    return cast("UUID", deployed)
