"""Authorization codes: issued once, redeemed once, with no race between two redemptions."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, update

from idp import audit
from idp.accounts.models import User
from idp.clock import now
from idp.db import db
from idp.oidc.models import AuthorizationCode, digest
from idp.oidc.presented import claim_and_read
from idp.oidc.tokens import revoke_by_code

# One INSERT, not through the unit of work: nothing else in the request holds the row.
INSERT_CODE = AuthorizationCode.__table__.insert()


def issue_code(*, client, user, session, redirect_uri, scope, nonce, code_challenge,
               code_challenge_method) -> str:
    """Store a single-use authorization code for the request; returns it."""
    code, moment = secrets.token_urlsafe(32), now()
    lifetime = timedelta(seconds=current_app.config["OIDC"]["CODE_LIFETIME_SECONDS"])
    db.session.execute(INSERT_CODE, dict(
        code_hash=digest(code), client_id=client.client_id, user_id=user.id, sid=session.sid,
        redirect_uri=redirect_uri, scope=scope, nonce=nonce, code_challenge=code_challenge,
        code_challenge_method=code_challenge_method, auth_time=session.auth_time,
        amr=list(session.amr), created_at=moment, expires_at=moment + lifetime, used_at=None,
    ))
    return code


# The statements of a redemption, built once (SQLAlchemy then reuses their compiled form).
CLAIM_CODE = (update(AuthorizationCode)
              .where(AuthorizationCode.code_hash == bindparam("digest"),
                     AuthorizationCode.used_at.is_(None))
              .values(used_at=bindparam("moment"))
              .execution_options(synchronize_session=False))
# The code and its account in one statement. populate_existing: the row as the
# UPDATE left it, even if this session held it already.
CODE_WITH_ACCOUNT = (db.select(AuthorizationCode, User)
                     .outerjoin(User, User.id == AuthorizationCode.user_id)
                     .where(AuthorizationCode.code_hash == bindparam("digest"))
                     .execution_options(populate_existing=True))


def redeem_code(code: str, client_id: str) -> AuthorizationCode | None:
    """The code's record if this call is the first to redeem it, else None.

    "If an authorization code is used more than once, the authorization server MUST deny the
    request and SHOULD revoke (when possible) all tokens previously issued based on that
    authorization code." (RFC 6749 4.1.2). One conditional UPDATE decides the winner, so two
    parallel redemptions cannot both succeed, on SQLite or PostgreSQL.
    """
    hashed, moment = digest(code), now()
    won, record = claim_and_read(CLAIM_CODE, CODE_WITH_ACCOUNT, hashed, moment)
    if record is None:
        return None
    if not won:
        revoke_by_code(hashed)
        audit.record("oidc:code:reused", subject=record.user, client_id=record.client_id)
        return None
    if record.client_id != client_id or record.expires_at <= moment:
        return None
    return record
