"""Server-side sessions of the demo RP: the browser's cookie only names a record kept here.

Keeping the record on the server is what lets a back-channel logout really end it: the IdP
cannot reach the browser's cookie, but it can tell us which ``sid`` ended.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import Flask, current_app


@dataclass
class LocalSession:
    """What the RP holds for one signed-in browser."""

    id_token: str
    claims: dict
    userinfo: dict
    token: dict
    signed_in_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    refreshed_at: datetime | None = None
    id: str = field(default_factory=lambda: secrets.token_urlsafe(24))

    @property
    def refresh_token(self) -> str | None:
        return self.token.get("refresh_token")


class SessionStore:
    """Thread-safe in-memory sessions, looked up by their id or by the IdP's ``sid``."""

    def __init__(self):
        self._sessions: dict[str, LocalSession] = {}
        self._lock = threading.Lock()

    def add(self, session: LocalSession) -> LocalSession:
        with self._lock:
            self._sessions[session.id] = session
        return session

    def get(self, session_id: str | None) -> LocalSession | None:
        with self._lock:
            return self._sessions.get(session_id or "")

    def remove(self, session_id: str | None) -> None:
        with self._lock:
            self._sessions.pop(session_id or "", None)

    def find_by_sid(self, sid: str) -> LocalSession | None:
        """The session the IdP's session ``sid`` signed in, if any."""
        with self._lock:
            return next((s for s in self._sessions.values() if s.claims.get("sid") == sid), None)

    def end_matching(self, *, sid: str | None, sub: str | None) -> int:
        """End every session with this ``sid`` and ``sub`` (each when given); returns how many."""
        if not (sid or sub):
            return 0
        with self._lock:
            doomed = [key for key, s in self._sessions.items() if _matches(s, sid, sub)]
            for key in doomed:
                del self._sessions[key]
        return len(doomed)


def _matches(session: LocalSession, sid: str | None, sub: str | None) -> bool:
    claims = session.claims
    return (sid is None or claims.get("sid") == sid) and (sub is None or claims.get("sub") == sub)


EXTENSION = "demo_rp.sessions"


def init_sessions(app: Flask) -> SessionStore:
    """Give ``app`` its own session store."""
    store = SessionStore()
    app.extensions[EXTENSION] = store
    return store


def local_sessions(app: Flask | None = None) -> SessionStore:
    """The session store of ``app`` (default: the current app)."""
    return (app or current_app).extensions[EXTENSION]
