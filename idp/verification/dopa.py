"""Identity check with DOPA (the Department of Provincial Administration's civil registry).

``CitizenRegistry`` is the role; ``BACKENDS`` maps the ``[DOPA] BACKEND`` config key to an
implementation, built by ``citizen_registry_from_config``:

- ``"gdx"``  ``GdxCitizenRegistry`` (``dopa_gdx.py``): the DGA Government Data Exchange REST check.
- ``"soap"`` ``DopaSoapCitizenRegistry`` (``dopa_soap.py``): DOPA's own ``CheckCardByLaser`` SOAP 1.2.
- ``"file"`` ``FileCitizenRegistry`` (``dopa_file.py``): the stand-in for the embedded default,
  persons from a JSON file; it logs a warning, and ``check_config`` refuses it in production.

Config keys of the ``[DOPA]`` table:

``BACKEND``                  ``"file"`` (default), ``"gdx"`` or ``"soap"``.
``PERSONS_FILE``             file: the JSON persons file (default: ``sample_data/dopa_persons.json``).
``NEEDS_LASER_CODE``         file: whether the stand-in asks for and checks the laser code
                             (default false; the real backends always need it).
``BASE_URL``                 gdx: e.g. ``"https://api.egov.go.th"`` (no trailing path).
``CONSUMER_KEY``             gdx: the Consumer-Key issued by DGA for this agency's app.
``CONSUMER_SECRET``          gdx: the ConsumerSecret issued with it.
``AGENT_ID``                 gdx: the AgentID (the citizen ID of the officer the agency registered).
``TOKEN_RENEW_IDLE_SECONDS`` gdx: renew the token after this much idle time (default 3300: GDX
                             tokens die after 60 idle minutes; renew at 55).
``URL``                      soap: the service URL DOPA gives the agency, e.g.
                             ``"https://idcard.bora.dopa.go.th/CheckCardStatus/CheckCardService.asmx"``.
``TIMEOUT_SECONDS``          gdx, soap: read timeout of each HTTP call (default 5).
``CONNECT_TIMEOUT_SECONDS``  gdx, soap: connect timeout (default: ``TIMEOUT_SECONDS``, at most 3).
``RETRIES``                  gdx, soap: retries after a connection error, a timeout or HTTP
                             502/503/504 (default 2, at most 2); never after a definite answer,
                             and never past the check's total deadline (``[RESILIENCE]``).

PDPA: the citizen ID never reaches a log line or an exception message. ``PersonToCheck`` keeps
it out of its ``repr``; the HTTP adapters raise ``ServiceUnavailable`` with the error's class
name only (a ``requests`` error message quotes the URL) and without chaining it; and because
urllib3 logs each request URL at DEBUG (the GDX check carries the ID, and its token request the
consumer secret, in the query string) the real adapters install ``RedactQueryStrings`` on
urllib3's loggers: their query strings are cut from every debug line, for all callers.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Literal, Protocol

import requests

from idp.verification.citizen_id import (
    PartialDate,
    buddhist_birthdate,
    is_valid_citizen_id,
    is_valid_laser_code,
    normalize_laser_code,
    normalize_thai_name,
)
from idp.verification.errors import ServiceUnavailable
from idp.verification.resilience import time_left

SAMPLE_PERSONS_FILE = Path(__file__).parent / "sample_data" / "dopa_persons.json"
MAX_RETRIES = 2


# --- the role -----------------------------------------------------------------------------

@dataclass(frozen=True)
class PersonToCheck:
    """What the member typed, to be checked against DOPA's register.

    ``citizen_id``: 13 ASCII digits with a valid check digit (``normalize_citizen_id`` first);
    anything else raises ``ValueError`` here, so no invalid ID is ever sent.
    ``first_name_th``, ``last_name_th``: as typed; every backend compares and sends them through
    ``normalize_thai_name`` (NFC, trimmed, no title).
    ``birthdate``: a ``datetime.date``, or a Common-Era ``(year, month | None, day | None)`` for
    a person whose birth day or month DOPA does not know; ``None`` when not given.
    ``laser_code``: as typed (``JT1-2345678-90`` is fine), or None.
    The citizen ID and the laser code are left out of ``repr``.
    """

    citizen_id: str = field(repr=False)
    first_name_th: str
    last_name_th: str
    birthdate: date | PartialDate | None
    laser_code: str | None = field(default=None, repr=False)

    def __post_init__(self):
        if not is_valid_citizen_id(self.citizen_id):
            raise ValueError("citizen ID must be 13 digits with a valid check digit")
        if self.birthdate is not None:
            buddhist_birthdate(self.birthdate)  # raises ValueError on an impossible date


Status = Literal["valid", "card_expired", "mismatch", "incomplete"]


@dataclass(frozen=True)
class CheckResult:
    """DOPA's answer: ``status``, DOPA's result ``code`` (0, 2, 4, 5), a ``message_key`` in MESSAGES."""

    status: Status
    code: int
    message_key: str

    @property
    def valid(self) -> bool:
        return self.status == "valid"


VALID = CheckResult("valid", 0, "dopa.valid")
CARD_EXPIRED = CheckResult("card_expired", 2, "dopa.card_expired")  # card no longer valid
MISMATCH = CheckResult("mismatch", 4, "dopa.mismatch")  # data or laser code do not match
INCOMPLETE = CheckResult("incomplete", 5, "dopa.incomplete")  # missing input
RESULTS_BY_CODE = {result.code: result for result in (VALID, CARD_EXPIRED, MISMATCH, INCOMPLETE)}

# (Thai, English) for each result, and for ServiceUnavailable; plain data for gettext later.
MESSAGES = {
    "dopa.valid": (
        "ยืนยันตัวตนกับกรมการปกครองเรียบร้อยแล้ว",
        "Your identity has been verified with the Department of Provincial Administration.",
    ),
    "dopa.card_expired": (
        "บัตรประจำตัวประชาชนใบนี้ไม่สามารถใช้งานได้แล้ว กรุณาติดต่อสำนักทะเบียนอำเภอหรือสำนักงานเขต"
        "ใกล้บ้านท่าน",
        "This ID card is no longer valid. Please contact your district registration office.",
    ),
    "dopa.mismatch": (
        "ข้อมูลไม่ตรงกับทะเบียนราษฎร กรุณาตรวจสอบเลขประจำตัวประชาชน ชื่อ นามสกุล วันเกิด"
        " และเลขหลังบัตร (Laser ID) อีกครั้ง",
        "These details do not match the civil registry. Please check your citizen ID, first and "
        "last name, birth date and the laser code on the back of your card.",
    ),
    "dopa.incomplete": (
        "กรุณากรอกข้อมูลให้ครบ: เลขประจำตัวประชาชน ชื่อ นามสกุล วันเกิด และเลขหลังบัตร (Laser ID)",
        "Please fill in every field: citizen ID, first and last name, birth date and the laser "
        "code on the back of your card.",
    ),
    "dopa.unavailable": (
        "ขณะนี้ไม่สามารถติดต่อระบบตรวจสอบข้อมูลของกรมการปกครองได้ ข้อมูลที่กรอกไว้ยังอยู่ครบ"
        " กรุณาลองใหม่อีกครั้งภายหลัง",
        "The Department of Provincial Administration's check cannot be reached right now. "
        "Nothing you typed is lost; please try again later.",
    ),
}


class CitizenRegistry(Protocol):
    """The civil registry that confirms a person is who they say they are.

    ``needs_laser_code``: True when ``check`` needs the laser code of the ID card (every real
    DOPA check does); the identity-check page asks for it only then.

    ``check(person)`` compares the citizen ID, the first and last name (normalized: NFC, no
    title), the birth date (BE ``YYYYMMDD``, ``00`` for unknown parts) and, when
    ``needs_laser_code``, the laser code with the register, and returns a ``CheckResult``:

    - ``valid`` (code 0): everything matches and the card is in force;
    - ``card_expired`` (code 2): everything matches but the card is no longer valid; the person
      must go to the district registration office;
    - ``mismatch`` (code 4): the data or the laser code do not match, or no such citizen ID
      (the two are not told apart: that would reveal who is registered); a malformed laser code
      is a mismatch without any call;
    - ``incomplete`` (code 5): a name, the birth date or a needed laser code is missing;
      answered without any call.

    It raises ``ServiceUnavailable`` when the registry cannot be reached, times out (after at
    most two retries), or answers anything it cannot read. Failure policy: identity checks fail
    closed, so an unreadable answer is never a success and never a "mismatch" either.
    It never writes the citizen ID to a log line or an exception message. Implementations are
    safe to share between threads.
    """

    needs_laser_code: bool

    def check(self, person: PersonToCheck) -> CheckResult: ...


# --- helpers shared by the backends -------------------------------------------------------

@dataclass(frozen=True)
class DopaQuery:
    """The values a backend sends or compares, normalized as DOPA holds them."""

    citizen_id: str = field(repr=False)
    first_name: str
    last_name: str
    be_birthdate: str
    laser_code: str | None = field(repr=False)


def answer_without_asking(person: PersonToCheck, needs_laser_code: bool) -> CheckResult | None:
    """The answer due before any call (incomplete or malformed input), or None to ask."""
    laser = normalize_laser_code(person.laser_code)
    names = normalize_thai_name(person.first_name_th), normalize_thai_name(person.last_name_th)
    if not all(names) or person.birthdate is None or (needs_laser_code and laser is None):
        return INCOMPLETE
    if needs_laser_code and not is_valid_laser_code(laser):
        return MISMATCH
    return None


def query_for(person: PersonToCheck) -> DopaQuery:
    """``person`` as the wire wants it: names without title, the birth date in BE."""
    return DopaQuery(
        citizen_id=person.citizen_id,
        first_name=normalize_thai_name(person.first_name_th),
        last_name=normalize_thai_name(person.last_name_th),
        be_birthdate=buddhist_birthdate(person.birthdate),
        laser_code=normalize_laser_code(person.laser_code),
    )


def monotonic_seconds(clock=None) -> Callable[[], float]:
    """A seconds function from a clock: ``time.monotonic`` by default, or an app ``Clock``."""
    if clock is None:
        return time.monotonic
    if hasattr(clock, "now"):  # idp.clock.Clock: a FrozenClock moves the token's idle time too
        return lambda: clock.now().timestamp()
    return clock


# --- building one from config -------------------------------------------------------------

def citizen_registry_from_config(table: dict, *, http: requests.Session | None = None,
                                 clock=None, sleep: Callable[[float], None] = time.sleep
                                 ) -> CitizenRegistry:
    """The registry the ``[DOPA]`` table asks for (keys in this module's docstring).

    ``http`` is the ``requests.Session`` the real backends use (a new one by default);
    ``clock`` a monotonic seconds function or an app ``Clock`` (GDX token idle time).
    """
    backend = table.get("BACKEND", "file")
    if backend not in _backends():
        raise ValueError(f"[DOPA] BACKEND must be one of {sorted(_backends())}, not {backend!r}")
    if backend == "file":
        return _backends()["file"](table.get("PERSONS_FILE") or SAMPLE_PERSONS_FILE,
                                   needs_laser_code=bool(table.get("NEEDS_LASER_CODE", False)))
    required = ("BASE_URL", "CONSUMER_KEY", "CONSUMER_SECRET", "AGENT_ID") if backend == "gdx" else ("URL",)
    missing = [key for key in required if not table.get(key)]
    if missing:
        raise ValueError(f"[DOPA] BACKEND = {backend!r} needs {', '.join(missing)}")
    http_options = {"session": http if http is not None else requests.Session(),
                    "timeout": _timeout(table), "retries": _retries(table), "sleep": sleep}
    if backend == "soap":
        return _backends()["soap"](table["URL"], **http_options)
    return _backends()["gdx"](
        table["BASE_URL"], table["CONSUMER_KEY"], table["CONSUMER_SECRET"], table["AGENT_ID"],
        clock=monotonic_seconds(clock),
        renew_idle_seconds=float(table.get("TOKEN_RENEW_IDLE_SECONDS", 55 * 60)), **http_options)


def _timeout(table: dict) -> tuple[float, float]:
    read = float(table.get("TIMEOUT_SECONDS", 5))
    return float(table.get("CONNECT_TIMEOUT_SECONDS", min(read, 3.0))), read


def _retries(table: dict) -> int:
    retries = int(table.get("RETRIES", MAX_RETRIES))
    if not 0 <= retries <= MAX_RETRIES:
        raise ValueError(f"[DOPA] RETRIES must be between 0 and {MAX_RETRIES}")
    return retries


@functools.cache
def _backends() -> dict[str, type]:
    # Imported on first use: the backend modules import this one (the role, the results and
    # the helpers above), so importing them here at load time would be a cycle that breaks
    # whenever a backend module happens to be imported first.
    from idp.verification.dopa_file import FileCitizenRegistry
    from idp.verification.dopa_gdx import GdxCitizenRegistry
    from idp.verification.dopa_soap import DopaSoapCitizenRegistry

    return {"gdx": GdxCitizenRegistry, "soap": DopaSoapCitizenRegistry, "file": FileCitizenRegistry}


def __getattr__(name: str):
    """``BACKENDS`` (PEP 562): ``{"gdx": GdxCitizenRegistry, "soap": ..., "file": ...}``."""
    if name == "BACKENDS":
        return _backends()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- HTTP, for the real backends ----------------------------------------------------------

MAX_BODY_BYTES = 64 * 1024
RETRY_STATUSES = frozenset({502, 503, 504})
RETRY_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
_QUERY_STRING = re.compile(r"\?[^\s'\"]*")
URL_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry", "urllib3.connection")


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    body: bytes


class RedactQueryStrings(logging.Filter):
    """Cuts query strings out of log records: URLs may carry a citizen ID or a secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is not ours to fix; leave it to the handler
            return True
        redacted = _QUERY_STRING.sub("?[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def redact_http_logs() -> None:
    """Install ``RedactQueryStrings`` on urllib3's URL-logging loggers (once; idempotent)."""
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(each, RedactQueryStrings) for each in logger.filters):
            logger.addFilter(RedactQueryStrings())


class HttpCaller:
    """One exchange with a DOPA service: timeouts, bounded retries, a size-capped body.

    Retries (after 0.2 s, then 0.4 s) only where no answer came: a connection error, a
    timeout, HTTP 502/503/504. The checks are read-only lookups, so a repeat is harmless.
    Inside a ``resilience.deadline`` every timeout is clipped to the time left, and no retry
    starts once it is spent: a hanging DOPA costs the deadline, not 3 x the read timeout.
    Every failure is ``ServiceUnavailable`` naming only the error's class: a ``requests``
    message quotes the URL, which may hold the citizen ID.
    """

    def __init__(self, system: str, session: requests.Session, *, timeout: tuple[float, float],
                 retries: int = MAX_RETRIES, sleep: Callable[[float], None] = time.sleep,
                 backoff_seconds: float = 0.2, max_body_bytes: int = MAX_BODY_BYTES):
        self.system, self.session, self.timeout = system, session, timeout
        self.retries, self.sleep, self.backoff = min(retries, MAX_RETRIES), sleep, backoff_seconds
        self.max_body_bytes = max_body_bytes
        redact_http_logs()

    def __call__(self, method: str, url: str, **kwargs) -> HttpAnswer:
        failure, attempts = "no attempt", 0
        for attempt in range(self.retries + 1):
            if attempt:
                pause = self.backoff * 2 ** (attempt - 1)
                if not self._time_for_another(pause):
                    break  # the check's total deadline (resilience.deadline) is spent
                self.sleep(pause)
            attempts += 1
            try:
                answer = self._once(method, url, **kwargs)
            except RETRY_ERRORS as error:
                failure = type(error).__name__
                continue
            except requests.RequestException as error:
                failure = type(error).__name__
                break
            if answer.status not in RETRY_STATUSES:
                return answer
            failure = f"HTTP {answer.status}"
        # Raised outside the except clauses, so the requests error is neither chained nor
        # kept as context: its message (and any traceback print) would carry the URL.
        raise ServiceUnavailable(self.system, f"{failure} after {attempts} attempt(s)")

    @staticmethod
    def _time_for_another(pause: float) -> bool:
        left = time_left()
        return left is None or left > pause

    def _timeouts(self) -> tuple[float, float]:
        """The connect and read timeouts, clipped to what is left of the check's deadline."""
        return tuple(max(0.01, time_left(limit)) for limit in self.timeout)

    def _once(self, method: str, url: str, **kwargs) -> HttpAnswer:
        # No redirects: a check that moved is a configuration problem, and following it would
        # carry the citizen ID to wherever it points.
        timeout = self._timeouts()
        response = self.session.request(method, url, timeout=timeout, stream=True,
                                        allow_redirects=False, **kwargs)
        with response:
            return HttpAnswer(response.status_code, self._body(response, timeout[1]))

    def _body(self, response: requests.Response, read_timeout: float) -> bytes:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise ServiceUnavailable(self.system, f"answer larger than {self.max_body_bytes} bytes")
        # The read timeout bounds each wait, not the whole body: a server trickling bytes
        # would hold the request thread for ever without this deadline. It is checked between
        # 8 KiB chunks (requests offers no total timeout), so it stops a slow body at the first
        # chunk boundary past the read timeout; the 64 KiB cap bounds how many chunks there are.
        deadline = time.monotonic() + read_timeout
        chunks, size = [], 0
        for chunk in response.iter_content(8192):
            size += len(chunk)
            if size > self.max_body_bytes:
                raise ServiceUnavailable(self.system, f"answer larger than {self.max_body_bytes} bytes")
            if time.monotonic() > deadline:
                raise ServiceUnavailable(self.system, "answer arrived too slowly")
            chunks.append(chunk)
        return b"".join(chunks)
