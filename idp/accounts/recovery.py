"""Forgotten and changed passwords."""

from __future__ import annotations

import hashlib
from enum import Enum

from flask import current_app

from idp import audit, mail
from idp.accounts import sessions
from idp.accounts.links import account_for_link, make_account_link_token
from idp.accounts.models import User
from idp.accounts.passwords import hash_password, verify_password
from idp.accounts.service import find_by_email
from idp.db import db
from idp.ratelimit import PASSWORD_CHANGE_PER_ACCOUNT
from idp.urls import external_url

RESET = "password-reset"


class Change(Enum):
    """The outcome of a password change."""

    CHANGED = "changed"
    WRONG_PASSWORD = "wrong_password"
    THROTTLED = "throttled"


def _password_fingerprint(user: User) -> str:
    # Changes with the password (a reset link works once and dies with any password change)
    # and with each new reset request (a newer link invalidates the older ones).
    material = f"{user.password_hash or ''}:{user.password_reset_generation or 0}"
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def request_reset(email: str) -> None:
    """Queue a reset link if an enabled account has this email, and commit.

    The request does the same work either way (a database write, no mail server), and the
    caller answers the same either way: no account enumeration by content or by time.
    """
    user = find_by_email(email)
    audit.record("account:password:reset_requested", subject=user)
    if user is not None and user.disabled_at is None:
        user.password_reset_generation = (user.password_reset_generation or 0) + 1
        db.session.flush()
        token = make_account_link_token(RESET, user, _password_fingerprint)
        mail.queue(user.email, "password_reset", user=user,
                   link=external_url("passwords.reset", token=token))
    db.session.commit()


def user_for_reset(token: str) -> User:
    """The account a reset link is for; raises LinkInvalid (used, altered, superseded by a
    newer link) or LinkExpired."""
    lifetime = current_app.config["ACCOUNTS"]["PASSWORD_RESET_LIFETIME_SECONDS"]
    return account_for_link(RESET, token, lifetime, _password_fingerprint)


def _password_changed(user: User, how: str) -> None:
    """Tell the owner, so a change they did not make does not go unnoticed."""
    mail.queue(user.email, "password_changed", user=user, how=how,
               link=external_url("passwords.forgot"))


def reset_password(token: str, new_password: str) -> User:
    """Set the new password from a reset link; every session of the account ends."""
    user = user_for_reset(token)
    user.password_hash = hash_password(new_password)
    sessions.end_all_sessions(user, reason="password_reset")
    audit.record("account:password:reset", actor=user, subject=user)
    _password_changed(user, "reset")
    db.session.commit()
    return user


def change_password(user: User, current_password: str, new_password: str) -> Change:
    """Change the password if ``current_password`` is right; ends the other sessions.

    Wrong current passwords are limited per account (RATE_LIMITS.PASSWORD_CHANGE_PER_ACCOUNT),
    so a borrowed session cannot be used to guess the password.
    """
    if PASSWORD_CHANGE_PER_ACCOUNT.exhausted(user.sub):
        audit.record("account:password:change_throttled", actor=user, subject=user)
        db.session.commit()
        return Change.THROTTLED
    if not verify_password(user.password_hash, current_password):
        PASSWORD_CHANGE_PER_ACCOUNT.spend(user.sub)
        audit.record("account:password:change_failed", actor=user, subject=user)
        db.session.commit()
        return Change.WRONG_PASSWORD
    user.password_hash = hash_password(new_password)
    sessions.end_all_sessions(user, reason="password_changed", keep=sessions.current_session())
    audit.record("account:password:changed", actor=user, subject=user)
    _password_changed(user, "change")
    db.session.commit()
    return Change.CHANGED
