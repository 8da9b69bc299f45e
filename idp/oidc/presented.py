"""Tokens as presented to an endpoint: found by their digest, with their client and account
in one statement, and whether they are usable now (userinfo, introspection, revocation,
refresh)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from authlib.oauth2.rfc6749 import TokenMixin
from sqlalchemy import bindparam
from sqlalchemy.orm.attributes import set_committed_value

from idp.accounts.models import User
from idp.accounts.snapshot import AccountSnapshot, RowWithAccount, with_account
from idp.clock import now
from idp.db import db, held_connections
from idp.oidc.client_cache import cached_client
from idp.oidc.models import CodeHooks, Token, digest, find_client
from idp.oidc.policy import may_get_tokens


@dataclass(frozen=True)
class PresentedToken(TokenMixin):
    """A token string as presented to an endpoint: the row, and which of its two tokens it is."""

    row: Token
    kind: str  # "access_token" | "refresh_token"

    @property
    def expires_at(self) -> datetime | None:
        """When this token (access or refresh) stops working."""
        return self.row.access_expires_at if self.kind == "access_token" else self.row.refresh_expires_at

    def check_client(self, client):
        """Authlib hook: the token was issued to ``client``."""
        return self.row.client_id == client.client_id

    def get_scope(self):
        """Authlib hook: the token's scope."""
        return self.row.scope

    def get_expires_in(self):
        """Authlib hook: seconds from issue to expiry."""
        return max(0, int((self.expires_at - now()).total_seconds()))

    def is_expired(self):
        """Authlib hook: the token is past its expiry."""
        return self.expires_at <= now()

    def is_revoked(self):
        """Authlib hook: revoked, or a refresh token already used."""
        used = self.kind == "refresh_token" and self.row.refresh_used_at is not None
        return self.row.revoked_at is not None or used

    def get_user(self):
        """Authlib hook: the account the token was issued for (None for a service client)."""
        return self.row.user

    def get_client(self):
        """Authlib hook: the client the token was issued to, enabled or not (through this
        process's client cache: ``client_cache``)."""
        return cached_client(self.row.client_id, find_client)

    def is_active(self) -> bool:
        """Usable now: not expired, revoked or rotated; client enabled; and the account usable,
        unless the token has no account (a service client's own, from client_credentials)."""
        client = self.get_client()
        if self.is_expired() or self.is_revoked() or client is None or client.disabled_at:
            return False
        if self.row.user_id is None:
            return client.check_grant_type("client_credentials")
        user = self.row.user
        return user is not None and may_get_tokens(user, client, now()) is None


def _token_and_account_entities(column):
    """The token whose ``column`` is a given digest, with its account, as two entities in one
    statement (built once: SQLAlchemy then reuses its compiled form), for introspection and
    revocation, which may change the row. The client comes from the client cache."""
    return (db.select(Token, User)
            .outerjoin(User, User.id == Token.user_id)
            .where(column == bindparam("digest")))


LOOKUPS = {"access_token": _token_and_account_entities(Token.access_token_hash),
           "refresh_token": _token_and_account_entities(Token.refresh_token_hash)}


class ClaimedCode(CodeHooks, RowWithAccount):
    """An authorization code as its redemption read it, with Authlib's code hooks."""

    __slots__ = ()


# Userinfo reads only what it checks and answers: every other column (amr's JSON, five
# timestamps) would be converted on each call for nothing.
TOKEN_COLUMNS = Token.__table__.c
ACCESS_GRANT = with_account(Token.__table__, TOKEN_COLUMNS.access_token_hash, columns=(
    TOKEN_COLUMNS.client_id, TOKEN_COLUMNS.scope, TOKEN_COLUMNS.access_expires_at,
    TOKEN_COLUMNS.revoked_at))


def claim_and_read(claim, read, hashed: str, moment, record=RowWithAccount) -> tuple[bool, object | None]:
    """Run the single-use ``claim`` (a conditional UPDATE on the table), then ``read`` the row
    with its account, as the UPDATE left it: (whether this call won the claim, the row as
    ``record`` or None). Both on the session's connection, in its transaction."""
    connection = db.session.connection()
    won = connection.execute(claim, {"digest": hashed, "moment": moment}).rowcount == 1
    found = connection.execute(read, {"digest": hashed}).one_or_none()
    return won, None if found is None else record(found)


def find(token: str, hint: str | None = None) -> PresentedToken | None:
    """The token row for an access or refresh token string, whatever its state.

    The account comes in the same statement and is set on ``row.user`` as loaded
    (``set_committed_value``), so reading it costs no statement of its own."""
    kinds = ("access_token", "refresh_token")
    if hint in kinds:
        kinds = (hint, *(k for k in kinds if k != hint))
    hashed = digest(token)
    return next((found for kind in kinds if (found := _find_as(kind, hashed)) is not None), None)


def _find_as(kind: str, hashed: str) -> PresentedToken | None:
    found = db.session.execute(LOOKUPS[kind], {"digest": hashed}).one_or_none()
    if found is None:
        return None
    row, user = found
    set_committed_value(row, "user", user)
    return PresentedToken(row, kind)


@dataclass(frozen=True, slots=True)
class AccessGrant:
    """What a usable access token grants: to which client, which scope, for which account."""

    client_id: str
    scope: str
    account: AccountSnapshot


def find_active_access_token(token: str) -> AccessGrant | None:
    """What an access token grants, if it is usable now (unexpired, unrevoked, its client
    enabled, its account allowed tokens there), else None. One Core statement on this thread's
    held connection (``db.HeldConnections``): no entity, no session; a service client's token
    (no account) is not found."""
    found = held_connections().read_one(db.engine, ACCESS_GRANT, {"digest": digest(token)})
    row = RowWithAccount(found) if found is not None else None
    if row is None or row.user is None:
        return None
    moment, client = now(), cached_client(row.client_id, find_client)
    if row.revoked_at is not None or row.access_expires_at <= moment or client is None \
            or client.disabled_at is not None:
        return None
    if may_get_tokens(row.user, client, moment) is not None:
        return None
    return AccessGrant(row.client_id, row.scope, row.user)
