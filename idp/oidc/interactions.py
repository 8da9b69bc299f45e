"""Pending authorization requests, while the person signs in, chooses an account, verifies or
consents: a database row per request, referenced by a random id.

The browser's signed session holds only the ids it started (at most a few), so the cookie stays
small whatever the request carries, and an id is useless in another browser. Each row expires
after ``OIDC.PENDING_AUTHORIZATION_SECONDS``; expired rows are removed as new ones are made, at
most once a minute per process.
Each change is its own small transaction, as the cookie it replaces was.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app, g, session
from sqlalchemy import bindparam, delete, select, update

from idp.clock import now, timestamp
from idp.db import db
from idp.oidc.models import PendingAuthorization

KEY = "oidc_interactions"  # the ids this browser started, oldest first
_READ = "oidc_interactions_read"  # flask.g: what this request read, by id
_LAST_PURGE = "idp.oidc.interactions.last_purge"  # app.extensions: when this process last purged
PURGE_INTERVAL = timedelta(minutes=1)

# Built once, on the table, and sent on the session's connection: as ORM-enabled DELETEs they
# went through the ORM's bulk machinery and built a new cache key on every call.
PENDING = PendingAuthorization.__table__
INSERT = PENDING.insert()
READ = select(PENDING).where(PENDING.c.id == bindparam("id"))
SET_FLAGS = (update(PENDING).where(PENDING.c.id == bindparam("pending_id"))
             .values(flags=bindparam("new_flags")))
DISCARD = delete(PENDING).where(PENDING.c.id == bindparam("id"))
PURGE = delete(PENDING).where(PENDING.c.expires_at <= bindparam("moment"))
MAX_PENDING = 5


def _lifetime() -> timedelta:
    return timedelta(seconds=current_app.config["OIDC"]["PENDING_AUTHORIZATION_SECONDS"])


def _own_ids() -> list[str]:
    return [i for i in session.get(KEY, []) if isinstance(i, str)]


def save(params: dict) -> str:
    """Keep the request's parameters; returns the id to carry through the interaction."""
    moment = now()
    _purge_now_and_then(moment)
    interaction_id = secrets.token_urlsafe(24)
    db.session.connection().execute(INSERT, {
        "id": interaction_id, "params": params, "flags": [], "started_at": moment,
        "expires_at": moment + _lifetime()})
    db.session.commit()
    session[KEY] = [*_own_ids(), interaction_id][-MAX_PENDING:]
    return interaction_id


def _row(interaction_id: str | None):
    """The request's row (params, flags, started_at, expires_at) if this browser started it and
    it has not expired."""
    if not interaction_id or interaction_id not in _own_ids():
        return None
    row = db.session.connection().execute(READ, {"id": interaction_id}).one_or_none()
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
        flags = sorted(set(row.flags) | {name})
        db.session.connection().execute(SET_FLAGS, {"pending_id": interaction_id, "new_flags": flags})
        db.session.commit()


def discard(interaction_id: str | None) -> None:
    """Forget a request once it is answered (with a code or an error)."""
    _forget_read(interaction_id)
    if not interaction_id or interaction_id not in _own_ids():
        return
    session[KEY] = [i for i in _own_ids() if i != interaction_id]
    db.session.connection().execute(DISCARD, {"id": interaction_id})
    db.session.commit()


def _purge_now_and_then(moment) -> None:
    """Purge expired requests when this process has not done so for PURGE_INTERVAL (by the
    app's clock): housekeeping that need not cost every new request a DELETE."""
    last = current_app.extensions.get(_LAST_PURGE)
    if last is None or moment - last >= PURGE_INTERVAL:
        current_app.extensions[_LAST_PURGE] = moment
        purge_expired(moment)


def purge_expired(moment) -> int:
    """Remove the pending requests expired at ``moment``; returns how many."""
    return db.session.connection().execute(PURGE, {"moment": moment}).rowcount
