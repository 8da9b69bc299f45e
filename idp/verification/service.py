"""The identity check: the member's data against DOPA, with the PDPA rules around it.

Fail closed: a registry that cannot be reached changes nothing and says so. Rate limits per
account and per citizen ID keep the registry from being used as an oracle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy.exc import IntegrityError

from idp import audit
from idp.accounts.models import User
from idp.accounts.pdpa import vault
from idp.clock import now
from idp.db import db
from idp.ratelimit import IDENTITY_CHECK_PER_ACCOUNT, IDENTITY_CHECK_PER_CITIZEN_ID
from idp.verification.citizen_id import mask_citizen_id, normalize_thai_name
from idp.verification.dopa import CitizenRegistry, PersonToCheck
from idp.verification.errors import ServiceUnavailable

EXTENSION = "idp.citizen_registry"


@dataclass(frozen=True)
class IdentityOutcome:
    """``status``: verified, mismatch, card_expired, incomplete, unavailable, throttled,
    citizen_id_taken."""

    status: str

    @property
    def verified(self) -> bool:
        return self.status == "verified"


def registry() -> CitizenRegistry:
    return current_app.extensions[EXTENSION]


def _taken_by_someone_else(user: User, digest: str) -> bool:
    owner = db.session.execute(
        db.select(User.id).where(User.citizen_id_hash == digest)).scalar_one_or_none()
    return owner is not None and owner != user.id


def verify_identity(user: User, person: PersonToCheck) -> IdentityOutcome:
    """Check ``person`` with DOPA for ``user``; on success the account becomes permanent."""
    digest = vault().digest(person.citizen_id)
    if IDENTITY_CHECK_PER_ACCOUNT.exhausted(user.sub) or IDENTITY_CHECK_PER_CITIZEN_ID.exhausted(digest):
        return _record(user, "throttled")
    if _taken_by_someone_else(user, digest):
        return _record(user, "citizen_id_taken")
    IDENTITY_CHECK_PER_ACCOUNT.spend(user.sub)
    IDENTITY_CHECK_PER_CITIZEN_ID.spend(digest)
    try:
        result = registry().check(person)
    except ServiceUnavailable as error:
        return _record(user, "unavailable", system=error.system)
    if not result.valid:
        return _record(user, result.status, code=result.code)
    mark_verified(user, person, digest)
    try:
        return _record(user, "verified")
    except IntegrityError:  # another account took this citizen ID a moment ago
        db.session.rollback()
        return _record(user, "citizen_id_taken")


def mark_verified(user: User, person: PersonToCheck, digest: str) -> None:
    """Permanent membership, no expiry, the checked names recorded, the ID sealed."""
    user.citizen_id_encrypted = vault().encrypt(person.citizen_id)
    user.citizen_id_hash = digest
    user.citizen_id_masked = mask_citizen_id(person.citizen_id)
    user.verified_given_name_th = normalize_thai_name(person.first_name_th)
    user.verified_family_name_th = normalize_thai_name(person.last_name_th)
    if isinstance(person.birthdate, date):
        user.birthdate = person.birthdate
    user.identity_verified, user.identity_verified_at = True, now()
    user.account_type, user.expires_at = "permanent", None
    user.membership_chosen_at = user.membership_chosen_at or now()


def _record(user: User, status: str, **details) -> IdentityOutcome:
    """Audit the outcome (never the citizen ID) and commit it with what it describes."""
    tag = {"verified": "verification:dopa:matched"}.get(status, f"verification:dopa:{status}")
    audit.record(tag, actor=user, subject=user, details=details)
    db.session.commit()
    return IdentityOutcome(status)
