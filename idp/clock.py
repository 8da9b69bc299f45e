"""Time as the application sees it: injectable, so expiry can be tested without sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from flask import current_app


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


class SystemClock:
    def now(self) -> datetime:
        """The wall-clock time, timezone-aware UTC."""
        return datetime.now(UTC)


class FrozenClock:
    """A clock that moves only when told to (tests and demos)."""

    def __init__(self, start: datetime | None = None):
        self.current = start or datetime.now(UTC).replace(microsecond=0)

    def now(self) -> datetime:
        """The time the clock was set or advanced to."""
        return self.current

    def advance(self, **delta) -> datetime:
        """Move the frozen clock forward by ``delta`` (timedelta keywords); returns the new time."""
        self.current += timedelta(**delta)
        return self.current


def now() -> datetime:
    """The app's current time."""
    return current_app.extensions["idp.clock"].now()


def timestamp(moment: datetime) -> int:
    """``moment`` as whole seconds since the epoch (JWT NumericDate)."""
    return int(moment.timestamp())
