"""Signup, the membership choice, and email verification."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from flask import current_app
from sqlalchemy.exc import IntegrityError

from idp import audit, mail
from idp.accounts.links import LinkInvalid, account_for_link, make_account_link_token
from idp.accounts.models import User
from idp.accounts.service import EmailTaken, create_user
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


def register(registration: Registration) -> User:
    """Create a temporary account (60 days) and commit; raises EmailTaken.

    The unique index on the email key decides between two parallel signups: the loser's
    insert fails, is rolled back, and becomes EmailTaken, never a 500.
    """
    fields = {k: v for k, v in registration.__dict__.items() if k not in ("email", "password")}
    if fields["personnel_type"] != "moc":
        fields["department"] = fields["position"] = None
    try:
        user = create_user(registration.email, registration.password, **fields)
        user.pdpa_consent_at = now()
        audit.record("account:signup", actor=user, subject=user,
                     details={"personnel_type": registration.personnel_type})
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise EmailTaken(registration.email) from None
    return user


def choose_temporary(user: User) -> None:
    """The blue button: keep the temporary membership (it already runs from signup)."""
    if user.membership_chosen_at is None:
        user.membership_chosen_at = now()
        audit.record("account:membership:temporary", actor=user, subject=user)


def _email_fingerprint(user: User) -> str:
    return hashlib.sha256(user.email_key.encode()).hexdigest()[:16]


def send_verification_email(user: User) -> None:
    """Mail the verification link; raises mail.MailUnavailable."""
    token = make_account_link_token(VERIFY_EMAIL, user, _email_fingerprint)
    link = external_url("signup.verify_email", token=token)
    mail.send(user.email, "verify_email", user=user, link=link)


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
