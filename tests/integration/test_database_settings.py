"""The database connection: SQLite in WAL mode with synchronous=NORMAL and a busy timeout;
PostgreSQL with the configured pool size."""

from __future__ import annotations

import sqlalchemy as sa

from idp.db import db


def test_the_database_is_tuned_for_its_backend(app):
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            with engine.connect() as connection:
                assert connection.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
                assert connection.execute(sa.text("PRAGMA synchronous")).scalar() == 1  # NORMAL
                assert connection.execute(sa.text("PRAGMA busy_timeout")).scalar() == 30_000
        else:
            assert engine.pool.size() == app.config["DATABASE"]["POOL_SIZE"] == 10
            assert engine.pool._max_overflow == app.config["DATABASE"]["MAX_OVERFLOW"]
