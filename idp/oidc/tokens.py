"""Issuing, finding and revoking tokens, and building ID tokens.

Access and refresh tokens are opaque random strings stored as digests. No token outlives its
account: every ``exp`` is capped at the account's expiry, and a token of a disabled or expired
account is not active, whatever its own ``exp`` says.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, or_, select, update

from idp import audit
from idp.accounts import membership
from idp.accounts.models import User
from idp.accounts.snapshot import RowWithAccount, with_account
from idp.clock import now, timestamp
from idp.db import db
from idp.metrics import refresh_reuse_detected, token_issued
from idp.oidc.claims import user_claims
from idp.oidc.models import Client, Token, digest
from idp.oidc.presented import claim_and_read
from idp.oidc.signing import key_store


def _lifetime(client: Client, kind: str) -> timedelta:
    own = getattr(client, f"{kind}_token_lifetime")
    default = current_app.config["OIDC"][f"{kind.upper()}_TOKEN_LIFETIME_SECONDS"]
    return timedelta(seconds=own or default)


@dataclass(frozen=True)
class Grant:
    """What a token set is issued for: who, to whom, in which session, for which scope.

    ``user`` is None for a service client's own token (the client_credentials grant)."""

    client: Client
    user: User | None
    scope: str
    sid: str | None
    auth_time: datetime | None
    amr: tuple[str, ...] = ()
    nonce: str | None = None
    family_id: str | None = None
    code_hash: str | None = None


def _capped(user: User | None, moment: datetime) -> datetime:
    """No token outlives its account; a service client's token has no account to outlive."""
    return moment if user is None else membership.cap_to_account(user, moment)


INSERT_TOKEN = Token.__table__.insert()


def issue(grant: Grant, *, include_refresh_token: bool) -> tuple[dict, dict]:
    """Create and store an access token (and refresh token); returns the response and the
    stored row's values (one INSERT, not through the unit of work: nothing else holds it)."""
    moment = now()
    access, refresh = secrets.token_urlsafe(32), None
    access_exp = _capped(grant.user, moment + _lifetime(grant.client, "access"))
    row = {
        "client_id": grant.client.client_id, "user_id": grant.user.id if grant.user else None,
        "sid": grant.sid, "family_id": grant.family_id or secrets.token_urlsafe(16),
        "code_hash": grant.code_hash, "scope": grant.scope, "access_token_hash": digest(access),
        "refresh_token_hash": None, "refresh_expires_at": None, "auth_time": grant.auth_time,
        "amr": list(grant.amr), "issued_at": moment, "access_expires_at": access_exp,
    }
    if include_refresh_token:
        refresh = secrets.token_urlsafe(32)
        row["refresh_token_hash"] = digest(refresh)
        row["refresh_expires_at"] = _capped(grant.user, moment + _lifetime(grant.client, "refresh"))
    db.session.connection().execute(INSERT_TOKEN, row)  # Core: no ORM execute path
    token_issued(grant.client.client_id)
    response = {
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": max(0, int((access_exp - moment).total_seconds())),
        "scope": grant.scope,
    }
    if refresh:
        response["refresh_token"] = refresh
    return response, row


def id_token(grant: Grant, *, access_token: str | None = None) -> str:
    """A signed ID token for ``grant`` (OIDC Core 2 and 3.1.3.6), ``exp`` capped at the account's."""
    moment = now()
    client = grant.client
    alg = client.id_token_signed_response_alg or current_app.config["OIDC"]["DEFAULT_SIGNING_ALG"]
    exp = membership.cap_to_account(grant.user, moment + _lifetime(client, "id"))
    claims = {
        "iss": current_app.config["ISSUER"],
        "aud": client.client_id,
        "azp": client.client_id,
        "iat": timestamp(moment),
        "exp": timestamp(exp),
        **user_claims(grant.user, grant.scope),
    }
    optional = {
        "auth_time": timestamp(grant.auth_time) if grant.auth_time else None,
        "nonce": grant.nonce,
        "sid": grant.sid,
        "amr": list(grant.amr) or None,
        "at_hash": at_hash(access_token, alg) if access_token else None,
    }
    claims.update({k: v for k, v in optional.items() if v is not None})
    return key_store().sign(claims, alg, moment)


def at_hash(access_token: str, alg: str) -> str:
    """Left half of the SHA-256 of the access token, base64url (OIDC Core 3.1.3.6)."""
    from authlib.oidc.core.util import create_half_hash

    return create_half_hash(access_token, alg).decode()


# The statements of a refresh, built once (SQLAlchemy then reuses their compiled form), on the
# table rather than the entity: run on the session's connection, they skip the ORM's bulk-update
# machinery, which built a new cache key on every execution (a third of a refresh's Python).
TOKENS = Token.__table__
CLAIM_REFRESH_TOKEN = (
    update(TOKENS)
    .where(TOKENS.c.refresh_token_hash == bindparam("digest"), TOKENS.c.refresh_used_at.is_(None),
           TOKENS.c.revoked_at.is_(None))
    .values(refresh_used_at=bindparam("moment")))
# The token and its account's snapshot in one statement, read after the claim.
CLAIMED_REFRESH_TOKEN = with_account(TOKENS, TOKENS.c.refresh_token_hash)
LOCK_FAMILY = (
    select(TOKENS.c.id)
    .where(TOKENS.c.family_id == select(TOKENS.c.family_id)
           .where(TOKENS.c.refresh_token_hash == bindparam("digest")).scalar_subquery())
    .order_by(TOKENS.c.id).limit(1).with_for_update())


def claim_refresh_token(token: str) -> RowWithAccount | None:
    """Mark a refresh token used, atomically: of two parallel refreshes, exactly one wins.

    Presenting a refresh token that was already used revokes its whole family
    (RFC 9700 4.14.2: refresh token rotation with reuse detection).
    """
    hashed, moment = digest(token), now()
    if takes_row_locks() and not lock_family_of(hashed):
        return None
    won, row = claim_and_read(CLAIM_REFRESH_TOKEN, CLAIMED_REFRESH_TOKEN, hashed, moment)
    if row is None:
        return None
    if not won:
        if row.refresh_used_at is not None:
            revoke_family(row.family_id, reason="refresh_token_reused")
            refresh_reuse_detected()
        return None
    return row


def takes_row_locks() -> bool:
    """The database locks rows (PostgreSQL). SQLite has one writer at a time: the claim's
    UPDATE already waits for any other writer, so a family lock would only cost a statement."""
    return db.session.connection().dialect.name != "sqlite"


def lock_family_of(refresh_token_hash: str) -> bool:
    """Take the lock of the family this refresh token belongs to, held until commit: the
    family's first row, ``FOR UPDATE``, found in one statement; False for an unknown token.

    Claims and reuse revocations of one family then run one after another. Left to lock the
    rows they touch, a hundred parallel refreshes of one token deadlocked on PostgreSQL: the
    claim's UPDATE, and each revoker's multi-row UPDATE, queue on moved row versions in orders
    that can cross. (SQLite has one writer at a time and ignores ``FOR UPDATE``.)"""
    first = db.session.connection().execute(LOCK_FAMILY, {"digest": refresh_token_hash}).scalar_one_or_none()
    return first is not None


def _revoke(condition, reason: str, **details) -> int:
    """Revoke the live tokens matching ``condition``, locking them in id order first: two
    revokers with overlapping rows (a logout and a reuse detection) then queue in one order
    instead of crossing."""
    ids = db.session.execute(
        db.select(Token.id).where(condition, Token.revoked_at.is_(None))
        .order_by(Token.id).with_for_update()
    ).scalars().all()
    if not ids:
        return 0
    count = db.session.execute(
        update(Token).where(Token.id.in_(ids), Token.revoked_at.is_(None)).values(revoked_at=now())
        .execution_options(synchronize_session=False)
    ).rowcount
    if count:
        audit.record("oidc:token:revoked", details={"reason": reason, "count": count, **details})
    return count


def revoke_family(family_id: str, *, reason: str) -> int:
    """Revoke every token of a refresh-token family (reuse detected, RFC 9700 4.14.2)."""
    return _revoke(Token.family_id == family_id, reason)


def revoke_by_code(code_hash: str) -> int:
    """Revoke what a code's first redemption issued, and everything rotated from it."""
    families = db.session.execute(
        db.select(Token.family_id).where(Token.code_hash == code_hash)
    ).scalars().all()
    return _revoke(Token.family_id.in_(families), "authorization_code_reused") if families else 0


def revoke_session_tokens(sid: str) -> int:
    """Revoke the tokens issued under a sign-in session."""
    return _revoke(Token.sid == sid, "session_ended")


def revoke_user_tokens(user: User, reason: str) -> int:
    """Revoke every token the account holds; returns how many."""
    return _revoke(Token.user_id == user.id, reason)


def revoke_user_client_tokens(user: User, client_ids: list[str], reason: str) -> int:
    """Revoke what these clients hold for ``user`` (e.g. staff-only clients, staff status lost)."""
    if not client_ids:
        return 0
    return _revoke((Token.user_id == user.id) & Token.client_id.in_(client_ids), reason)


def revoke_client_tokens(client_id: str) -> int:
    """Revoke every token issued to a client."""
    return _revoke(Token.client_id == client_id, "client_disabled")


def revoke_row(row: Token, reason: str) -> int:
    """Revoke the row and its whole refresh family; returns how many rows."""
    return _revoke(or_(Token.id == row.id, Token.family_id == row.family_id), reason)
