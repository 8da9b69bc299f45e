"""Authorization codes: issued once, redeemed once, with no race between two redemptions."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, update

from idp import audit
from idp.accounts.snapshot import with_account
from idp.clock import now
from idp.db import db
from idp.oidc.models import AuthorizationCode, digest
from idp.oidc.presented import ClaimedCode, claim_and_read
from idp.oidc.tokens import revoke_by_code

# One INSERT, not through the unit of work: nothing else in the request holds the row.
INSERT_CODE = AuthorizationCode.__table__.insert()


def issue_code(*, client, user, session, redirect_uri, scope, nonce, code_challenge,
               code_challenge_method) -> str:
    """Store a single-use authorization code for the request; returns it."""
    code, moment = secrets.token_urlsafe(32), now()
    lifetime = timedelta(seconds=current_app.config["OIDC"]["CODE_LIFETIME_SECONDS"])
    db.session.connection().execute(INSERT_CODE, dict(
        code_hash=digest(code), client_id=client.client_id, user_id=user.id, sid=session.sid,
        redirect_uri=redirect_uri, scope=scope, nonce=nonce, code_challenge=code_challenge,
        code_challenge_method=code_challenge_method, auth_time=session.auth_time,
        amr=list(session.amr), created_at=moment, expires_at=moment + lifetime, used_at=None,
    ))
    return code


# The statements of a redemption, built once (SQLAlchemy then reuses their compiled form).
# The claim is on the table, run on the session's connection (as the refresh token's claim,
# idp/oidc/tokens.py).
CODES = AuthorizationCode.__table__
CLAIM_CODE = (update(CODES)
              .where(CODES.c.code_hash == bindparam("digest"), CODES.c.used_at.is_(None))
              .values(used_at=bindparam("moment")))
# The code and its account's snapshot in one statement.
CODE_WITH_ACCOUNT = with_account(CODES, CODES.c.code_hash)


def redeem_code(code: str, client_id: str) -> ClaimedCode | None:
    """The code's record if this call is the first to redeem it, else None.

    "If an authorization code is used more than once, the authorization server MUST deny the
    request and SHOULD revoke (when possible) all tokens previously issued based on that
    authorization code." (RFC 6749 4.1.2). One conditional UPDATE decides the winner, so two
    parallel redemptions cannot both succeed, on SQLite or PostgreSQL.
    """
    hashed, moment = digest(code), now()
    won, record = claim_and_read(CLAIM_CODE, CODE_WITH_ACCOUNT, hashed, moment, ClaimedCode)
    if record is None:
        return None
    if not won:
        revoke_by_code(hashed)
        audit.record("oidc:code:reused", subject=record.user, client_id=record.client_id)
        return None
    if record.client_id != client_id or record.expires_at <= moment:
        return None
    return record
