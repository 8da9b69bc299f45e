"""Registering and managing OAuth clients (the service behind the CLI and, later, the console)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from idp import audit
from idp.clock import now
from idp.config import is_loopback_url
from idp.db import db
from idp.oidc.models import Client, digest

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
SCOPES = ("openid", "profile", "email", "moc", "offline_access")
DEFAULT_SCOPE = "openid profile email moc offline_access"


class InvalidClientSettings(ValueError):
    """The client settings are not acceptable; ``problems`` lists each reason."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class RegisteredClient:
    client: Client
    client_secret: str | None  # shown once; only its digest is stored


def uri_problems(uri: str, label: str) -> list[str]:
    """Why ``uri`` cannot be registered: absolute, no fragment, https outside loopback."""
    parts = urlsplit(uri)
    if not parts.scheme or not parts.netloc:
        return [f"{label} {uri!r} is not an absolute URI"]
    problems = []
    if parts.fragment or uri.endswith("#"):
        problems.append(f"{label} {uri!r} must not have a fragment")
    if parts.scheme != "https" and not (parts.scheme == "http" and is_loopback_url(uri)):
        problems.append(f"{label} {uri!r} must use https (http only on loopback)")
    return problems


def settings_problems(redirect_uris, post_logout_redirect_uris, backchannel_logout_uri,
                      auth_method, scope) -> list[str]:
    problems = [] if redirect_uris else ["at least one redirect URI is required"]
    for uri in redirect_uris:
        problems += uri_problems(uri, "redirect URI")
    for uri in post_logout_redirect_uris:
        problems += uri_problems(uri, "post-logout redirect URI")
    if backchannel_logout_uri:
        problems += uri_problems(backchannel_logout_uri, "back-channel logout URI")
    if auth_method not in AUTH_METHODS:
        problems.append(f"auth method must be one of {', '.join(AUTH_METHODS)}")
    unknown = set(scope.split()) - set(SCOPES)
    if unknown:
        problems.append(f"unknown scopes: {', '.join(sorted(unknown))}")
    if "openid" not in scope.split():
        problems.append("scope must include openid")
    return problems


def create_client(name: str, redirect_uris: list[str], *, post_logout_redirect_uris=(),
                  backchannel_logout_uri: str | None = None,
                  auth_method: str = "client_secret_basic", scope: str = DEFAULT_SCOPE,
                  trusted: bool = False, require_pkce: bool = False, staff_only: bool = False,
                  permanent_only: bool = False, actor=None) -> RegisteredClient:
    """Register a client; raises InvalidClientSettings listing every problem."""
    problems = settings_problems(redirect_uris, list(post_logout_redirect_uris),
                                 backchannel_logout_uri, auth_method, scope)
    if not name.strip():
        problems.insert(0, "a name is required")
    if problems:
        raise InvalidClientSettings(problems)
    secret = None if auth_method == "none" else secrets.token_urlsafe(32)
    grants = ["authorization_code"] + (["refresh_token"] if "offline_access" in scope else [])
    client = Client(
        client_id=secrets.token_urlsafe(18), client_secret_hash=digest(secret) if secret else None,
        name=name.strip(), redirect_uris=list(redirect_uris),
        post_logout_redirect_uris=list(post_logout_redirect_uris),
        backchannel_logout_uri=backchannel_logout_uri, token_endpoint_auth_method=auth_method,
        scope=scope, grant_types=grants, trusted=trusted, require_pkce=require_pkce,
        staff_only=staff_only, permanent_only=permanent_only, created_at=now(),
    )
    db.session.add(client)
    db.session.flush()
    audit.record("admin:client:created", actor=actor, client_id=client.client_id,
                 details={"name": client.name, "auth_method": auth_method})
    return RegisteredClient(client, secret)


def find_client(client_id: str) -> Client | None:
    return db.session.execute(db.select(Client).filter_by(client_id=client_id)).scalar_one_or_none()


def active_client(client_id: str | None) -> Client | None:
    """The client with this id unless it is unknown or disabled."""
    client = find_client(client_id) if client_id else None
    return client if client is not None and client.disabled_at is None else None


def list_clients() -> list[Client]:
    return list(db.session.execute(db.select(Client).order_by(Client.id)).scalars())


def rotate_secret(client: Client, actor=None) -> str:
    if client.is_public:
        raise InvalidClientSettings(["a public client (auth method none) has no secret"])
    secret = secrets.token_urlsafe(32)
    client.client_secret_hash = digest(secret)
    audit.record("admin:client:secret_rotated", actor=actor, client_id=client.client_id)
    return secret


def disable_client(client: Client, actor=None) -> None:
    from idp.oidc.tokens import revoke_client_tokens

    client.disabled_at = now()
    revoke_client_tokens(client.client_id)
    audit.record("admin:client:disabled", actor=actor, client_id=client.client_id)
