"""Pending authorization requests, while the person signs in, chooses an account, verifies or
consents: a database row per request, referenced by a random id.

The browser's signed session holds only the ids it started (at most a few), so the cookie stays
small whatever the request carries, and an id is useless in another browser. Each row expires
after ``OIDC.PENDING_AUTHORIZATION_SECONDS``; expired rows are removed as new ones are made.
Each change is its own small transaction, as the cookie it replaces was.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app, g, session
from sqlalchemy import delete

from idp.clock import now, timestamp
from idp.db import db
from idp.oidc.models import PendingAuthorization

KEY = "oidc_interactions"  # the ids this browser started, oldest first
_READ = "oidc_interactions_read"  # flask.g: what this request read, by id
MAX_PENDING = 5


def _lifetime() -> timedelta:
    return timedelta(seconds=current_app.config["OIDC"]["PENDING_AUTHORIZATION_SECONDS"])


def _own_ids() -> list[str]:
    return [i for i in session.get(KEY, []) if isinstance(i, str)]


def save(params: dict) -> str:
    """Keep the request's parameters; returns the id to carry through the interaction."""
    moment = now()
    purge_expired()
    row = PendingAuthorization(id=secrets.token_urlsafe(24), params=params, flags=[],
                               started_at=moment, expires_at=moment + _lifetime())
    db.session.add(row)
    db.session.commit()
    session[KEY] = [*_own_ids(), row.id][-MAX_PENDING:]
    return row.id


def _row(interaction_id: str | None) -> PendingAuthorization | None:
    if not interaction_id or interaction_id not in _own_ids():
        return None
    row = db.session.get(PendingAuthorization, interaction_id)
    return row if row is not None and row.expires_at > now() else None


def load(interaction_id: str | None) -> dict | None:
    """The pending request this browser started, unless it expired: params, started_at, flags.

    Read once per request (the sign-in page and the resumed authorization ask several times);
    ``flag`` and ``discard`` forget what was read."""
    read = g.setdefault(_READ, {})
    if interaction_id not in read:
        row = _row(interaction_id)
        read[interaction_id] = None if row is None else {
            "params": dict(row.params), "started_at": timestamp(row.started_at),
            "flags": list(row.flags)}
    return read[interaction_id]


def _forget_read(interaction_id: str | None) -> None:
    g.get(_READ, {}).pop(interaction_id, None)


def flag(interaction_id: str, name: str) -> None:
    """Note a step the person has done (``consent_given``, ``account_selected``)."""
    _forget_read(interaction_id)
    row = _row(interaction_id)
    if row is not None:
        row.flags = sorted(set(row.flags) | {name})
        db.session.commit()


def discard(interaction_id: str | None) -> None:
    """Forget a request once it is answered (with a code or an error)."""
    _forget_read(interaction_id)
    if not interaction_id or interaction_id not in _own_ids():
        return
    session[KEY] = [i for i in _own_ids() if i != interaction_id]
    db.session.execute(delete(PendingAuthorization).where(PendingAuthorization.id == interaction_id))
    db.session.commit()


def purge_expired() -> int:
    """Remove expired pending requests; returns how many."""
    return db.session.execute(
        delete(PendingAuthorization).where(PendingAuthorization.expires_at <= now())
    ).rowcount
