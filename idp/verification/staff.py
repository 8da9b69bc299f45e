"""Staff status: the MOC personnel method (DOPA, then AD, then DPIS), and keeping it true.

This module is the only writer of ``staff_status``, ``staff_verified_by`` and
``staff_verified_at`` (``grant``, ``revoke``, ``await_review``, ``withdraw``, ``refuse``,
``clear_unverified``).

Staff status is granted only when the record found belongs to the same, DOPA-verified person
(the citizen ID, and name / birth date where the source has them) and is active. A source that
is down is never read as "not found": the member is told, and may take the document path.

Both sources are asked. When one says the person left (AD account disabled, DPIS not in
service) and the other says present, nothing is granted: the records conflict, the member is
told so and offered the document path (DESIGN.md's "loses staff status" rule, at the first check
too). A source that is down cannot contradict: a present record in the other one is enough.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from flask import current_app

from idp import audit
from idp.accounts.models import User
from idp.accounts.pdpa import vault
from idp.clock import now
from idp.db import db
from idp.ratelimit import STAFF_CHECK_PER_ACCOUNT
from idp.verification.ad import DirectoryEntry, StaffDirectory
from idp.verification.citizen_id import normalize_thai_name
from idp.verification.dpis import HrRecord, HrSystem
from idp.verification.errors import ServiceUnavailable

log = logging.getLogger(__name__)
DIRECTORY, HR_SYSTEM = "idp.staff_directory", "idp.hr_system"
STAFF_LOST_HOOKS = "idp.staff_lost_hooks"
PRESENT, LEFT, ABSENT, DOWN = "present", "left", "absent", "down"


class StaffStatus(StrEnum):
    """``User.staff_status``: this module is the only writer of it and its two companions."""

    NONE = "none"
    PENDING_REVIEW = "pending_review"
    VERIFIED = "verified"
    REJECTED = "rejected"


class LookUpStatus(StrEnum):
    """The outcome of a staff look-up (also the suffix of its audit tag)."""

    VERIFIED = "verified"
    CONFLICT = "conflict"
    NOT_FOUND = "not_found"
    UNAVAILABLE = "unavailable"
    THROTTLED = "throttled"


class IdentityRequired(ValueError):
    """Staff status rests on a DOPA-verified identity of the same account; there is none."""


@dataclass(frozen=True)
class StaffOutcome:
    """``status``: verified (``source`` ad|dpis), conflict (one source says the person left, the
    other says present), not_found, unavailable (``down`` lists which), throttled."""

    status: LookUpStatus
    source: str | None = None
    down: tuple[str, ...] = ()


def directory() -> StaffDirectory:
    """The app's staff directory (AD, behind its bulkhead)."""
    return current_app.extensions[DIRECTORY]


def hr_system() -> HrSystem:
    """The app's HR system (DPIS, behind its bulkhead)."""
    return current_app.extensions[HR_SYSTEM]


def _same_names(user: User, first: str | None, last: str | None) -> bool:
    """Names the source holds must be the DOPA-verified ones; absent names do not count."""
    pairs = [(first, user.verified_given_name_th), (last, user.verified_family_name_th)]
    return all(normalize_thai_name(theirs) == ours for theirs, ours in pairs if theirs)


def directory_verdict(user: User, entry: DirectoryEntry | None) -> str:
    """present, left (the person's account is disabled) or absent (no such person)."""
    if entry is None or not _same_names(user, entry.given_name, entry.surname):
        return ABSENT
    return PRESENT if entry.enabled else LEFT


def hr_verdict(user: User, record: HrRecord | None) -> str:
    """present, left (not in service) or absent (no record of this person)."""
    if record is None:
        return ABSENT
    if record.birthdate and isinstance(user.birthdate, date) and record.birthdate != user.birthdate:
        return ABSENT
    if not _same_names(user, record.first_name, record.last_name):
        return ABSENT
    return PRESENT if record.in_service else LEFT


def directory_match(user: User, entry: DirectoryEntry | None) -> bool:
    """Whether the directory entry is this verified member, present."""
    return directory_verdict(user, entry) == PRESENT


def hr_match(user: User, record: HrRecord | None) -> bool:
    """Whether the DPIS record is this verified member, in service."""
    return hr_verdict(user, record) == PRESENT


def _ask(find, verdict_of, user: User, citizen_id: str):
    """(verdict, record) from one source; ``down`` when it cannot be reached."""
    try:
        found = find(citizen_id)
    except ServiceUnavailable:
        return DOWN, None
    return verdict_of(user, found), found


def look_up(citizen_id: str, user: User) -> StaffOutcome:
    """Ask AD and DPIS; grant on a present record (AD first) unless the other says the
    person left."""
    ad, entry = _ask(directory().find_by_citizen_id, directory_verdict, user, citizen_id)
    dpis, record = _ask(hr_system().find_by_citizen_id, hr_verdict, user, citizen_id)
    verdicts = (ad, dpis)
    if PRESENT in verdicts and LEFT in verdicts:
        return StaffOutcome(LookUpStatus.CONFLICT)
    if ad == PRESENT:
        grant(user, "ad", entry.department, entry.title)
        return StaffOutcome(LookUpStatus.VERIFIED, "ad")
    if dpis == PRESENT:
        grant(user, "dpis", record.organisation, record.position)
        return StaffOutcome(LookUpStatus.VERIFIED, "dpis")
    down = tuple(name for name, verdict in zip(("ad", "dpis"), verdicts, strict=True) if verdict == DOWN)
    return StaffOutcome(LookUpStatus.UNAVAILABLE if down else LookUpStatus.NOT_FOUND, down=down)


def verify_staff(user: User) -> StaffOutcome:
    """Look an identity-verified member up in AD and DPIS (rate-limited per account), record
    and audit the outcome."""
    if not user.identity_verified or not user.citizen_id_encrypted:
        raise IdentityRequired("staff verification needs a DOPA-verified identity first")
    if STAFF_CHECK_PER_ACCOUNT.exhausted(user.sub):
        outcome = StaffOutcome(LookUpStatus.THROTTLED)
    else:
        STAFF_CHECK_PER_ACCOUNT.spend(user.sub)
        outcome = look_up(vault().decrypt(user.citizen_id_encrypted), user)
    tag = {"verified": f"verification:staff:{outcome.source}_matched"}.get(
        outcome.status, f"verification:staff:{outcome.status}")
    audit.record(tag, actor=user, subject=user, details={"down": list(outcome.down)})
    db.session.commit()
    return outcome


def grant(user: User, source: str, department: str | None, position: str | None) -> None:
    """Verified staff at once, department and position taken from the record."""
    user.staff_status, user.staff_verified_by, user.staff_verified_at = StaffStatus.VERIFIED, source, now()
    user.department = department or user.department
    user.position = position or user.position
    user.personnel_type = "moc"


def revoke(user: User, *, reason: str, actor=None) -> None:
    """Take staff status away (admin decision or a failed re-check) and run the hooks."""
    if user.staff_status != StaffStatus.VERIFIED:
        return
    previous = user.staff_verified_by
    user.staff_status, user.staff_verified_by, user.staff_verified_at = StaffStatus.NONE, None, None
    audit.record("verification:staff:revoked", actor=actor, subject=user,
                 details={"reason": reason, "was_verified_by": previous})
    for hook in current_app.extensions.get(STAFF_LOST_HOOKS, []):
        hook(user)


def await_review(user: User) -> None:
    """A document was submitted: staff status waits for a reviewer."""
    user.staff_status = StaffStatus.PENDING_REVIEW


def withdraw(user: User) -> None:
    """The member withdrew the pending document: no staff status, nothing waiting."""
    user.staff_status = StaffStatus.NONE


def refuse(user: User) -> None:
    """A reviewer rejected the document: the member may send another."""
    user.staff_status = StaffStatus.REJECTED


def clear_unverified(user: User) -> None:
    """An admin ends a pending or rejected staff status: none, with no source; a verified
    status is lost only through ``revoke``. The caller audits the decision in this transaction."""
    if user.staff_status == StaffStatus.VERIFIED:
        raise ValueError("a verified staff status is lost through revoke()")
    user.staff_status, user.staff_verified_by = StaffStatus.NONE, None


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
        User.staff_status == StaffStatus.VERIFIED,
        User.staff_verified_by.in_(("ad", "dpis")))).scalars().all()
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
