"""Active Directory: is this citizen ID a member of MOC staff in the ministry's directory?

Behind ``StaffDirectory`` (``role.py``): ``LdapStaffDirectory`` (``ldap.py``: ``ldap3``, the real
one) and ``FileStaffDirectory`` (``file.py``: entries from a JSON file, the embedded stand-in).
``BACKENDS`` maps the ``[AD] BACKEND`` key to a class; ``staff_directory_from_config`` builds one
from the table.

Keys of the ``[AD]`` table:

- ``BACKEND``: ``"ldap"`` (real) or ``"file"`` (stand-in; refused in production mode).
- ``URL``: ``ldaps://host[:port]`` (LDAPS, port 636 by default) or ``ldap://host[:port]``.
- ``USE_SSL``: optional; LDAPS on a URL without a scheme. A scheme in ``URL`` decides otherwise.
- ``START_TLS``: ``true`` to upgrade an ``ldap://`` connection with StartTLS before binding.
- ``CA_FILE``: PEM file of the CA that signed the directory's certificate; ``""`` = system CAs.
  Certificates and host names are always verified.
- ``BIND_DN``: the read-only service account (e.g. ``CN=svc-idp,OU=Service,DC=moc,DC=go,DC=th``
  or ``svc-idp@moc.go.th``). ``BIND_PASSWORD``: its password; empty is refused, because LDAP
  treats a simple bind with an empty password as an unauthenticated (anonymous) bind.
- ``BASE_DN``: where to search (subtree), e.g. ``DC=moc,DC=go,DC=th``.
- ``USER_FILTER``: the filter that selects people, default ``(objectClass=user)``;
  ``(&(objectCategory=person)(objectClass=user))`` leaves out AD computer accounts.
- ``CITIZEN_ID_ATTRIBUTE``: the attribute that holds the 13-digit citizen ID (default
  ``employeeID``); matched exactly against the digits the caller passes.
- ``DEPARTMENT_ATTRIBUTE`` (default ``department``), ``TITLE_ATTRIBUTE`` (default ``title``).
- ``CONNECT_TIMEOUT_SECONDS`` (default 3), ``RECEIVE_TIMEOUT_SECONDS`` (default 5): bounds on
  the TCP connect and on waiting for each answer, so a silent server cannot hang a sign-up.
  The receive timeout is rounded up to whole seconds (at least 1): ldap3 sets it that way.
  Each wait is also clipped to what is left of the check's total deadline
  (``[RESILIENCE] DEADLINE_SECONDS``, see ``resilience.py``).
- ``ENTRIES_FILE``: for ``"file"`` only, the JSON entries (see ``FileStaffDirectory``).

Failure policy: staff checks fail closed. A directory that cannot be reached, refuses the bind
or answers an error raises ``ServiceUnavailable``; it is never reported as "not found". Neither
its message nor its log lines carry the citizen ID (personal data under the PDPA).
"""

from __future__ import annotations

from collections.abc import Mapping

from idp.verification.ad.file import FileStaffDirectory
from idp.verification.ad.ldap import LdapConnectionFactory, LdapStaffDirectory
from idp.verification.ad.role import DirectoryEntry, StaffDirectory

__all__ = ["BACKENDS", "DirectoryEntry", "FileStaffDirectory", "LdapConnectionFactory",
           "LdapStaffDirectory", "StaffDirectory", "staff_directory_from_config"]

BACKENDS: dict[str, type] = {
    "ldap": LdapStaffDirectory,
    "file": FileStaffDirectory,
}


def staff_directory_from_config(table: Mapping) -> StaffDirectory:
    """The ``StaffDirectory`` that the ``[AD]`` table names (see the module docstring)."""
    backend = table.get("BACKEND", "file")
    if backend not in BACKENDS:
        raise ValueError(f"[AD] BACKEND must be one of {sorted(BACKENDS)}, not {backend!r}")
    return BACKENDS[backend].from_config(table)
