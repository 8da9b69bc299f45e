"""``FileCitizenRegistry``: the stand-in for DOPA in the embedded default, persons from JSON.

The file (``[DOPA] PERSONS_FILE``) holds::

    {"persons": [{"citizen_id": "1101700230708", "first_name_th": "สมชาย",
                  "last_name_th": "ใจดี", "birthdate": "1985-03-14",
                  "laser_code": "JT1234567890", "card_expired": false}]}

``birthdate`` is Common-Era ``YYYY-MM-DD`` with ``00`` for an unknown month or day;
``laser_code`` is needed only when the stand-in is told to need it; ``card_expired`` is optional.
It matches as DOPA does, so the contract suite holds it to the real backends' behaviour.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from idp.verification.citizen_id import (
    buddhist_birthdate,
    is_valid_citizen_id,
    normalize_laser_code,
    normalize_thai_name,
    parse_partial_date,
)
from idp.verification.dopa.role import (
    CARD_EXPIRED,
    MISMATCH,
    VALID,
    AskingRegistry,
    CheckResult,
    DopaQuery,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RegisteredPerson:
    """One person of the stand-in's register."""

    query: DopaQuery
    card_expired: bool = field(default=False)


class FileCitizenRegistry(AskingRegistry):
    """``CitizenRegistry`` from a local JSON file. A stand-in: not for production."""

    def __init__(self, persons_file: str | Path, *, needs_laser_code: bool = False):
        logger.warning("DOPA stand-in: identity checks answered from %s; not for production",
                       persons_file)
        self.needs_laser_code = needs_laser_code
        self._persons = load_persons(Path(persons_file))

    def ask(self, query: DopaQuery) -> CheckResult:
        """The register's answer on ``query``, from the file."""
        known = self._persons.get(query.citizen_id)
        if known is None or not self._matches(query, known.query):
            return MISMATCH
        # As DOPA does: the card's state is told only to someone who knows the person's data.
        return CARD_EXPIRED if known.card_expired else VALID

    def _matches(self, asked: DopaQuery, known: DopaQuery) -> bool:
        same = (asked.first_name, asked.last_name, asked.be_birthdate) == (
            known.first_name, known.last_name, known.be_birthdate)
        return same and (not self.needs_laser_code or asked.laser_code == known.laser_code)


def load_persons(path: Path) -> dict[str, RegisteredPerson]:
    """The persons of ``path`` by citizen ID; ``ValueError`` naming the entry that is wrong."""
    with path.open(encoding="utf-8") as handle:
        entries = json.load(handle).get("persons", [])
    persons = {}
    for number, entry in enumerate(entries, start=1):
        cid = str(entry.get("citizen_id", ""))
        if not is_valid_citizen_id(cid):  # the entry's number, never the ID itself
            raise ValueError(f"{path}: person {number} has no valid citizen_id")
        try:
            birthdate = buddhist_birthdate(parse_partial_date(str(entry.get("birthdate", ""))))
        except ValueError as error:
            raise ValueError(f"{path}: person {number}: {error}") from None
        persons[cid] = RegisteredPerson(
            DopaQuery(cid, normalize_thai_name(entry.get("first_name_th", "")),
                      normalize_thai_name(entry.get("last_name_th", "")), birthdate,
                      normalize_laser_code(entry.get("laser_code"))),
            card_expired=bool(entry.get("card_expired", False)))
    return persons
