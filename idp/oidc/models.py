"""OAuth clients, authorization codes, tokens and consents.

Secrets, codes and tokens are stored only as SHA-256 digests: they are high-entropy random
strings, so a fast digest is as strong as a slow one and keeps the token endpoint fast.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from authlib.oauth2.rfc6749 import ClientMixin, scope_to_list
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.accounts.models import User
from idp.db import UtcDateTime, db


def digest(secret: str) -> str:
    """The stored form of a secret or token: its SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


class Client(db.Model, ClientMixin):
    __tablename__ = "oauth_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    client_secret_hash: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    logo_uri: Mapped[str | None] = mapped_column(String(500))
    client_uri: Mapped[str | None] = mapped_column(String(500))
    redirect_uris: Mapped[list] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list] = mapped_column(JSON, default=list)
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(500))
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(30))
    scope: Mapped[str] = mapped_column(String(500))
    grant_types: Mapped[list] = mapped_column(JSON, default=list)
    require_pkce: Mapped[bool] = mapped_column(Boolean, default=False)
    trusted: Mapped[bool] = mapped_column(Boolean, default=False)
    staff_only: Mapped[bool] = mapped_column(Boolean, default=False)
    permanent_only: Mapped[bool] = mapped_column(Boolean, default=False)
    id_token_signed_response_alg: Mapped[str | None] = mapped_column(String(10))
    access_token_lifetime: Mapped[int | None] = mapped_column(Integer)
    id_token_lifetime: Mapped[int | None] = mapped_column(Integer)
    refresh_token_lifetime: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @property
    def is_public(self) -> bool:
        """A public client (no secret: ``token_endpoint_auth_method`` none)."""
        return self.token_endpoint_auth_method == "none"

    @property
    def pkce_required(self) -> bool:
        """Public clients always need PKCE (RFC 9700 2.1.1); others when an admin says so."""
        return self.is_public or self.require_pkce

    # --- Authlib ClientMixin hooks -------------------------------------------------------
    def get_client_id(self):
        """Authlib hook: the client's id."""
        return self.client_id

    def get_default_redirect_uri(self):
        # Never guess: a request without redirect_uri is refused (OIDC Core 3.1.2.1 REQUIRED).
        """Authlib hook: never a default redirect URI."""
        return None

    def get_allowed_scope(self, scope):
        """Authlib hook: the requested scopes this client may have."""
        if not scope:
            return ""
        allowed = set(scope_to_list(self.scope))
        return " ".join(s for s in scope_to_list(scope) if s in allowed)

    def check_redirect_uri(self, redirect_uri):
        """Exact string comparison (RFC 9700 4.1.3; OIDC Core 3.1.2.1)."""
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        """Authlib hook: ``secret`` matches the stored hash (constant time)."""
        if not self.client_secret_hash:
            return False
        return hmac.compare_digest(self.client_secret_hash, digest(client_secret))

    def check_endpoint_auth_method(self, method, endpoint):
        """Authlib hook: the client authenticates at the token endpoint the registered way."""
        if self.disabled_at is not None:
            return False
        return method == self.token_endpoint_auth_method

    def check_response_type(self, response_type):
        """Authlib hook: only ``code`` (the authorization code flow)."""
        return response_type == "code"

    def check_grant_type(self, grant_type):
        """Authlib hook: the client is registered for ``grant_type``."""
        return grant_type in self.grant_types


class CodeHooks:
    """Authlib's AuthorizationCodeMixin hooks, for any object with a code's attributes (the
    entity, or the row a redemption reads: ``presented.ClaimedCode``)."""

    def get_redirect_uri(self):
        """Authlib hook: the redirect URI the code was issued for."""
        return self.redirect_uri

    def get_scope(self):
        """Authlib hook: the scope granted with the code."""
        return self.scope

    def get_nonce(self):
        """Authlib hook: the nonce of the authorization request."""
        return self.nonce

    def get_auth_time(self):
        """Authlib hook: when the person signed in, as a timestamp."""
        return int(self.auth_time.timestamp())

    def get_acr(self):
        """Authlib hook: the authentication context class reference, if any."""
        return self.acr

    def get_amr(self):
        """Authlib hook: how the person signed in (``pwd``, ``otp``...)."""
        return self.amr or None


class AuthorizationCode(CodeHooks, db.Model):
    __tablename__ = "oauth_authorization_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    sid: Mapped[str] = mapped_column(String(43))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    scope: Mapped[str] = mapped_column(String(500))
    nonce: Mapped[str | None] = mapped_column(String(2048))  # authorize.MAX_NONCE_LENGTH
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(10))
    auth_time: Mapped[datetime] = mapped_column(UtcDateTime)
    amr: Mapped[list] = mapped_column(JSON, default=list)
    acr: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    user: Mapped[User] = relationship()


class Token(db.Model):
    """One access token and, optionally, its refresh token.

    Rotating a refresh token makes a new row in the same ``family_id``; presenting a rotated
    (already used) refresh token again revokes the whole family (RFC 9700 4.14.2).
    """

    __tablename__ = "oauth_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    sid: Mapped[str | None] = mapped_column(String(43), index=True)
    family_id: Mapped[str] = mapped_column(String(43), index=True)
    code_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    scope: Mapped[str] = mapped_column(String(500))
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    auth_time: Mapped[datetime | None] = mapped_column(UtcDateTime)
    amr: Mapped[list] = mapped_column(JSON, default=list)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    access_expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    refresh_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    user: Mapped[User | None] = relationship()


class Consent(db.Model):
    __tablename__ = "oauth_consents"
    __table_args__ = (UniqueConstraint("user_id", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PendingAuthorization(db.Model):
    """An authorization request waiting while the person signs in, verifies or consents.

    Kept here and not in the cookie: a large ``state`` would make the cookie too big for the
    browser (about 4 KB), and the browser would drop it. The browser holds only the id."""

    __tablename__ = "oidc_pending_authorizations"

    id: Mapped[str] = mapped_column(String(43), primary_key=True)
    params: Mapped[dict] = mapped_column(JSON)
    flags: Mapped[list] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


def find_client(client_id: str) -> Client | None:
    """The client registered as ``client_id``, enabled or not."""
    return db.session.execute(db.select(Client).filter_by(client_id=client_id)).scalar_one_or_none()
