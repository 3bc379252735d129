"""A tiny progress channel: flows say which step they are on; the CLI shows it."""

from __future__ import annotations

from collections.abc import Callable

_listeners: list[Callable[[str], None]] = []


def subscribe(listener: Callable[[str], None]) -> Callable[[], None]:
    """Receive each step's description; returns a function that unsubscribes."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener)


def step(description: str) -> None:
    """Tell every listener which step the run is on now."""
    for listener in list(_listeners):
        listener(description)
