"""Account services: creating accounts and checking a password sign-in."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from flask import current_app

from idp import audit
from idp.accounts import membership
from idp.accounts.models import User
from idp.accounts.passwords import hash_password, needs_rehash, verify_password
from idp.clock import now
from idp.db import db


class EmailTaken(Exception):
    """An account with this email (compared case-insensitively, NFKC) already exists."""


def email_key(email: str) -> str:
    """The comparison form of an email: NFKC-normalised, trimmed, case-folded."""
    return unicodedata.normalize("NFKC", email).strip().casefold()


def find_by_email(email: str) -> User | None:
    return db.session.execute(
        db.select(User).filter_by(email_key=email_key(email))
    ).scalar_one_or_none()


def find_by_sub(sub: str) -> User | None:
    return db.session.execute(db.select(User).filter_by(sub=sub)).scalar_one_or_none()


def create_user(email: str, password: str | None, *, permanent: bool = False, **fields) -> User:
    """Create an account; temporary unless ``permanent``. Raises EmailTaken."""
    if find_by_email(email) is not None:
        raise EmailTaken(email)
    created = now()
    user = User(
        email=unicodedata.normalize("NFKC", email).strip(),
        email_key=email_key(email),
        password_hash=hash_password(password) if password else None,
        created_at=created,
        roles=[],
        **fields,
    )
    if permanent:
        user.account_type, user.expires_at = "permanent", None
    else:
        days = current_app.config["MEMBERSHIP"]["TEMPORARY_DAYS"]
        user.account_type = "temporary"
        user.expires_at = membership.temporary_expiry(created, days)
    db.session.add(user)
    db.session.flush()
    return user


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    reason: str | None = None  # "bad_credentials" | "disabled"; never shown apart to the user

    @property
    def ok(self) -> bool:
        return self.user is not None and self.reason is None


def check_password_sign_in(email: str, password: str) -> SignInResult:
    """Check credentials and audit the outcome; the result never says whether the email exists."""
    user = find_by_email(email)
    # One argon2 verification whether or not the account exists: no timing oracle.
    if not verify_password(getattr(user, "password_hash", None), password) or user is None:
        audit.record("account:login:failure", subject=user, details={"reason": "bad_credentials"})
        return SignInResult(None, "bad_credentials")
    if user.disabled_at is not None:
        audit.record("account:login:failure", subject=user, details={"reason": "disabled"})
        return SignInResult(user, "disabled")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return SignInResult(user)
