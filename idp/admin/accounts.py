"""Account administration: finding accounts and the actions an admin takes on one.

Every action needs a reason, is audited with an ``admin:account:*`` tag, and is refused on the
admin's own account: nobody raises their own role or lifts their own suspension.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, or_

from idp import audit
from idp.accounts import membership, sign_in
from idp.accounts.models import LoginSession, User
from idp.accounts.pdpa import vault
from idp.accounts.sessions import end_all_sessions
from idp.accounts.signup import send_verification_email
from idp.admin import mfa
from idp.admin.guard import ROLES
from idp.audit import AuditEvent
from idp.clock import now
from idp.db import db
from idp.oidc import consent, tokens
from idp.oidc.clients import N_
from idp.verification import identity, notices, staff
from idp.verification.citizen_id import is_valid_citizen_id, mask_citizen_id, normalize_citizen_id

SEARCH_LIMIT = 50


class AccountActionRefused(Exception):
    """The action cannot be taken; ``msgid`` says why (English, in the catalog)."""

    def __init__(self, msgid: str):
        super().__init__(msgid)
        self.msgid = msgid


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_accounts(query: str, *, actor: User | None = None) -> list[User]:
    """Accounts whose email or names contain every word of ``query`` (any case), newest first;
    or, when ``query`` is a valid citizen ID, the one account it backs (exact match through
    the keyed hash: the ID is never decrypted, searched as text, or logged; the search is
    audited with the masked ID, since it reads personal data)."""
    citizen_id = normalize_citizen_id(query)
    if is_valid_citizen_id(citizen_id):
        digest = vault().digest(citizen_id)
        found = list(db.session.execute(db.select(User).filter_by(citizen_id_hash=digest)).scalars())
        audit.record("admin:account:searched_by_citizen_id", actor=actor, details={
            "citizen_id": mask_citizen_id(citizen_id), "results": len(found)})
        return found
    words = query.split()
    if not words:
        return []
    fields = (User.email, User.given_name_th, User.family_name_th, User.given_name_en,
              User.family_name_en)
    conditions = [or_(*(f.ilike(_like(word), escape="\\") for f in fields)) for word in words]
    return list(db.session.execute(
        db.select(User).where(and_(*conditions)).order_by(User.id.desc()).limit(SEARCH_LIMIT)
    ).scalars())


@dataclass(frozen=True)
class AccountOverview:
    user: User
    expired: bool
    mfa_enrolled: bool
    sessions: list[LoginSession]
    linked: list  # (Consent, Client | None)
    events: list[AuditEvent]


def account_overview(user: User) -> AccountOverview:
    """Everything the account page of the console shows about ``user``."""
    sessions = db.session.execute(
        db.select(LoginSession).filter_by(user_id=user.id)
        .order_by(LoginSession.created_at.desc()).limit(20)).scalars()
    events = db.session.execute(
        db.select(AuditEvent).where(or_(AuditEvent.subject_id == user.id,
                                        AuditEvent.actor_id == user.id))
        .order_by(AuditEvent.id.desc()).limit(30)).scalars()
    return AccountOverview(user, membership.is_expired(user, now()), mfa.is_enrolled(user),
                           list(sessions), consent.linked_clients(user), list(events))


def _check(actor: User, user: User, reason: str) -> str:
    if actor.id == user.id:
        raise AccountActionRefused(N_("You cannot take this action on your own account. "
                                      "Ask another admin."))
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise AccountActionRefused(N_("Please give the reason for this action."))
    return reason


def disable_account(user: User, *, actor: User, reason: str) -> None:
    """Stop the account: it cannot sign in, its sessions end (back-channel logout to the RPs)
    and every token it holds is revoked."""
    reason = _check(actor, user, reason)
    if user.disabled_at is not None:
        raise AccountActionRefused(N_("This account is already disabled."))
    user.disabled_at = now()
    ended = end_all_sessions(user, reason="account_disabled")
    revoked = tokens.revoke_user_tokens(user, "account_disabled")
    audit.record("admin:account:disabled", actor=actor, subject=user,
                 details={"reason": reason, "sessions_ended": ended, "tokens_revoked": revoked})


def enable_account(user: User, *, actor: User, reason: str) -> None:
    """Let a disabled account sign in again."""
    reason = _check(actor, user, reason)
    if user.disabled_at is None:
        raise AccountActionRefused(N_("This account is not disabled."))
    user.disabled_at = None
    audit.record("admin:account:enabled", actor=actor, subject=user, details={"reason": reason})


def end_sessions(user: User, *, actor: User, reason: str) -> int:
    """End every sign-in session of the account (back-channel logout to the RPs)."""
    reason = _check(actor, user, reason)
    ended = end_all_sessions(user, reason="ended_by_admin")
    audit.record("admin:account:sessions_ended", actor=actor, subject=user,
                 details={"reason": reason, "sessions_ended": ended})
    return ended


def unlock_sign_in(user: User, *, actor: User, reason: str) -> None:
    """Clear the account's sign-in throttles (the owner was kept out by someone's guesses)."""
    reason = _check(actor, user, reason)
    sign_in.unlock_sign_in(user)
    audit.record("admin:account:sign_in_unlocked", actor=actor, subject=user,
                 details={"reason": reason})


def revoke_staff(user: User, *, actor: User, reason: str) -> None:
    """Staff status back to none; staff-only clients lose the tokens they hold for the person
    (DESIGN.md: refresh fails after staff status is lost for a staff-only client)."""
    reason = _check(actor, user, reason)
    if user.staff_status == "none":
        raise AccountActionRefused(N_("This account has no staff status to revoke."))
    previous = {"staff_status": user.staff_status, "staff_verified_by": user.staff_verified_by}
    if user.staff_status == "verified":
        # The one way staff status is lost: staff-only clients lose their tokens and get a
        # back-channel logout, and the member is mailed.
        staff.revoke(user, reason=reason, actor=actor)
        notices.mail_staff_lost(user)
    else:
        staff.clear_unverified(user)
    audit.record("admin:account:staff_revoked", actor=actor, subject=user,
                 details={"reason": reason, **previous})


def unlink_identity(user: User, *, actor: User, reason: str) -> None:
    """Unbind the DOPA-verified person from the account (see ``verification.identity``)."""
    reason = _check(actor, user, reason)
    try:
        report = identity.unlink_identity(user, reason=reason, actor=actor)
    except identity.NothingToUnlink:
        raise AccountActionRefused(N_("This account has no verified identity to unlink.")) from None
    audit.record("admin:account:identity_unlinked", actor=actor, subject=user, details={
        "reason": reason, "sessions_ended": report.sessions_ended,
        "staff_revoked": report.staff_revoked})


def extend_account(user: User, *, actor: User, reason: str, last_day: date) -> None:
    """Give a temporary account a new last day (the rules live in ``accounts.membership``)."""
    reason = _check(actor, user, reason)
    try:
        membership.set_last_day(user, last_day, actor=actor, reason=reason)
    except membership.LastDayRefused as refused:
        raise AccountActionRefused(refused.msgid) from None


def reset_mfa(user: User, *, actor: User, reason: str) -> None:
    """Remove the account's second factor so that its owner enrols again."""
    reason = _check(actor, user, reason)
    if mfa.credential(user) is None:
        raise AccountActionRefused(N_("This account has no second factor to reset."))
    mfa.reset(user)
    audit.record("admin:account:mfa_reset", actor=actor, subject=user, details={"reason": reason})


def set_roles(user: User, roles: list[str], *, actor: User, reason: str) -> None:
    """Replace the account's console roles; other entries of ``User.roles`` are kept."""
    reason = _check(actor, user, reason)
    if set(roles) - set(ROLES):
        raise AccountActionRefused(N_("Unknown role."))
    before = sorted(set(user.roles or []) & set(ROLES))
    after = sorted(set(roles))
    if before == after:
        raise AccountActionRefused(N_("The roles are unchanged."))
    user.roles = [r for r in (user.roles or []) if r not in ROLES] + after
    audit.record("admin:account:roles_changed", actor=actor, subject=user,
                 details={"reason": reason, "from": before, "to": after})


def resend_verification(user: User, *, actor: User, reason: str) -> None:
    """Mail the email-verification link again (the member says it never arrived)."""
    reason = _check(actor, user, reason)
    if user.email_verified:
        raise AccountActionRefused(N_("This email is already confirmed."))
    send_verification_email(user)
    audit.record("admin:account:verification_resent", actor=actor, subject=user,
                 details={"reason": reason})
