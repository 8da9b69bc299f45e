"""``SqlDpis``: read-only SQL on the DPIS database (one SELECT with two outer joins).

Keys (``BACKEND = "sql"``): ``DATABASE_URL`` (SQLAlchemy URL, e.g.
``postgresql+psycopg://idp_ro@dpis/dpis``; use an account granted SELECT only); ``SCHEMA``
(optional); ``NAMES`` (optional table: the DPIS table and column names, keys as in
``DEFAULT_NAMES``); ``CONNECT_TIMEOUT_SECONDS`` (5); ``STATEMENT_TIMEOUT_SECONDS`` (5,
PostgreSQL). The engine logs and reports no bound parameters (``hide_parameters``); every
timeout is clipped to what is left of the check's deadline.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from idp.verification.dpis.role import SYSTEM, HrRecord, current_record, hr_record, log
from idp.verification.errors import ServiceUnavailable
from idp.verification.resilience import check_time_left, time_left

MAX_ROWS = 10
DEFAULT_NAMES = {
    "PERSON_TABLE": "PER_PERSONAL", "CITIZEN_ID": "PER_CARDNO", "FIRST_NAME": "PER_NAME",
    "LAST_NAME": "PER_SURNAME", "BIRTHDATE": "PER_BIRTHDATE", "STATUS": "PER_STATUS",
    "PERSON_POSITION_ID": "POS_ID", "PERSON_ORGANISATION_ID": "ORG_ID",
    "POSITION_TABLE": "PER_POSITION", "POSITION_ID": "POS_ID", "POSITION_NAME": "POS_NAME",
    "ORGANISATION_TABLE": "PER_ORG", "ORGANISATION_ID": "ORG_ID", "ORGANISATION_NAME": "ORG_NAME",
}


class SqlDpis:
    """``HrSystem`` over the DPIS database: one SELECT with two outer joins, read-only."""

    def __init__(self, engine: sa.Engine, *, names: Mapping[str, str] | None = None,
                 schema: str | None = None):
        if not engine.hide_parameters:
            # Bound parameters (the citizen ID) would reach SQL logs and error messages.
            raise ValueError("the DPIS engine must be created with hide_parameters=True")
        unknown = set(names or {}) - set(DEFAULT_NAMES)
        if unknown:
            raise ValueError(f"unknown DPIS NAMES keys: {sorted(unknown)}")
        self.names = {**DEFAULT_NAMES, **(names or {})}
        # PostgreSQL: every transaction READ ONLY (SET TRANSACTION READ ONLY, per checkout).
        self.engine = engine.execution_options(postgresql_readonly=True) \
            if engine.dialect.name == "postgresql" else engine
        self.query = self._query(schema or None)

    @classmethod
    def from_url(cls, url: str, *, connect_timeout: float = 5, statement_timeout: float = 5,
                 **options) -> SqlDpis:
        """An engine for ``url`` with bounded connect and statement times."""
        backend = sa.make_url(url).get_backend_name()
        connect_args: dict = {}
        if backend == "postgresql":
            ms = max(1, int(statement_timeout * 1000))
            connect_args = {"connect_timeout": max(1, math.ceil(connect_timeout)),
                            "options": f"-c statement_timeout={ms} -c default_transaction_read_only=on"}
        elif backend == "sqlite":
            connect_args = {"timeout": connect_timeout}
        engine = sa.create_engine(url, connect_args=connect_args, hide_parameters=True,
                                  pool_pre_ping=True)
        return cls(engine, **options)

    @classmethod
    def from_config(cls, table: Mapping) -> SqlDpis:
        """From a ``[DPIS]`` table with ``BACKEND = "sql"`` (keys in the module docstring)."""
        return cls.from_url(table["DATABASE_URL"], names=table.get("NAMES"),
                            schema=table.get("SCHEMA"),
                            connect_timeout=float(table.get("CONNECT_TIMEOUT_SECONDS", 5)),
                            statement_timeout=float(table.get("STATEMENT_TIMEOUT_SECONDS", 5)))

    def _query(self, schema: str | None) -> sa.Select:
        n = self.names
        person = sa.table(n["PERSON_TABLE"], *(sa.column(n[k]) for k in (
            "CITIZEN_ID", "FIRST_NAME", "LAST_NAME", "BIRTHDATE", "STATUS",
            "PERSON_POSITION_ID", "PERSON_ORGANISATION_ID")), schema=schema)
        position = sa.table(n["POSITION_TABLE"], sa.column(n["POSITION_ID"]),
                            sa.column(n["POSITION_NAME"]), schema=schema)
        organisation = sa.table(n["ORGANISATION_TABLE"], sa.column(n["ORGANISATION_ID"]),
                                sa.column(n["ORGANISATION_NAME"]), schema=schema)
        p = person.c
        joined = person.outerjoin(position, p[n["PERSON_POSITION_ID"]] == position.c[n["POSITION_ID"]]) \
            .outerjoin(organisation,
                       p[n["PERSON_ORGANISATION_ID"]] == organisation.c[n["ORGANISATION_ID"]])
        # Identifiers come from the configuration and are quoted by SQLAlchemy; the citizen ID
        # is only ever a bound parameter.
        return sa.select(p[n["FIRST_NAME"]], p[n["LAST_NAME"]], p[n["BIRTHDATE"]], p[n["STATUS"]],
                         position.c[n["POSITION_NAME"]], organisation.c[n["ORGANISATION_NAME"]]) \
            .select_from(joined).where(p[n["CITIZEN_ID"]] == sa.bindparam("citizen_id")) \
            .limit(MAX_ROWS + 1)

    @contextmanager
    def connect(self):
        """A connection whose transaction cannot write, as every lookup uses."""
        check_time_left(SYSTEM)
        with self.engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA query_only = ON")
            elif connection.dialect.name == "postgresql" and time_left() is not None:
                # The statement may take only what is left of the check's deadline.
                ms = max(1, int(check_time_left(SYSTEM) * 1000))
                connection.exec_driver_sql(f"SET LOCAL statement_timeout = {ms}")
            yield connection
            connection.rollback()  # nothing to keep: never commit

    def find_by_citizen_id(self, citizen_id: str) -> HrRecord | None:
        """See ``HrSystem.find_by_citizen_id``."""
        try:
            with self.connect() as connection:
                rows = connection.execute(self.query, {"citizen_id": citizen_id}).all()
        except SQLAlchemyError as exc:
            # ``from None``: a driver's message may quote the parameter (the citizen ID).
            raise ServiceUnavailable(SYSTEM, f"database error ({_sql_reason(exc)})") from None
        if len(rows) > MAX_ROWS:  # no one has that many periods of service: a wrong mapping
            log.warning("more than %d DPIS rows hold the same citizen ID; none is used", MAX_ROWS)
            return None
        return current_record([hr_record(*row) for row in rows])


def _sql_reason(exc: SQLAlchemyError) -> str:
    original = getattr(exc, "orig", None)
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    name = type(original or exc).__name__
    return f"{name} {code}" if code else name
