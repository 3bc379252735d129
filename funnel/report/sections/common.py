"""What several sections share: the order stages are shown in."""

from __future__ import annotations

from transforms.schema import STAGES


def stage_sort(stages: list[str]) -> list[str]:
    """The funnel's stages in funnel order, then any other stage alphabetically."""
    known = [s for s in STAGES if s in stages]
    return known + sorted(s for s in stages if s not in STAGES)
