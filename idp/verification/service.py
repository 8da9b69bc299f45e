"""The identity check: the member's data against DOPA, with the PDPA rules around it.

Fail closed: a registry that cannot be reached changes nothing, spends no attempt, and says so.
An account's identity is bound once: a passed check fixes the citizen ID for good (the same ID
may be checked again, e.g. after a name change); only an admin unlinks it (``binding``).

Rate limits keep the registry from being used as an oracle without letting anyone lock a person
out: every answer counts per account; a failed match also counts per citizen ID, but one account
adds at most its own small share to that budget. "Already linked to another account" is said only
after the whole card matched, so it tells nothing to someone who does not hold the card.
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
from idp.ratelimit import (
    IDENTITY_CHECK_PER_ACCOUNT,
    IDENTITY_CHECK_PER_ACCOUNT_AND_CITIZEN_ID,
    IDENTITY_CHECK_PER_CITIZEN_ID,
)
from idp.verification.citizen_id import mask_citizen_id, normalize_thai_name
from idp.verification.dopa import CitizenRegistry, PersonToCheck
from idp.verification.errors import ServiceUnavailable

EXTENSION = "idp.citizen_registry"


class IdentityAlreadyBound(ValueError):
    """The account's identity is verified as another citizen ID; only an admin may unlink it."""


@dataclass(frozen=True)
class IdentityOutcome:
    """``status``: verified, mismatch, card_expired, incomplete, unavailable, throttled,
    citizen_id_taken, rebind_refused."""

    status: str

    @property
    def verified(self) -> bool:
        return self.status == "verified"


def registry() -> CitizenRegistry:
    return current_app.extensions[EXTENSION]


def bound_elsewhere(user: User, digest: str) -> bool:
    """The account is already bound to a citizen ID other than ``digest``."""
    return user.citizen_id_hash is not None and user.citizen_id_hash != digest


def _owner(digest: str) -> User | None:
    return db.session.execute(db.select(User).where(User.citizen_id_hash == digest)).scalar_one_or_none()


def _pair(user: User, digest: str) -> str:
    return f"{user.sub}:{digest}"


def _throttled(user: User, digest: str) -> bool:
    return (IDENTITY_CHECK_PER_ACCOUNT.exhausted(user.sub)
            or IDENTITY_CHECK_PER_ACCOUNT_AND_CITIZEN_ID.exhausted(_pair(user, digest))
            or IDENTITY_CHECK_PER_CITIZEN_ID.exhausted(digest))


def _spend_failed_match(user: User, digest: str) -> None:
    """A failed match counts per citizen ID; the pair budget caps one account's share of it."""
    IDENTITY_CHECK_PER_ACCOUNT_AND_CITIZEN_ID.spend(_pair(user, digest))
    IDENTITY_CHECK_PER_CITIZEN_ID.spend(digest)


def verify_identity(user: User, person: PersonToCheck) -> IdentityOutcome:
    """Check ``person`` with DOPA for ``user``; on success the account becomes permanent."""
    digest = vault().digest(person.citizen_id)
    if bound_elsewhere(user, digest):
        return _record(user, "rebind_refused")
    if _throttled(user, digest):
        return _record(user, "throttled")
    try:
        result = registry().check(person)
    except ServiceUnavailable as error:  # fail closed; the member is not charged for our outage
        return _record(user, "unavailable", system=error.system)
    IDENTITY_CHECK_PER_ACCOUNT.spend(user.sub)
    if not result.valid:
        _spend_failed_match(user, digest)
        return _record(user, result.status, code=result.code)
    return _bind(user, person, digest)


def _bind(user: User, person: PersonToCheck, digest: str) -> IdentityOutcome:
    """The whole card matched: bind it, unless another account holds this citizen ID."""
    owner = _owner(digest)
    if owner is not None and owner.id != user.id:
        return _record(user, "citizen_id_taken", linked_to=owner.sub)
    mark_verified(user, person, digest)
    try:
        return _record(user, "verified")
    except IntegrityError:  # another account took this citizen ID a moment ago
        db.session.rollback()
        return _record(user, "citizen_id_taken")


def mark_verified(user: User, person: PersonToCheck, digest: str) -> None:
    """Permanent membership, no expiry, the checked names recorded, the ID sealed.

    Raises ``IdentityAlreadyBound`` rather than put another person under the account's ``sub``.
    """
    if bound_elsewhere(user, digest):
        raise IdentityAlreadyBound("the account is bound to another citizen ID")
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


def reset_attempts(citizen_id: str, *, actor: User | None = None) -> None:
    """Give a citizen ID its whole attempt budget back (a reviewer's decision; audited, masked)."""
    IDENTITY_CHECK_PER_CITIZEN_ID.reset(vault().digest(citizen_id))
    audit.record("verification:attempts:reset", actor=actor,
                 details={"citizen_id": mask_citizen_id(citizen_id)})
    db.session.commit()


def _record(user: User, status: str, **details) -> IdentityOutcome:
    """Audit the outcome (never the citizen ID) and commit it with what it describes."""
    tag = {"verified": "verification:dopa:matched"}.get(status, f"verification:dopa:{status}")
    audit.record(tag, actor=user, subject=user, details=details)
    db.session.commit()
    return IdentityOutcome(status)
