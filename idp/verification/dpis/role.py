"""The DPIS role: ``HrSystem``, the ``HrRecord`` it answers, and how DPIS values are read.

Birth dates: DPIS keeps ``PER_BIRTHDATE`` as a date or as a ``YYYY-MM-DD`` string (sometimes
with a time), in the Common Era or the Buddhist Era; a year above 2400 is BE and 543 is taken
off. An empty or impossible date gives ``birthdate=None`` (the caller cannot match it).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Protocol

log = logging.getLogger("idp.verification.dpis")
SYSTEM = "DPIS"
BIRTHDATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T][0-9:.]*)?$")


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


def text_or_none(value) -> str | None:
    """``value`` as stripped text, or None."""
    return None if value is None else str(value).strip()


def hr_record(first_name, last_name, birthdate, status, position, organisation) -> HrRecord:
    """An ``HrRecord`` from DPIS's raw values (stripped, dates read, status read)."""
    parsed = parse_birthdate(birthdate)
    if parsed is None and birthdate not in (None, ""):
        log.warning("a DPIS record has a birth date that is not a date; it is ignored")
    return HrRecord(text_or_none(first_name) or "", text_or_none(last_name) or "", parsed, in_service(status),
                    text_or_none(position) or None, text_or_none(organisation) or None)


def current_record(records: list[HrRecord]) -> HrRecord | None:
    """The one record in service among a person's rows, or None when that is not clear."""
    if len(records) <= 1:
        return records[0] if records else None
    serving = [record for record in records if record.in_service]
    if len(serving) == 1:
        return serving[0]
    log.warning("%d DPIS records hold the same citizen ID, %d in service; none is used",
                len(records), len(serving))
    return None
