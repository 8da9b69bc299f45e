"""The database handle and the column types every model shares."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, Engine, MetaData, TypeDecorator, event
from sqlalchemy.exc import DBAPIError

# Named constraints keep Alembic migrations portable between SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate(render_as_batch=True, compare_type=True)
log = logging.getLogger(__name__)


def end_sessions_quietly(app) -> None:
    """Registered after Flask-SQLAlchemy (so run before its own teardown): end each request's
    session, and if the database dropped the connection meanwhile (a restart between the last
    query and the end of the request), only log it. Otherwise the failed ROLLBACK escapes
    the app after the answer was made, and the server turns a good answer into a bare 500."""
    app.teardown_appcontext(_remove_session)


def _remove_session(_error=None) -> None:
    try:
        db.session.remove()
    except DBAPIError as error:
        db.session.registry.clear()  # the connection was invalidated with the failed rollback
        log.warning("the database connection was lost before the session ended: %s",
                    type(error.orig).__name__)


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection, _record) -> None:
    """SQLite: write-ahead log (readers never wait for the writer) and synchronous=NORMAL (one
    fsync per checkpoint, not per commit; a commit survives a crash of the process, and only a
    power loss may lose the last ones: https://www.sqlite.org/pragma.html#pragma_synchronous)."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    if dbapi_connection.execute("PRAGMA database_list").fetchone()[2] == "":
        return  # an in-memory database has no log to keep
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


class UtcDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite drops the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        """Store an aware datetime as UTC; refuse a naive one."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        """Read the stored time back as an aware UTC datetime (SQLite keeps it naive)."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)
