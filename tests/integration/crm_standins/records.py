"""One set of deals that every CRM mock serves (API) and writes (export files).

Stages are canonical here; each CRM module spells them its own way.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

AS_OF = date(2026, 10, 31)


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Deal:
    id: str
    name: str
    account: str
    owner: str
    amount: float
    created: datetime
    close: date
    stage: str
    probability: float
    modified: datetime
    #: (canonical stage, entered at), oldest first; the last is the current stage.
    history: tuple[tuple[str, datetime], ...] = field(default=())

    def moved_to(self, stage: str, at: datetime, probability: float) -> Deal:
        """The same deal after a stage change at `at`."""
        return replace(
            self,
            stage=stage,
            probability=probability,
            modified=at,
            close=at.date() if stage in ("won", "lost") else self.close,
            history=(*self.history, (stage, at)),
        )

    @property
    def last_open_stage(self) -> str:
        """The pipeline stage a CRM without closed stages (Pipedrive) keeps a closed deal in."""
        open_stages = [s for s, _ in self.history if s not in ("won", "lost")]
        return open_stages[-1] if open_stages else "prospecting"


def _deal(
    n: int, stage: str, amount: float, created: str, close: str, p: float, path: list[str]
) -> Deal:
    start = ts(created)
    hist = tuple(
        (s, start.replace(day=min(start.day + 3 * i, 28), hour=10)) for i, s in enumerate(path)
    )
    return Deal(
        id=str(1000 + n),
        name=f"Deal {n}",
        account=f"Account {n % 4}",
        owner=("Ana Ruiz", "Ben Okafor", "Chen Li")[n % 3],
        amount=amount,
        created=start,
        close=date.fromisoformat(close),
        stage=stage,
        probability=p,
        modified=hist[-1][1],
        history=hist,
    )


def deals() -> list[Deal]:
    """Seven deals: two won, one lost, four open in different stages."""
    return [
        _deal(1, "won", 12000, "2026-01-05 09:00:00", "2026-01-20", 1.0,
              ["prospecting", "qualification", "proposal", "negotiation", "won"]),
        _deal(2, "lost", 5000, "2026-02-02 11:30:00", "2026-02-14", 0.0,
              ["prospecting", "qualification", "lost"]),
        _deal(3, "negotiation", 30000, "2026-03-01 08:15:00", "2026-11-30", 0.6,
              ["prospecting", "qualification", "meeting", "proposal", "negotiation"]),
        _deal(4, "proposal", 8000, "2026-04-10 14:00:00", "2026-12-15", 0.4,
              ["prospecting", "qualification", "proposal"]),
        _deal(5, "qualification", 2500, "2026-05-03 10:00:00", "2026-12-31", 0.1,
              ["prospecting", "qualification"]),
        _deal(6, "won", 18000, "2026-06-01 09:45:00", "2026-06-19", 1.0,
              ["prospecting", "proposal", "negotiation", "won"]),
        _deal(7, "prospecting", 4000, "2026-07-07 16:20:00", "2027-01-31", 0.05,
              ["prospecting"]),
    ]  # fmt: skip


def changed_one(all_deals: list[Deal]) -> tuple[list[Deal], Deal]:
    """The deals after deal 1004 (proposal) was won on 2026-10-20: the list and that deal."""
    out = []
    changed = None
    for d in all_deals:
        if d.id == "1004":
            d = d.moved_to("won", ts("2026-10-20 15:00:00"), 1.0)
            changed = d
        out.append(d)
    assert changed is not None
    return out, changed


def iso_z(t: datetime) -> str:
    """2026-01-05T09:00:00.000Z (HubSpot)."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def plain(t: datetime) -> str:
    """2026-01-05 09:00:00 (exports, Pipedrive API)."""
    return t.strftime("%Y-%m-%d %H:%M:%S")
