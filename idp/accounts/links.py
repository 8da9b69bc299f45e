"""Signed, expiring links in mails (email verification, password reset), with itsdangerous.

The issue time comes from the app clock, so expiry is testable; each purpose has its own salt,
so a link for one purpose is refused for another. Single use comes from what the payload binds
(the password hash for a reset, the email for a verification), not from server state.
"""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from idp.accounts.service import find_by_sub
from idp.clock import now, timestamp


class LinkInvalid(Exception):
    """The link was altered, made for another purpose, or already used."""


class LinkExpired(LinkInvalid):
    """The link is genuine but too old."""


def _serializer(purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"moc-idp:{purpose}")


def make_link_token(purpose: str, payload: dict) -> str:
    """A signed, timestamped token carrying ``payload`` for one ``purpose``."""
    return _serializer(purpose).dumps({**payload, "iat": timestamp(now())})


def account_for_link(purpose: str, token: str, max_age_seconds: int, fingerprint):
    """The account a genuine, unexpired link is for, while ``fingerprint(user)`` still matches
    the one the link was made with (that is what makes it single-use); raises LinkInvalid or
    LinkExpired."""
    payload = read_link_token(purpose, token, max_age_seconds)
    user = find_by_sub(payload.get("sub", ""))
    if user is None or user.disabled_at is not None or payload.get("f") != fingerprint(user):
        raise LinkInvalid(purpose)
    return user


def make_account_link_token(purpose: str, user, fingerprint) -> str:
    """A link token for ``user``, bound to ``fingerprint(user)`` (single use)."""
    return make_link_token(purpose, {"sub": user.sub, "f": fingerprint(user)})


def read_link_token(purpose: str, token: str, max_age_seconds: int) -> dict:
    """The payload of a genuine, unexpired token; raises LinkInvalid or LinkExpired."""
    try:
        payload = _serializer(purpose).loads(token)
    except BadSignature:
        raise LinkInvalid(purpose) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("iat"), int):
        raise LinkInvalid(purpose)
    if timestamp(now()) - payload["iat"] > max_age_seconds:
        raise LinkExpired(purpose)
    return payload
