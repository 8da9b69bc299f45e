"""Signup, the membership choice, and email verification."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from enum import Enum

from flask import current_app
from sqlalchemy.exc import IntegrityError

from idp import audit, mail
from idp.accounts import membership, sign_in
from idp.accounts.links import LinkInvalid, account_for_link, make_account_link_token
from idp.accounts.models import User
from idp.accounts.service import EmailTaken, create_user, find_by_email
from idp.clock import now
from idp.db import db
from idp.urls import external_url

VERIFY_EMAIL = "verify-email"


@dataclass(frozen=True)
class Registration:
    """The allow-listed signup fields; nothing else a form posts can reach the account."""

    title_th: str
    given_name_th: str
    family_name_th: str
    given_name_en: str | None
    family_name_en: str | None
    gender: str
    birthdate: date
    email: str
    personnel_type: str  # "public" | "moc"
    department: str | None
    position: str | None
    password: str
    locale: str


class Outcome(Enum):
    """What a signup did; the page answers CREATED and NOTIFIED alike (no enumeration)."""

    CREATED = "created"  # a new account; the verification mail is queued
    NOTIFIED = "notified"  # the email has an account: its owner is mailed instead
    ALREADY_CREATED = "already_created"  # a retry, with the same password, of a signup that took


def register(registration: Registration, ip: str = "unknown") -> Outcome:
    """Create a temporary account (60 days) and queue its verification mail, or, when the
    email already has an account, queue a mail to its owner instead; commits either way.

    Both paths spend one argon2 computation (a hash, or a verification of the typed password
    against the account's), so neither the answer nor its time tells whether the email is
    registered. A retry, with the same password, of a signup made within
    ACCOUNTS.SIGNUP_RETRY_SECONDS (its answer may have been lost) is recognised.
    The unique index on the email key decides between two parallel signups: the loser's
    insert fails, is rolled back, and takes the existing-email path, never a 500.
    """
    existing = find_by_email(registration.email)
    if existing is None:
        try:
            _create(registration)
            return Outcome.CREATED
        except (EmailTaken, IntegrityError):
            db.session.rollback()
            existing = find_by_email(registration.email)
    return _existing_email(existing, registration.password, ip)


def _create(registration: Registration) -> User:
    fields = {k: v for k, v in registration.__dict__.items() if k not in ("email", "password")}
    if fields["personnel_type"] != "moc":
        fields["department"] = fields["position"] = None
    user = create_user(registration.email, registration.password, **fields)
    user.pdpa_consent_at = now()
    audit.record("account:signup", actor=user, subject=user,
                 details={"personnel_type": registration.personnel_type})
    send_verification_email(user)
    db.session.commit()
    return user


def _existing_email(user: User, password: str, ip: str) -> Outcome:
    # The retry check is a password guess: counted and throttled as a sign-in from ``ip``.
    password_matches = sign_in.password_guess_matches(user, password, ip)
    window = current_app.config["ACCOUNTS"]["SIGNUP_RETRY_SECONDS"]
    if password_matches and user.disabled_at is None and now() - user.created_at <= timedelta(seconds=window):
        audit.record("account:signup:repeated", subject=user)
        db.session.commit()
        return Outcome.ALREADY_CREATED
    audit.record("account:signup:existing_email", subject=user)
    mail.queue(user.email, "signup_existing", user=user, login_link=external_url("accounts.login"),
               reset_link=external_url("passwords.forgot"))
    db.session.commit()
    return Outcome.NOTIFIED


def choose_temporary(user: User) -> None:
    """The blue button: keep the temporary membership (it already runs from signup)."""
    membership.choose_temporary(user, now())


def _email_fingerprint(user: User) -> str:
    return hashlib.sha256(user.email_key.encode()).hexdigest()[:16]


def send_verification_email(user: User) -> None:
    """Queue the verification mail in the current transaction (sent once it commits)."""
    token = make_account_link_token(VERIFY_EMAIL, user, _email_fingerprint)
    link = external_url("signup.verify_email", token=token)
    mail.queue(user.email, "verify_email", user=user, link=link)


def confirm_email(token: str) -> User:
    """Mark the email verified; raises LinkInvalid (also when already used) or LinkExpired."""
    lifetime = current_app.config["ACCOUNTS"]["EMAIL_LINK_LIFETIME_SECONDS"]
    user = account_for_link(VERIFY_EMAIL, token, lifetime, _email_fingerprint)
    if user.email_verified:
        raise LinkInvalid(VERIFY_EMAIL)
    user.email_verified = True
    audit.record("account:email:verified", actor=user, subject=user)
    db.session.commit()
    return user
