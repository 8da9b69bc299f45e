"""The DOPA role: ``CitizenRegistry``, what is checked (``PersonToCheck``), what comes back
(``CheckResult``), and the helpers every backend shares.

PDPA: the citizen ID never reaches a log line or an exception message. ``PersonToCheck`` keeps
it out of its ``repr``; the HTTP backends go through ``idp.outbound``, which raises
``ServiceUnavailable`` with the error's class name only and redacts urllib3's request lines.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from idp.verification.citizen_id import (
    PartialDate,
    buddhist_birthdate,
    is_valid_citizen_id,
    is_valid_laser_code,
    normalize_laser_code,
    normalize_thai_name,
)

SAMPLE_PERSONS_FILE = Path(__file__).parent.parent / "sample_data" / "dopa_persons.json"
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


class Status(StrEnum):
    """DOPA's verdict on a check (the strings are stored in audit details and compared in tests)."""

    VALID = "valid"
    CARD_EXPIRED = "card_expired"
    MISMATCH = "mismatch"
    INCOMPLETE = "incomplete"


@dataclass(frozen=True)
class CheckResult:
    """DOPA's answer: ``status``, DOPA's result ``code`` (0, 2, 4, 5) and a stable ``message_key``."""

    status: Status
    code: int
    message_key: str

    @property
    def valid(self) -> bool:
        """Whether everything matched and the card is in force."""
        return self.status == Status.VALID


VALID = CheckResult(Status.VALID, 0, "dopa.valid")
CARD_EXPIRED = CheckResult(Status.CARD_EXPIRED, 2, "dopa.card_expired")  # card no longer valid
MISMATCH = CheckResult(Status.MISMATCH, 4, "dopa.mismatch")  # data or laser code do not match
INCOMPLETE = CheckResult(Status.INCOMPLETE, 5, "dopa.incomplete")  # missing input
RESULTS_BY_CODE = {result.code: result for result in (VALID, CARD_EXPIRED, MISMATCH, INCOMPLETE)}

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

    def check(self, person: PersonToCheck) -> CheckResult:
        """DOPA's verdict on ``person`` (see the class docstring); raises ServiceUnavailable."""


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


class AskingRegistry:
    """What every backend's ``check`` does first: answer incomplete or malformed input without
    a call (``answer_without_asking``), and ask the register (``ask``) only the rest."""

    needs_laser_code: bool

    def check(self, person: PersonToCheck) -> CheckResult:
        """See ``CitizenRegistry.check``."""
        early = answer_without_asking(person, self.needs_laser_code)
        return early if early is not None else self.ask(query_for(person))

    def ask(self, query: DopaQuery) -> CheckResult:
        """The register's answer on ``query``, which is complete and well formed."""
        raise NotImplementedError


def monotonic_seconds(clock=None) -> Callable[[], float]:
    """A seconds function from a clock: ``time.monotonic`` by default, or an app ``Clock``."""
    if clock is None:
        return time.monotonic
    if hasattr(clock, "now"):  # idp.clock.Clock: a FrozenClock moves the token's idle time too
        return lambda: clock.now().timestamp()
    return clock
