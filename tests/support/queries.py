"""Counting the SQL statements a piece of work sends: the query budget's measuring stick."""

from __future__ import annotations

import threading
from contextlib import contextmanager

from sqlalchemy import event

from idp.db import db


class StatementLog(list):
    """The statements sent while counting, in order (SAVEPOINTs and the like included), one
    line each; ``sent`` keeps them as sent, with their parameters."""

    def __init__(self):
        super().__init__()
        self.sent: list[tuple[str, object]] = []

    @property
    def count(self) -> int:
        return len(self)


@contextmanager
def counting_statements(app):
    """Record every statement this thread sends on ``app``'s engine inside the block (the
    test client runs the app in the caller's thread; a background sealer's are not counted)."""
    log, me = StatementLog(), threading.get_ident()

    def record(_connection, _cursor, statement, parameters, *_args):
        if threading.get_ident() == me:
            log.append(" ".join(statement.split()))
            log.sent.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", record)
