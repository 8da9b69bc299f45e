"""The database handle and the column types every model shares."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from datetime import UTC, datetime

from flask import current_app
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


class HeldConnections:
    """One Core connection per thread, kept from one request to the next, for single read-only
    statements that need no ORM session (userinfo's token lookup, answered before the app).

    Taking a connection from the pool and giving it back (the fairy, its record, the pool's
    queue and lock, the reset) cost a quarter of a userinfo call's Python; a held connection
    costs a ROLLBACK that ends each read's transaction, so no snapshot or lock outlives the
    read. A connection whose statement failed is closed and a new one taken next time; one
    whose thread ended goes back to the pool when it is collected."""

    def __init__(self):
        self._local = threading.local()

    def read_one(self, engine: Engine, statement, params: dict):
        """The one row ``statement`` finds (or None), read on this thread's connection."""
        connection = self._connection(engine)
        try:
            row = connection.execute(statement, params).one_or_none()
            connection.rollback()
        except BaseException:
            self._drop()
            raise
        return row

    def _connection(self, engine: Engine):
        held = getattr(self._local, "connection", None)
        if held is not None and held.engine is engine and not held.invalidated:
            return held
        self._drop()
        held = self._local.connection = engine.connect()
        return held

    def _drop(self) -> None:
        held, self._local.connection = getattr(self._local, "connection", None), None
        if held is not None:
            with contextlib.suppress(Exception):  # a broken connection may fail to close too
                held.close()


HELD_CONNECTIONS = "idp.held_connections"


def hold_read_connections(app) -> None:
    """Give the app its per-thread held connections (``held_connections()``)."""
    app.extensions[HELD_CONNECTIONS] = HeldConnections()


def held_connections() -> HeldConnections:
    """The current app's per-thread held connections."""
    return current_app.extensions[HELD_CONNECTIONS]


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
