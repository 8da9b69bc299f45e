"""The AD role: ``StaffDirectory`` and the ``DirectoryEntry`` it answers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger("idp.verification.ad")
SYSTEM = "Active Directory"
AMBIGUOUS = "more than one directory account holds the same citizen ID; none is used"



@dataclass(frozen=True)
class DirectoryEntry:
    """One person's account as the directory holds it. Names are ``None`` where absent."""

    sam_account_name: str | None
    user_principal_name: str | None
    display_name: str | None
    given_name: str | None
    surname: str | None
    department: str | None
    title: str | None
    enabled: bool
    member_of: tuple[str, ...] = ()


class StaffDirectory(Protocol):
    """The ministry's staff directory (Active Directory), looked up by citizen ID."""

    def find_by_citizen_id(self, citizen_id: str) -> DirectoryEntry | None:
        """The one account whose citizen-ID attribute equals ``citizen_id``, or None.

        - ``citizen_id`` is matched exactly, as a value: characters that mean something in
          a search filter (``*``, ``(``, ``)``, ``\\``, NUL) match only themselves.
        - None when no account holds it, and also when more than one does: an ambiguous
          answer proves nobody's identity, so none is picked (a warning is logged).
        - A disabled account is returned with ``enabled=False``; deciding that it does not
          count is the caller's policy (the verification service refuses it, and a later
          check that finds it disabled takes staff status away). ``enabled`` is also False
          when the account's state cannot be read: fail closed.
        - Raises ``ServiceUnavailable`` when the directory cannot be reached, does not answer
          in time, refuses the service bind, or answers an error. Never None for those.
        - The citizen ID appears in no exception message and no log line.
        """
