"""Forgotten and changed passwords."""

from __future__ import annotations

import hashlib
import logging

from flask import current_app

from idp import audit, mail
from idp.accounts import sessions
from idp.accounts.links import account_for_link, make_account_link_token
from idp.accounts.models import User
from idp.accounts.passwords import hash_password, verify_password
from idp.accounts.service import find_by_email
from idp.db import db
from idp.urls import external_url

log = logging.getLogger(__name__)
RESET = "password-reset"


def _password_fingerprint(user: User) -> str:
    # Changes with the password, so a reset link works once and dies with any password change.
    return hashlib.sha256((user.password_hash or "").encode()).hexdigest()[:16]


def request_reset(email: str) -> None:
    """Mail a reset link if an enabled account has this email; the caller answers the same
    either way (no account enumeration), and a mail failure is logged, not shown."""
    user = find_by_email(email)
    audit.record("account:password:reset_requested", subject=user)
    db.session.commit()
    if user is None or user.disabled_at is not None:
        return
    token = make_account_link_token(RESET, user, _password_fingerprint)
    try:
        mail.send(user.email, "password_reset",
                  user=user, link=external_url("passwords.reset", token=token))
    except mail.MailUnavailable as error:
        log.error("password reset mail not sent: %s", error)


def user_for_reset(token: str) -> User:
    """The account a reset link is for; raises LinkInvalid (used, altered) or LinkExpired."""
    lifetime = current_app.config["ACCOUNTS"]["PASSWORD_RESET_LIFETIME_SECONDS"]
    return account_for_link(RESET, token, lifetime, _password_fingerprint)


def reset_password(token: str, new_password: str) -> User:
    user = user_for_reset(token)
    user.password_hash = hash_password(new_password)
    sessions.end_all_sessions(user, reason="password_reset")
    audit.record("account:password:reset", actor=user, subject=user)
    db.session.commit()
    return user


def change_password(user: User, current_password: str, new_password: str) -> bool:
    """Change the password if ``current_password`` is right; ends the other sessions."""
    if not verify_password(user.password_hash, current_password):
        audit.record("account:password:change_failed", actor=user, subject=user)
        db.session.commit()
        return False
    user.password_hash = hash_password(new_password)
    sessions.end_all_sessions(user, reason="password_changed", keep=sessions.current_session())
    audit.record("account:password:changed", actor=user, subject=user)
    db.session.commit()
    return True
