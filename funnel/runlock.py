"""One run at a time per warehouse: a lock file beside the state file, held for a whole run.

The lock is `flock` on `<state file>.lock`: the operating system releases it when the holding
process ends, however it ends (`kill -9` included), so a lock is never stale. The file holds a
line naming the holder (run id, pid, command, since when) for the message a second run prints.
Within one process the lock is re-entrant: a backfill holds it across its days and each day's
run takes it again, naming its own run id.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from uuid import uuid4

from funnel.errors import FunnelError


class RunLocked(FunnelError):
    """Another run, rebuild or backfill holds the warehouse's lock; nothing was done.

    Exit 1, "any other failure" in the contract's exit codes: a scheduler that alerts on 1 hears
    that tonight's run did not happen; the message names the holder."""

    exit_code = 1


def new_run_id(as_of: date) -> str:
    return f"{as_of:%Y%m%d}-{datetime.now():%H%M%S}-{uuid4().hex[:6]}"


def lock_path(state_path: Path) -> Path:
    """The lock file of a state file (beside it)."""
    return state_path.with_name(state_path.name + ".lock")


@dataclass
class _HeldLock:
    """A lock file this process holds: its descriptor, how deeply it is re-entered, and by whom."""

    fd: int
    depth: int
    holders: list[str]


#: The lock files this process holds, by path (a run re-entering its own lock nests).
_registry: dict[Path, _HeldLock] = {}
_registry_lock = threading.Lock()


@dataclass(frozen=True)
class Lock:
    """A taken lock; `release` once (a `with` block does it)."""

    path: Path

    def release(self) -> None:
        with _registry_lock:
            held = _registry.get(self.path)
            if held is None:
                return
            held.depth -= 1
            held.holders.pop()
            if held.depth > 0:
                _describe(held.fd, held.holders[-1])
                return
            del _registry[self.path]
            os.ftruncate(held.fd, 0)  # no holder: the next run reads nothing stale
            os.close(held.fd)  # releases the flock

    def name(self, run_id: str, command: str) -> None:
        """Name the run holding it, once its id is known."""
        with _registry_lock:
            held = _registry.get(self.path)
            if held is not None:
                held.holders[-1] = holder(run_id, command)
                _describe(held.fd, held.holders[-1])

    def __enter__(self) -> Lock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder(run_id: str, command: str) -> str:
    """What the lock file says about its holder."""
    return json.dumps(
        {
            "run_id": run_id,
            "pid": os.getpid(),
            "command": command,
            "since": datetime.now().isoformat(timespec="seconds"),
        }
    )


def describe(text: str) -> str:
    """The holder line as a sentence: 'run X (funnel run, pid N, since T)'."""
    try:
        info = json.loads(text)
        return f"run {info['run_id']} ({info['command']}, pid {info['pid']}, since {info['since']})"
    except (ValueError, KeyError, TypeError):
        return "a run that has not named itself yet"


def take(
    state_path: Path,
    run_id: str,
    command: str = "funnel run",
    wait: bool = False,
    waiting: Callable[[str], None] | None = None,
) -> Lock:
    """Take the warehouse's run lock before anything is read. Raises RunLocked (exit 1) naming
    the holder when another process holds it, unless `wait`: then `waiting` is told who holds
    it and this waits until it is free."""
    state_path.parent.mkdir(parents=True, exist_ok=True)
    path = lock_path(state_path.resolve())
    line = holder(run_id, command)
    with _registry_lock:
        held = _registry.get(path)
        if held is not None:  # this process holds it already (a backfill's day)
            held.depth += 1
            held.holders.append(line)
            _describe(held.fd, line)
            return Lock(path)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            who = describe(_read(fd))
            if not wait:
                raise RunLocked(
                    f"another funnel run holds this warehouse: {who}; nothing done (lock file"
                    f" {path}; pass --wait to wait for it)"
                ) from None
            if waiting is not None:
                waiting(who)
            fcntl.flock(fd, fcntl.LOCK_EX)
        _describe(fd, line)
    except BaseException:
        os.close(fd)
        raise
    with _registry_lock:
        _registry[path] = _HeldLock(fd, 1, [line])
    return Lock(path)


def _read(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, 4096).decode("utf-8", errors="replace")


def _describe(fd: int, line: str) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, line.encode() + b"\n", 0)
