"""The background sealer: one thread per process that links committed audit events into the
hash chain in batches, woken after each commit that recorded events, so that no request waits
on the chain head. It stops after a while without work and starts again when needed."""

from __future__ import annotations

import logging
import threading
import time
import weakref

from flask import Flask, current_app, has_app_context

from idp.audit_chain import seal
from idp.db import db

log = logging.getLogger("idp.audit")
EXTENSION = "idp.audit.sealer"
_SEALERS: weakref.WeakSet = weakref.WeakSet()  # every sealer of this process, for stop_all()


class BackgroundSealer:
    """Seals in a thread of its own; ``wake()`` is cheap and never blocks on the database."""

    def __init__(self, app: Flask, *, idle_seconds: float = 10.0):
        self.app, self.idle_seconds = app, idle_seconds
        self._wanted = threading.Event()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        _SEALERS.add(self)

    def wake(self) -> None:
        """Ask for a seal soon; starts the thread if it is not running."""
        with self._lock:
            self._wanted.set()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="audit-sealer", daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Seal what is pending, then end the thread (a later ``wake()`` starts a new one)."""
        with self._lock:
            thread = self._thread
            if thread is None:
                return
            self._stopping.set()
            self._wanted.set()
        thread.join(timeout)
        with self._lock:
            self._stopping.clear()

    def _run(self) -> None:
        while True:
            if self._stopping.is_set():
                self._finish()
                return
            if not self._wanted.wait(self.idle_seconds):
                with self._lock:
                    if not self._wanted.is_set():
                        self._thread = None
                        return
            if not self._stopping.is_set():
                time.sleep(self.app.config["AUDIT"]["SEAL_DELAY_SECONDS"])  # let a batch gather
            self._wanted.clear()
            self.seal_now()

    def _finish(self) -> None:
        self.seal_now()
        with self._lock:
            self._thread = None

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


def wake_background_sealer() -> None:
    """After a commit that stored events: wake this app's sealer (when configured)."""
    if not has_app_context() or not current_app.config["AUDIT"]["SEAL_IN_BACKGROUND"]:
        return
    app = current_app._get_current_object()
    sealer = app.extensions.get(EXTENSION)
    if sealer is None:
        sealer = app.extensions.setdefault(EXTENSION, BackgroundSealer(app))
    sealer.wake()
