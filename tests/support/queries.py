"""Counting the SQL statements a piece of work sends: the query budget's measuring stick."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event

from idp.db import db


class StatementLog(list):
    """The statements sent while counting, in order (SAVEPOINTs and the like included)."""

    @property
    def count(self) -> int:
        return len(self)


@contextmanager
def counting_statements(app):
    """Record every statement any connection of ``app``'s engine sends inside the block."""
    log = StatementLog()

    def record(_connection, _cursor, statement, *_args):
        log.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield log
    finally:
        event.remove(engine, "before_cursor_execute", record)
