"""Shell commands the product prints for people to paste: they must work from a fresh install."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path


def installed(name: str) -> str:
    """A console script of this installation by its full path (a fresh clone has them in
    .venv/bin, which is not on PATH), else the bare name."""
    script = Path(sys.executable).with_name(name)
    return str(script) if script.is_file() else name


def shell_command(*words: str) -> str:
    """Words joined as a POSIX shell reads them back (quoted only where needed)."""
    return " ".join(shlex.quote(w) for w in words)
