"""Staff status: the MOC personnel method (DOPA, then AD, then DPIS), and keeping it true.

Staff status is granted only when the record found belongs to the same, DOPA-verified person
(the citizen ID, and name / birth date where the source has them) and is active. A source that
is down is never read as "not found": the member is told, and may take the document path.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from flask import current_app

from idp import audit
from idp.accounts.models import User
from idp.accounts.pdpa import vault
from idp.clock import now
from idp.db import db
from idp.verification.ad import DirectoryEntry, StaffDirectory
from idp.verification.citizen_id import normalize_thai_name
from idp.verification.dpis import HrRecord, HrSystem
from idp.verification.errors import ServiceUnavailable

log = logging.getLogger(__name__)
DIRECTORY, HR_SYSTEM = "idp.staff_directory", "idp.hr_system"
STAFF_LOST_HOOKS = "idp.staff_lost_hooks"


@dataclass(frozen=True)
class StaffOutcome:
    """``status``: verified (``source`` ad|dpis), not_found, unavailable (``down`` lists which)."""

    status: str
    source: str | None = None
    down: tuple[str, ...] = ()


def directory() -> StaffDirectory:
    return current_app.extensions[DIRECTORY]


def hr_system() -> HrSystem:
    return current_app.extensions[HR_SYSTEM]


def _same_names(user: User, first: str | None, last: str | None) -> bool:
    """Names the source holds must be the DOPA-verified ones; absent names do not count."""
    pairs = [(first, user.verified_given_name_th), (last, user.verified_family_name_th)]
    return all(normalize_thai_name(theirs) == ours for theirs, ours in pairs if theirs)


def directory_match(user: User, entry: DirectoryEntry | None) -> bool:
    return entry is not None and entry.enabled and _same_names(user, entry.given_name, entry.surname)


def hr_match(user: User, record: HrRecord | None) -> bool:
    if record is None or not record.in_service:
        return False
    if record.birthdate and isinstance(user.birthdate, date) and record.birthdate != user.birthdate:
        return False
    return _same_names(user, record.first_name, record.last_name)


def look_up(citizen_id: str, user: User) -> StaffOutcome:
    """AD first, then DPIS; the first match wins."""
    down = []
    try:
        entry = directory().find_by_citizen_id(citizen_id)
        if directory_match(user, entry):
            grant(user, "ad", entry.department, entry.title)
            return StaffOutcome("verified", "ad")
    except ServiceUnavailable:
        down.append("ad")
    try:
        record = hr_system().find_by_citizen_id(citizen_id)
        if hr_match(user, record):
            grant(user, "dpis", record.organisation, record.position)
            return StaffOutcome("verified", "dpis")
    except ServiceUnavailable:
        down.append("dpis")
    return StaffOutcome("unavailable" if down else "not_found", down=tuple(down))


def verify_staff(user: User) -> StaffOutcome:
    """Look an identity-verified member up in AD and DPIS, record and audit the outcome."""
    if not user.identity_verified or not user.citizen_id_encrypted:
        raise ValueError("staff verification needs a DOPA-verified identity first")
    outcome = look_up(vault().decrypt(user.citizen_id_encrypted), user)
    tag = {"verified": f"verification:staff:{outcome.source}_matched"}.get(
        outcome.status, f"verification:staff:{outcome.status}")
    audit.record(tag, actor=user, subject=user, details={"down": list(outcome.down)})
    db.session.commit()
    return outcome


def grant(user: User, source: str, department: str | None, position: str | None) -> None:
    """Verified staff at once, department and position taken from the record."""
    user.staff_status, user.staff_verified_by, user.staff_verified_at = "verified", source, now()
    user.department = department or user.department
    user.position = position or user.position
    user.personnel_type = "moc"


def revoke(user: User, *, reason: str, actor=None) -> None:
    """Take staff status away (admin decision or a failed re-check) and run the hooks."""
    if user.staff_status != "verified":
        return
    previous = user.staff_verified_by
    user.staff_status, user.staff_verified_by, user.staff_verified_at = "none", None, None
    audit.record("verification:staff:revoked", actor=actor, subject=user,
                 details={"reason": reason, "was_verified_by": previous})
    for hook in current_app.extensions.get(STAFF_LOST_HOOKS, []):
        hook(user)


def on_staff_lost(app, hook) -> None:
    """Register ``hook(user)``: runs when a member loses staff status (oidc ends sessions)."""
    app.extensions.setdefault(STAFF_LOST_HOOKS, []).append(hook)


@dataclass(frozen=True)
class ReverifyReport:
    checked: int
    kept: int
    revoked: int
    unchanged_source_down: int


def still_staff(user: User, citizen_id: str) -> bool | None:
    """True or False by the source that verified the member; None when it cannot be asked."""
    try:
        if user.staff_verified_by == "ad":
            return directory_match(user, directory().find_by_citizen_id(citizen_id))
        return hr_match(user, hr_system().find_by_citizen_id(citizen_id))
    except ServiceUnavailable:
        return None


def reverify_all() -> ReverifyReport:
    """Re-check every member verified by AD or DPIS; one no longer found active loses staff
    status (audited, mailed); a source that is down changes nothing."""
    from idp.verification.notices import mail_staff_lost

    users = db.session.execute(db.select(User).where(
        User.staff_status == "verified", User.staff_verified_by.in_(("ad", "dpis")))).scalars().all()
    kept = revoked = down = 0
    for user in users:
        verdict = still_staff(user, vault().decrypt(user.citizen_id_encrypted))
        if verdict is None:
            down += 1
        elif verdict:
            kept += 1
        else:
            revoke(user, reason=f"no longer active in {user.staff_verified_by}")
            mail_staff_lost(user)
            db.session.commit()
            revoked += 1
    db.session.commit()
    return ReverifyReport(len(users), kept, revoked, down)
