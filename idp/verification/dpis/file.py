"""``FileHrSystem``: the stand-in for DPIS in the embedded default, people from a JSON file.

Key (``BACKEND = "file"``): ``PEOPLE_FILE``, JSON: a list (or ``{"people": [...]}``) of objects
with ``citizen_id`` and the ``HrRecord`` fields (``birthdate`` as DPIS writes it, ``in_service``
true or false). It logs a warning, and ``check_config`` refuses it in production.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from idp.verification.dpis.role import HrRecord, current_record, hr_record, log


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
        return current_record([
            hr_record(p["first_name"], p["last_name"], p.get("birthdate"), p.get("in_service") is True,
                    p.get("position"), p.get("organisation"))
            for p in self._people.get(citizen_id, [])])
