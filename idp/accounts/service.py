"""Account services: creating and finding accounts (password sign-in: idp/accounts/sign_in.py)."""

from __future__ import annotations

import unicodedata

from idp.accounts import membership
from idp.accounts.models import User
from idp.accounts.passwords import hash_password
from idp.clock import now
from idp.db import db


class EmailTaken(Exception):
    """An account with this email (compared case-insensitively, NFKC) already exists."""


def email_key(email: str) -> str:
    """The comparison form of an email: NFKC-normalised, trimmed, case-folded."""
    return unicodedata.normalize("NFKC", email).strip().casefold()


def find_by_email(email: str) -> User | None:
    """The account with this email (compared as ``email_key`` does), or None."""
    return db.session.execute(
        db.select(User).filter_by(email_key=email_key(email))
    ).scalar_one_or_none()


def find_by_sub(sub: str) -> User | None:
    """The account with this subject identifier, or None."""
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
    db.session.add(user)
    db.session.flush()
    if permanent:
        membership.make_permanent(user, created)
    else:
        membership.start_temporary(user, created)
    return user
