"""The identity binding: the DOPA check, and the only writer of the identity columns.

Owns ``citizen_id_encrypted``, ``citizen_id_hash``, ``citizen_id_masked``,
``verified_given_name_th``, ``verified_family_name_th``, ``identity_verified`` and
``identity_verified_at``: they are set by a passed check (``verify_identity`` → ``mark_verified``)
and cleared only by an admin's unlink (``unlink_identity``); ``rebuild_masks`` rewrites the
stored masks from the ciphertext (``moc-idp pdpa remask``). Membership follows through
``accounts.membership`` (``make_permanent``, ``back_to_temporary``), never by writing its columns.

Fail closed: a registry that cannot be reached changes nothing, spends no attempt, and says so.
An account's identity is bound once: a passed check fixes the citizen ID for good (the same ID
may be checked again, e.g. after a name change).

Rate limits keep the registry from being used as an oracle without letting anyone lock a person
out: every answer counts per account; a failed match also counts per citizen ID, but one account
adds at most its own small share to that budget. "Already linked to another account" is said only
after the whole card matched, so it tells nothing to someone who does not hold the card.

Unlinking is the only way the person behind a ``sub`` changes. The account keeps its ``sub``,
email and password, but nothing that rested on the DOPA check survives: the citizen ID and the
verified names are cleared, staff status is revoked (``staff.revoke``, so the staff-lost hooks
run), every session ends, every token is revoked (through the unlinked hooks: verification never
imports oidc), and the account is temporary again with a fresh expiry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from flask import current_app
from sqlalchemy.exc import IntegrityError

from idp import audit
from idp.accounts import membership
from idp.accounts.models import User
from idp.accounts.pdpa import vault
from idp.accounts.sessions import end_all_sessions
from idp.clock import now
from idp.db import db
from idp.ratelimit import (
    IDENTITY_CHECK_PER_ACCOUNT,
    IDENTITY_CHECK_PER_ACCOUNT_AND_CITIZEN_ID,
    IDENTITY_CHECK_PER_CITIZEN_ID,
)
from idp.verification import notices, staff
from idp.verification.citizen_id import mask_citizen_id, normalize_thai_name
from idp.verification.dopa import CitizenRegistry, PersonToCheck
from idp.verification.errors import ServiceUnavailable

EXTENSION = "idp.citizen_registry"
UNLINKED_HOOKS = "idp.identity_unlinked_hooks"


class IdentityStatus(StrEnum):
    """The outcome of one identity check (also the suffix of its audit tag)."""

    VERIFIED = "verified"
    MISMATCH = "mismatch"
    CARD_EXPIRED = "card_expired"
    INCOMPLETE = "incomplete"
    UNAVAILABLE = "unavailable"
    THROTTLED = "throttled"
    CITIZEN_ID_TAKEN = "citizen_id_taken"
    REBIND_REFUSED = "rebind_refused"


class IdentityAlreadyBound(ValueError):
    """The account's identity is verified as another citizen ID; only an admin may unlink it."""


class NothingToUnlink(Exception):
    """The account has no verified identity."""


@dataclass(frozen=True)
class IdentityOutcome:
    """The outcome of ``verify_identity``: an ``IdentityStatus``."""

    status: IdentityStatus

    @property
    def verified(self) -> bool:
        """Whether the identity is now bound to the account."""
        return self.status == IdentityStatus.VERIFIED


@dataclass(frozen=True)
class UnlinkReport:
    """What an unlink ended."""

    sessions_ended: int
    staff_revoked: bool


def registry() -> CitizenRegistry:
    """The app's DOPA registry (behind its bulkhead)."""
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
        return _record(user, IdentityStatus.REBIND_REFUSED)
    if _throttled(user, digest):
        return _record(user, IdentityStatus.THROTTLED)
    try:
        result = registry().check(person)
    except ServiceUnavailable as error:  # fail closed; the member is not charged for our outage
        return _record(user, IdentityStatus.UNAVAILABLE, system=error.system)
    IDENTITY_CHECK_PER_ACCOUNT.spend(user.sub)
    if not result.valid:
        _spend_failed_match(user, digest)
        return _record(user, IdentityStatus(result.status), code=result.code)
    return _bind(user, person, digest)


def _bind(user: User, person: PersonToCheck, digest: str) -> IdentityOutcome:
    """The whole card matched: bind it, unless another account holds this citizen ID."""
    owner = _owner(digest)
    if owner is not None and owner.id != user.id:
        return _record(user, IdentityStatus.CITIZEN_ID_TAKEN, linked_to=owner.sub)
    mark_verified(user, person, digest)
    try:
        return _record(user, IdentityStatus.VERIFIED)
    except IntegrityError:  # another account took this citizen ID a moment ago
        db.session.rollback()
        return _record(user, IdentityStatus.CITIZEN_ID_TAKEN)


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
    membership.make_permanent(user, now())


def rebuild_masks() -> int:
    """Rewrite every stored citizen-ID mask from its ciphertext and commit; returns how many
    changed (masks stored under an older rule, or cut by a migration without the keys)."""
    users = db.session.execute(db.select(User).where(User.citizen_id_encrypted.is_not(None))).scalars()
    changed = 0
    for user in users:
        mask = mask_citizen_id(vault().decrypt(user.citizen_id_encrypted))
        changed += user.citizen_id_masked != mask
        user.citizen_id_masked = mask
    db.session.commit()
    return changed


def reset_attempts(citizen_id: str, *, actor: User | None = None) -> None:
    """Give a citizen ID its whole attempt budget back (a reviewer's decision; audited, masked)."""
    IDENTITY_CHECK_PER_CITIZEN_ID.reset(vault().digest(citizen_id))
    audit.record("verification:attempts:reset", actor=actor,
                 details={"citizen_id": mask_citizen_id(citizen_id)})
    db.session.commit()


def _record(user: User, status: IdentityStatus, **details) -> IdentityOutcome:
    """Audit the outcome (never the citizen ID) and commit it with what it describes."""
    tag = "verification:dopa:matched" if status == IdentityStatus.VERIFIED else f"verification:dopa:{status}"
    audit.record(tag, actor=user, subject=user, details=details)
    db.session.commit()
    return IdentityOutcome(status)


# --- unlinking ------------------------------------------------------------------------------

def on_identity_unlinked(app, hook) -> None:
    """Register ``hook(user)``: runs after an identity is unlinked (oidc revokes the tokens)."""
    app.extensions.setdefault(UNLINKED_HOOKS, []).append(hook)


def unlink_identity(user: User, *, reason: str, actor: User | None = None) -> UnlinkReport:
    """Clear the bound identity of ``user`` and end all it gave; audited with ``reason``."""
    if not user.identity_verified and user.citizen_id_hash is None:
        raise NothingToUnlink
    was_staff = user.staff_verified_by if user.is_staff else None
    staff.revoke(user, reason="identity_unlinked", actor=actor)
    _clear_identity(user)
    ended = end_all_sessions(user, reason="identity_unlinked")
    for hook in current_app.extensions.get(UNLINKED_HOOKS, []):
        hook(user)
    audit.record("verification:identity:unlinked", actor=actor, subject=user, details={
        "reason": reason, "sessions_ended": ended, "was_staff_verified_by": was_staff})
    if was_staff:
        notices.mail_staff_lost(user)
    return UnlinkReport(ended, was_staff is not None)


def _clear_identity(user: User) -> None:
    user.citizen_id_encrypted = user.citizen_id_hash = user.citizen_id_masked = None
    user.verified_given_name_th = user.verified_family_name_th = None
    user.identity_verified, user.identity_verified_at = False, None
    membership.back_to_temporary(user, now())
