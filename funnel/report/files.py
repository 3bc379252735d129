"""Report files: written whole beside their target, then moved onto it in one step."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def _write_file(text: str, path: Path) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    path.chmod(0o644)


def write_atomic(text: str, out: Path) -> None:
    """Write beside `out` in a temp file, then os.replace it: readers see old or new, never half."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        _write_file(text, tmp)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def staged_path(target: Path, run_id: str) -> Path:
    """Where a run keeps its finished report until it publishes (beside the target)."""
    return target.with_name(f".{target.name}.build-{run_id}")


def write_staged(text: str, target: Path, run_id: str) -> Path:
    path = staged_path(target, run_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        _write_file(text, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def publish_report(staged: Path, target: Path) -> None:
    os.replace(staged, target)


def discard_report(target: Path, run_id: str) -> None:
    """Remove the report a failed run staged (the published one stays)."""
    staged_path(target, run_id).unlink(missing_ok=True)
