"""DPIS, the civil-service HR system: is this citizen ID a serving MOC official?

Behind ``HrSystem`` (``role.py``): ``SqlDpis`` (``sql.py``: read-only SQL on the DPIS
database), ``HttpDpis`` (``http.py``: agencies that expose DPIS as a JSON web service) and
``FileHrSystem`` (``file.py``: the embedded stand-in).
``BACKENDS`` maps the ``[DPIS] BACKEND`` key to a class; ``hr_system_from_config`` builds one.

Keys of the ``[DPIS]`` table:

- ``BACKEND``: ``"sql"``, ``"http"`` or ``"file"`` (stand-in; refused in production mode).
- ``sql``: ``DATABASE_URL`` (SQLAlchemy URL, e.g. ``postgresql+psycopg://idp_ro@dpis/dpis``;
  use an account granted SELECT only); ``SCHEMA`` (optional, the tables' schema or owner);
  ``NAMES`` (optional table: the DPIS table and column names, keys as in ``DEFAULT_NAMES``);
  ``CONNECT_TIMEOUT_SECONDS`` (default 5); ``STATEMENT_TIMEOUT_SECONDS`` (default 5,
  PostgreSQL). The engine logs and reports no bound parameters (``hide_parameters``).
- ``http``: ``BASE_URL``; ``TOKEN`` (sent as ``Authorization: Bearer``; required);
  ``PATH_TEMPLATE`` (default ``/people/{citizen_id}``); ``FIELDS`` (optional table: JSON key,
  dotted for nested objects, → ``HrRecord`` field; default ``DEFAULT_FIELDS``);
  ``CONNECT_TIMEOUT_SECONDS`` (3), ``READ_TIMEOUT_SECONDS`` (5, also bounds the whole body);
  ``MAX_RESPONSE_BYTES`` (262144); ``RETRIES`` (2, connection errors only); ``CA_FILE``
  (PEM bundle to verify the service's certificate; ``""`` = system CAs).
- ``sql`` and ``http``: every timeout is clipped to what is left of the check's total deadline
  (``[RESILIENCE] DEADLINE_SECONDS``), and no retry starts once it is spent.
- ``file``: ``PEOPLE_FILE``, JSON: a list (or ``{"people": [...]}``) of objects with
  ``citizen_id`` and the ``HrRecord`` fields (``birthdate`` as DPIS writes it, ``in_service``
  true or false).

Failure policy: staff checks fail closed. A DPIS that cannot be reached, times out, or answers
something that is not a DPIS record raises ``ServiceUnavailable``, never "not found". Neither its
message nor any log line carries the citizen ID (personal data under the PDPA).
"""

from __future__ import annotations

from collections.abc import Mapping

from idp.verification.dpis.file import FileHrSystem
from idp.verification.dpis.http import DEFAULT_FIELDS, HttpDpis
from idp.verification.dpis.role import HrRecord, HrSystem, in_service, parse_birthdate
from idp.verification.dpis.sql import DEFAULT_NAMES, MAX_ROWS, SqlDpis

__all__ = ["BACKENDS", "DEFAULT_FIELDS", "DEFAULT_NAMES", "MAX_ROWS", "FileHrSystem", "HrRecord",
           "HrSystem", "HttpDpis", "SqlDpis", "hr_system_from_config", "in_service",
           "parse_birthdate"]

BACKENDS: dict[str, type] = {"sql": SqlDpis, "http": HttpDpis, "file": FileHrSystem}


def hr_system_from_config(table: Mapping) -> HrSystem:
    """The ``HrSystem`` that the ``[DPIS]`` table names (see the module docstring)."""
    backend = table.get("BACKEND", "file")
    if backend not in BACKENDS:
        raise ValueError(f"[DPIS] BACKEND must be one of {sorted(BACKENDS)}, not {backend!r}")
    return BACKENDS[backend].from_config(table)
