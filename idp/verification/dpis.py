"""DPIS, the civil-service HR system: is this citizen ID a serving MOC official?

Behind ``HrSystem``: ``SqlDpis`` (read-only SQL on the DPIS database), ``HttpDpis`` (agencies
that expose DPIS as a JSON web service) and ``FileHrSystem`` (the embedded stand-in).
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

Birth dates: DPIS keeps ``PER_BIRTHDATE`` as a date or as a ``YYYY-MM-DD`` string (sometimes
with a time), in the Common Era or the Buddhist Era; a year above 2400 is BE and 543 is taken
off. An empty or impossible date gives ``birthdate=None`` (the caller cannot match it).

Failure policy: staff checks fail closed. A DPIS that cannot be reached, times out, or answers
something that is not a DPIS record raises ``ServiceUnavailable``, never "not found". Neither its
message nor any log line carries the citizen ID (personal data under the PDPA).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import re
import time
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

import requests
import sqlalchemy as sa
import urllib3
from sqlalchemy.exc import SQLAlchemyError

from idp.verification.errors import ServiceUnavailable
from idp.verification.resilience import check_time_left, time_left

log = logging.getLogger(__name__)
SYSTEM = "DPIS"
MAX_ROWS = 10
BIRTHDATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T][0-9:.]*)?$")
CITIZEN_ID_IN_TEXT = re.compile(r"\d{13}")

DEFAULT_NAMES = {
    "PERSON_TABLE": "PER_PERSONAL", "CITIZEN_ID": "PER_CARDNO", "FIRST_NAME": "PER_NAME",
    "LAST_NAME": "PER_SURNAME", "BIRTHDATE": "PER_BIRTHDATE", "STATUS": "PER_STATUS",
    "PERSON_POSITION_ID": "POS_ID", "PERSON_ORGANISATION_ID": "ORG_ID",
    "POSITION_TABLE": "PER_POSITION", "POSITION_ID": "POS_ID", "POSITION_NAME": "POS_NAME",
    "ORGANISATION_TABLE": "PER_ORG", "ORGANISATION_ID": "ORG_ID", "ORGANISATION_NAME": "ORG_NAME",
}
DEFAULT_FIELDS = {
    "PER_NAME": "first_name", "PER_SURNAME": "last_name", "PER_BIRTHDATE": "birthdate",
    "PER_STATUS": "in_service", "POS_NAME": "position", "ORG_NAME": "organisation",
}


@dataclass(frozen=True)
class HrRecord:
    """A person's DPIS record. ``position``/``organisation`` are None where DPIS has none."""

    first_name: str
    last_name: str
    birthdate: date | None
    in_service: bool
    position: str | None
    organisation: str | None


class HrSystem(Protocol):
    """The HR system of record for civil servants (DPIS), looked up by citizen ID."""

    def find_by_citizen_id(self, citizen_id: str) -> HrRecord | None:
        """The person's current record, or None when DPIS has none.

        - ``in_service`` is True only for ``PER_STATUS`` 1; the caller refuses the others.
        - A person may hold several rows (a new row for each period of service): the one
          in service is returned. When none or more than one is in service, the answer
          proves nothing and None is returned (a warning is logged).
        - Names come back stripped of DPIS's padding; ``birthdate`` is in the Common Era.
        - Raises ``ServiceUnavailable`` when DPIS cannot be reached, does not answer in time,
          or answers something malformed. Never None for those.
        - The citizen ID appears in no exception message and no log line.
        """


def parse_birthdate(value) -> date | None:
    """A DPIS birth date (date, or ``YYYY-MM-DD`` CE or BE) in the Common Era, or None."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        parts = (value.year, value.month, value.day)
    else:
        match = BIRTHDATE.match(str(value or "").strip())
        if not match:
            return None
        parts = tuple(int(part) for part in match.groups())
    year, month, day = parts
    try:
        # BE = CE + 543; parse the parts, since 2543-02-29 is valid BE but not a Gregorian date.
        return date(year - 543 if year > 2400 else year, month, day)
    except ValueError:
        return None


def in_service(status) -> bool:
    """DPIS ``PER_STATUS``: 1 is in service; anything else, or unreadable, is not."""
    if isinstance(status, bool):
        return status
    try:
        return Decimal(str(status).strip()) == 1
    except (InvalidOperation, ValueError):
        return False


def _text(value) -> str | None:
    return None if value is None else str(value).strip()


def _record(first_name, last_name, birthdate, status, position, organisation) -> HrRecord:
    parsed = parse_birthdate(birthdate)
    if parsed is None and birthdate not in (None, ""):
        log.warning("a DPIS record has a birth date that is not a date; it is ignored")
    return HrRecord(_text(first_name) or "", _text(last_name) or "", parsed, in_service(status),
                    _text(position) or None, _text(organisation) or None)


def _current(records: list[HrRecord]) -> HrRecord | None:
    if len(records) <= 1:
        return records[0] if records else None
    serving = [record for record in records if record.in_service]
    if len(serving) == 1:
        return serving[0]
    log.warning("%d DPIS records hold the same citizen ID, %d in service; none is used",
                len(records), len(serving))
    return None


# --- SQL ------------------------------------------------------------------------------------

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
        return _current([_record(*row) for row in rows])


def _sql_reason(exc: SQLAlchemyError) -> str:
    original = getattr(exc, "orig", None)
    code = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    name = type(original or exc).__name__
    return f"{name} {code}" if code else name


# --- HTTP -----------------------------------------------------------------------------------

class _MaskCitizenIds(logging.Filter):
    """urllib3 logs request paths at DEBUG; a path template puts the citizen ID in them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(CITIZEN_ID_IN_TEXT.sub("*" * 13, a) if isinstance(a, str) else a
                                for a in record.args)
        return True


MASK = _MaskCitizenIds()
for _name in ("urllib3.connectionpool", "urllib3.util.retry"):
    logging.getLogger(_name).addFilter(MASK)


class HttpDpis:
    """``HrSystem`` over a DPIS web service: ``GET`` one person as a JSON object."""

    def __init__(self, base_url: str, token: str, *, session: requests.Session | None = None,
                 path_template: str = "/people/{citizen_id}", fields: Mapping[str, str] | None = None,
                 connect_timeout: float = 3, read_timeout: float = 5, max_bytes: int = 256 * 1024,
                 retries: int = 2, retry_backoff: float = 0.1, ca_file: str = ""):
        if not token:
            raise ValueError("the DPIS web service needs a bearer token")
        if "{citizen_id}" not in path_template:
            raise ValueError("PATH_TEMPLATE must contain {citizen_id}")
        self.fields = dict(fields or DEFAULT_FIELDS)
        if sorted(self.fields.values()) != sorted(f.name for f in dataclasses.fields(HrRecord)):
            raise ValueError("FIELDS must map a JSON key to each HrRecord field, once")
        self.base_url, self.path_template = base_url.rstrip("/"), path_template
        self.session, self._token = session or requests.Session(), token
        self.timeout, self.max_bytes = (connect_timeout, read_timeout), max_bytes
        self.retries, self.retry_backoff, self.ca_file = max(0, retries), retry_backoff, ca_file

    @classmethod
    def from_config(cls, table: Mapping) -> HttpDpis:
        """From a ``[DPIS]`` table with ``BACKEND = "http"`` (keys in the module docstring)."""
        return cls(table["BASE_URL"], table.get("TOKEN", ""),
                   path_template=table.get("PATH_TEMPLATE", "/people/{citizen_id}"),
                   fields=table.get("FIELDS"), ca_file=table.get("CA_FILE", ""),
                   connect_timeout=float(table.get("CONNECT_TIMEOUT_SECONDS", 3)),
                   read_timeout=float(table.get("READ_TIMEOUT_SECONDS", 5)),
                   max_bytes=int(table.get("MAX_RESPONSE_BYTES", 256 * 1024)),
                   retries=int(table.get("RETRIES", 2)))

    def find_by_citizen_id(self, citizen_id: str) -> HrRecord | None:
        """See ``HrSystem.find_by_citizen_id``."""
        if not citizen_id:
            return None
        path = self.path_template.format(citizen_id=quote(citizen_id, safe=""))
        with self._get(self.base_url + path) as response:
            if response.status_code == 404:
                return None
            if response.status_code != 200:
                raise ServiceUnavailable(SYSTEM, f"answered HTTP {response.status_code}")
            return self._parse(self._body(response))

    def _get(self, url: str) -> requests.Response:
        # Only failures to connect are retried: the request may not have reached DPIS. A
        # timeout or an error answer is final, so a struggling service is not hammered.
        # Inside a resilience.deadline, timeouts are clipped to the time left and no retry
        # starts once it is spent.
        failure: requests.RequestException | None = None
        for attempt in range(self.retries + 1):
            if attempt:
                if (time_left() or math.inf) <= self.retry_backoff * attempt:
                    break
                time.sleep(self.retry_backoff * attempt)
            try:
                return self.session.get(url, headers={"Authorization": f"Bearer {self._token}",
                                                      "Accept": "application/json"},
                                        timeout=self._timeouts(), stream=True, allow_redirects=False,
                                        **({"verify": self.ca_file} if self.ca_file else {}))
            except requests.ConnectionError as exc:  # includes ConnectTimeout, not ReadTimeout
                failure = exc
            except requests.RequestException as exc:
                failure = exc
                break
        # ``from None``: requests' messages quote the URL, and so the citizen ID.
        raise ServiceUnavailable(SYSTEM, f"no answer ({type(failure).__name__})") from None

    def _timeouts(self) -> tuple[float, float]:
        return tuple(max(0.01, time_left(limit)) for limit in self.timeout)

    def _body(self, response: requests.Response) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise ServiceUnavailable(SYSTEM, f"answer larger than {self.max_bytes} bytes")
        deadline, body = time.monotonic() + time_left(sum(self.timeout)), bytearray()
        try:
            # read1: what has arrived, at most one socket read, so a trickle cannot outlast the
            # deadline inside one call (read() would block until its whole chunk is in).
            while chunk := response.raw.read1(16 * 1024, decode_content=True):
                body += chunk
                if len(body) > self.max_bytes:
                    raise ServiceUnavailable(SYSTEM, f"answer larger than {self.max_bytes} bytes")
                if time.monotonic() > deadline:
                    raise ServiceUnavailable(SYSTEM, "answer too slow")
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise ServiceUnavailable(SYSTEM, f"answer cut off ({type(exc).__name__})") from None
        return bytes(body)

    def _parse(self, body: bytes) -> HrRecord:
        try:
            document = json.loads(body)
        except ValueError:
            raise ServiceUnavailable(SYSTEM, "answer is not JSON") from None
        values = {field: _lookup(document, key) for key, field in self.fields.items()}
        for name in ("first_name", "last_name"):
            if not isinstance(values[name], str):
                raise ServiceUnavailable(SYSTEM, f"answer has no usable {name}")
        return _record(values["first_name"], values["last_name"], values["birthdate"],
                       values["in_service"], values["position"], values["organisation"])


def _lookup(document, dotted_key: str):
    """``document["a"]["b"]`` for ``"a.b"``; ``ServiceUnavailable`` when a key is missing."""
    value = document
    for key in dotted_key.split("."):
        if not isinstance(value, dict) or key not in value:
            raise ServiceUnavailable(SYSTEM, f"answer lacks {dotted_key!r}")
        value = value[key]
    return value


# --- the stand-in: a file ------------------------------------------------------------------

class FileHrSystem:
    """``HrSystem`` from a JSON file (see the module docstring). For the embedded default only."""

    def __init__(self, people: Iterable[Mapping], *, source: str = "memory"):
        self._people: dict[str, list[Mapping]] = {}
        for person in people:
            self._people.setdefault(str(person["citizen_id"]), []).append(dict(person))
        log.warning("DPIS is a stand-in: HR records come from %s, not DPIS", source)

    @classmethod
    def from_config(cls, table: Mapping) -> FileHrSystem:
        """From a ``[DPIS]`` table with ``BACKEND = "file"`` and ``PEOPLE_FILE``."""
        path = Path(table["PEOPLE_FILE"])
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["people"] if isinstance(data, dict) else data, source=str(path))

    def find_by_citizen_id(self, citizen_id: str) -> HrRecord | None:
        """See ``HrSystem.find_by_citizen_id``."""
        return _current([
            _record(p["first_name"], p["last_name"], p.get("birthdate"), p.get("in_service") is True,
                    p.get("position"), p.get("organisation"))
            for p in self._people.get(citizen_id, [])])


BACKENDS: dict[str, type] = {"sql": SqlDpis, "http": HttpDpis, "file": FileHrSystem}


def hr_system_from_config(table: Mapping) -> HrSystem:
    """The ``HrSystem`` that the ``[DPIS]`` table names (see the module docstring)."""
    backend = table.get("BACKEND", "file")
    if backend not in BACKENDS:
        raise ValueError(f"[DPIS] BACKEND must be one of {sorted(BACKENDS)}, not {backend!r}")
    return BACKENDS[backend].from_config(table)
