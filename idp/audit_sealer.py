"""The background sealer: one thread per process that links committed audit events into the
hash chain in batches, woken after each commit that recorded events, so that no request waits
on the chain head. It stops after a while without work and starts again when needed."""

from __future__ import annotations

import logging
import weakref

from flask import Flask, current_app, has_app_context

from idp.audit_chain import seal
from idp.background import Worker
from idp.db import db

log = logging.getLogger("idp.audit")
EXTENSION = "idp.audit.sealer"
_SEALERS: weakref.WeakSet = weakref.WeakSet()  # every sealer of this process, for stop_all()


class BackgroundSealer:
    """Seals in a thread of its own (``idp.background.Worker``); ``wake()`` is cheap and never
    blocks on the database. A wake waits ``[AUDIT] SEAL_DELAY_SECONDS`` so that a batch gathers,
    and the thread ends after ``idle_seconds`` without one."""

    def __init__(self, app: Flask, *, idle_seconds: float = 10.0):
        self.app = app
        self.worker = Worker("audit-sealer", lambda _batch: self.seal_now(), daemon=True,
                             idle_seconds=idle_seconds,
                             gather=lambda: app.config["AUDIT"]["SEAL_DELAY_SECONDS"])
        _SEALERS.add(self)

    def wake(self) -> None:
        """Ask for a seal soon; starts the thread if it is not running."""
        self.worker.wake()

    def stop(self, timeout: float = 30.0) -> None:
        """Seal what is pending, then end the thread (a later ``wake()`` starts a new one)."""
        self.worker.stop(timeout)

    def seal_now(self) -> int:
        """Seal what has been committed so far; errors are logged (the next wake retries)."""
        with self.app.app_context():
            try:
                return seal(db.session, self.app.config["AUDIT"]["SEAL_BATCH_SIZE"])
            except Exception:  # the events stay unsealed and are sealed by a later run
                log.exception("sealing the audit log failed")
                db.session.rollback()
                return 0
            finally:
                db.session.remove()


def stop_all_sealers() -> None:
    """Seal what is pending and end every background sealer of this process (at shutdown, and
    before a test empties the tables the sealer writes)."""
    for sealer in list(_SEALERS):
        sealer.stop()


def wake_background_sealer(_recorded: bool = True) -> None:
    """After a commit that stored events: wake this app's sealer (when configured)."""
    if not has_app_context() or not current_app.config["AUDIT"]["SEAL_IN_BACKGROUND"]:
        return
    app = current_app._get_current_object()
    sealer = app.extensions.get(EXTENSION)
    if sealer is None:
        sealer = app.extensions.setdefault(EXTENSION, BackgroundSealer(app))
    sealer.wake()
