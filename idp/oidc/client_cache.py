"""Registered clients held in each process for at most ``[SERVER] CLIENTS_RECHECK_SECONDS``.

Every authorization, token and introspection request starts by looking up its client; the
registrations change rarely (an admin's edit), so each process keeps what it read for a few
seconds instead of reading the row again on every request:

- a change made in this process (console, CLI, any ORM write of a client) is seen at once: the
  commit that stores it drops the client from this process's cache;
- a change made by another process or instance is seen within ``CLIENTS_RECHECK_SECONDS``
  (default 5; 0 reads the row on every request). Disabling a client also revokes its tokens in
  the database at once, so only new requests of that client can pass in that window.

What is held is a detached copy of the row (``make_transient_to_detached``): attached to no
session, never expired by a commit, and never written back. Unknown client ids are not held,
so made-up ids cannot fill the memory.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from flask import current_app, has_app_context
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, make_transient_to_detached

from idp import background
from idp.oidc.models import Client

EXTENSION = "idp.oidc.client_cache"
CHANGED = "idp.oidc.clients_changed"
MOST_HELD = 1000  # far more than the clients a ministry registers


class ClientCache:
    """Client id → (when read, detached copy of the row), read again after ``seconds``."""

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.seconds, self.clock = seconds, clock
        self._held: dict[str, tuple[float, Client]] = {}
        self._lock = threading.Lock()

    def get(self, client_id: str, load: Callable[[str], Client | None]) -> Client | None:
        """The client as held when read less than ``seconds`` ago, else ``load(client_id)``."""
        held = self._held.get(client_id)
        if held is not None and self.clock() - held[0] < self.seconds:
            return held[1]
        read_at, client = self.clock(), load(client_id)
        if client is not None and self.seconds > 0:
            self._hold(client_id, read_at, detached_copy(client))
        return client

    def _hold(self, client_id: str, read_at: float, copy: Client) -> None:
        with self._lock:
            if len(self._held) >= MOST_HELD:
                self._held.clear()
            self._held[client_id] = (read_at, copy)

    def forget(self, client_ids) -> None:
        """Read these clients again on their next use."""
        with self._lock:
            for client_id in client_ids:
                self._held.pop(client_id, None)


def detached_copy(client: Client) -> Client:
    """A copy of a loaded client row, with its identity, in no session."""
    columns = {attr.key: getattr(client, attr.key) for attr in inspect(Client).column_attrs}
    copy = Client(**columns)
    make_transient_to_detached(copy)
    return copy


def init_app(app) -> None:
    """Give ``app`` its cache, and drop clients from it when this process commits a change."""
    seconds = app.config["SERVER"]["CLIENTS_RECHECK_SECONDS"]
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise ValueError(f"[SERVER] CLIENTS_RECHECK_SECONDS must be a number of seconds, 0 or "
                         f"more (0: read the client on every request), not {seconds!r}")
    app.extensions[EXTENSION] = ClientCache(seconds)
    background.when_committed(CHANGED, _forget_committed)


def cached_client(client_id: str, load: Callable[[str], Client | None]) -> Client | None:
    """The client through the app's cache (``load`` reads it from the database)."""
    cache = current_app.extensions.get(EXTENSION)
    return cache.get(client_id, load) if cache is not None else load(client_id)


@event.listens_for(Session, "after_flush")
def _note_changed_clients(session: Session, _context) -> None:
    changed = {obj.client_id for obj in (*session.new, *session.dirty, *session.deleted)
               if isinstance(obj, Client)}
    if changed:
        background.note(session, CHANGED, session.info.get(CHANGED, set()) | changed)


def _forget_committed(client_ids) -> None:
    if has_app_context() and EXTENSION in current_app.extensions:
        current_app.extensions[EXTENSION].forget(client_ids)
