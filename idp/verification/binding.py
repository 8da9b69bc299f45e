"""Unlinking an account's verified identity: the only way the person behind a ``sub`` changes.

It is an admin decision with a reason. The account keeps its ``sub``, email and password, but
nothing that rested on the DOPA check survives: the citizen ID (ciphertext, digest, mask) and
the verified names are cleared, staff status is revoked (through ``staff.revoke``, so the
staff-lost hooks run), every session ends (back-channel logout to the RPs), every token is
revoked (through the unlinked hooks: verification never imports oidc).

Membership: permanent membership rests on the DOPA check, so the account returns to temporary
with a fresh expiry of ``[MEMBERSHIP] TEMPORARY_DAYS`` from now; a check of the right person
makes it permanent again. The freed citizen ID may back another account.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from idp import audit
from idp.accounts import membership
from idp.accounts.models import User
from idp.accounts.sessions import end_all_sessions
from idp.clock import now
from idp.verification import notices, staff

UNLINKED_HOOKS = "idp.identity_unlinked_hooks"


class NothingToUnlink(Exception):
    """The account has no verified identity."""


@dataclass(frozen=True)
class UnlinkReport:
    sessions_ended: int
    staff_revoked: bool


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
    days = current_app.config["MEMBERSHIP"]["TEMPORARY_DAYS"]
    user.account_type, user.expires_at = "temporary", membership.temporary_expiry(now(), days)
