"""Work after the commit, in a thread of this process: the one mechanism behind the mail
sender (``idp.outbox``) and the audit sealer (``idp.audit_sealer``).

A transaction notes what it added under a ``Session.info`` key (``note``); after it commits,
the hooks registered for that key (``when_committed``) get the note, and a rollback forgets it.
A hook wakes a ``Worker``: one thread per app, started by ``wake()``, that hands what the wakes
brought to its ``work`` function in batches and ends after ``idle_seconds`` without a wake (no
idle thread, none left behind by tests); ``stop()`` does what is pending and ends it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# Session.info key → (converted at before_commit, hooks called after commit with the note)
_HOOKS: dict[str, tuple[Callable | None, list[Callable[[Any], None]]]] = {}


def when_committed(key: str, hook: Callable[[Any], None], *,
                   before: Callable[[Session, Any], Any] | None = None) -> None:
    """Call ``hook(note)`` after each commit whose transaction noted something under ``key``;
    ``before(session, note)``, if given, turns the note into what the hook gets while the
    transaction is still open (e.g. flushed rows into their ids)."""
    converter, hooks = _HOOKS.setdefault(key, (before, []))
    if converter is not before:
        raise ValueError(f"{key}: registered with another before-commit converter")
    if hook not in hooks:
        hooks.append(hook)


def note(session, key: str, value: Any) -> None:
    """Note ``value`` under ``key`` for the transaction of ``session`` (or a scoped_session)."""
    session = session() if callable(session) else session
    session.info[key] = value


@event.listens_for(Session, "before_commit")
def _convert(session: Session) -> None:
    for key, (before, _) in _HOOKS.items():
        if before is not None and session.info.get(key):
            session.info[key] = before(session, session.info[key])


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    for key, (_, hooks) in _HOOKS.items():
        if noted := session.info.pop(key, None):
            for hook in hooks:
                hook(noted)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    for key in _HOOKS:
        session.info.pop(key, None)


class Worker:
    """A thread that runs ``work(batch)`` after wakes; ``batch`` lists what the wakes since
    the last run brought. ``gather()`` seconds pass between a wake and the run, so that one run
    serves a burst; the thread ends ``idle_seconds`` after the last run without a new wake."""

    def __init__(self, name: str, work: Callable[[list], None], *, daemon: bool,
                 idle_seconds: float = 0.0, gather: Callable[[], float] = lambda: 0.0):
        self.name, self.work, self.daemon = name, work, daemon
        self.idle_seconds, self.gather = idle_seconds, gather
        self._changed = threading.Condition()
        self._pending: list = []
        self._wanted = self._stopping = False
        self._thread: threading.Thread | None = None

    def wake(self, items: Iterable = ()) -> None:
        """Ask for a run soon, with ``items`` in its batch; starts the thread if none runs."""
        with self._changed:
            self._pending.extend(items)
            self._wanted = True
            self._changed.notify()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=self.daemon)
                self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Run once more for what is pending, then end the thread (a later wake starts another)."""
        with self._changed:
            thread = self._thread
            if thread is None:
                return
            self._stopping = True
            self._changed.notify()
        thread.join(timeout)
        with self._changed:
            self._stopping = False

    def join(self, timeout: float = 30.0) -> None:
        """Wait for the running thread to end: it has had no wake for ``idle_seconds``."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while self._woken():
            with self._changed:  # a stop cuts the gathering short
                self._changed.wait_for(lambda: self._stopping, self.gather())
                batch, stopping = self._pending, self._stopping
                self._pending, self._wanted = [], False
            self._work(batch)
            if stopping:  # a wake that comes meanwhile is run by the thread the next wake starts
                with self._changed:
                    self._thread = None
                return

    def _woken(self) -> bool:
        """Wait for a wake; without one for ``idle_seconds`` the thread ends (decided under the
        lock, so a wake either is seen here or starts a new thread)."""
        with self._changed:
            if self._changed.wait_for(lambda: self._wanted or self._stopping, self.idle_seconds):
                return True
            self._thread = None
            return False

    def _work(self, batch: list) -> None:
        try:
            self.work(batch)
        except Exception:  # the thread must go on: what failed is retried by a later run or cron
            log.exception("%s: background work failed", self.name)
