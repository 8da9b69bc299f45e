"""``FileStaffDirectory``: the stand-in for AD in the embedded default, entries from JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from idp.verification.ad.role import AMBIGUOUS, DirectoryEntry, log


class FileStaffDirectory:
    """``StaffDirectory`` from JSON: objects with ``citizen_id`` and the ``DirectoryEntry``
    fields (``member_of`` a list; ``enabled`` false unless true). For the embedded default."""

    def __init__(self, entries: Iterable[Mapping], *, source: str = "memory"):
        self._entries: dict[str, list[DirectoryEntry]] = {}
        for item in entries:
            fields = {k: v for k, v in item.items() if k != "citizen_id"}
            fields["member_of"] = tuple(fields.get("member_of") or ())
            fields["enabled"] = bool(fields.get("enabled", False))
            self._entries.setdefault(str(item["citizen_id"]), []).append(DirectoryEntry(**fields))
        log.warning("Active Directory is a stand-in: staff entries come from %s, not a directory",
                    source)

    @classmethod
    def from_file(cls, path: str | Path) -> FileStaffDirectory:
        """Entries from the JSON file at ``path``: a list, or ``{"entries": [...]}``."""
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        return cls(data["entries"] if isinstance(data, dict) else data, source=str(path))

    @classmethod
    def from_config(cls, table: Mapping) -> FileStaffDirectory:
        """From an ``[AD]`` table with ``BACKEND = "file"`` and ``ENTRIES_FILE``."""
        return cls.from_file(table["ENTRIES_FILE"])

    def find_by_citizen_id(self, citizen_id: str) -> DirectoryEntry | None:
        """See ``StaffDirectory.find_by_citizen_id``."""
        found = self._entries.get(citizen_id, [])
        if len(found) > 1:
            log.warning(AMBIGUOUS)
            return None
        return found[0] if found else None
