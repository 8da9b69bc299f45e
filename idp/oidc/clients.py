"""Registering and managing OAuth clients: the service behind `moc-idp clients` and the console.

Every change is validated as a whole (``ClientSettings.problems``) and audited with an
``admin:client:*`` tag. Secrets are returned once, when made, and stored only as digests.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import delete

from idp import audit
from idp.clock import now
from idp.db import db
from idp.oidc import client_checks
from idp.oidc.client_cache import cached_client
from idp.oidc.client_checks import N_, InvalidClientSettings, Problem, count_problems, uri_problems
from idp.oidc.models import AuthorizationCode, Client, Consent, Token, digest, find_client
from idp.oidc.tokens import revoke_client_tokens

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")
SCOPES = ("openid", "profile", "email", "moc", "offline_access")
DEFAULT_SCOPE = "openid profile email moc offline_access"
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
LIFETIMES = ("access_token_lifetime", "id_token_lifetime", "refresh_token_lifetime")
MIN_LIFETIME_SECONDS = 60


LIFETIME_LABELS = {"access_token_lifetime": N_("access token lifetime"),
                   "id_token_lifetime": N_("ID token lifetime"),
                   "refresh_token_lifetime": N_("refresh token lifetime")}


@dataclass(frozen=True)
class RegisteredClient:
    client: Client
    client_secret: str | None  # shown once; only its digest is stored


@dataclass(frozen=True)
class UpdatedClient:
    client: Client
    changed: tuple[str, ...]
    client_secret: str | None = None  # set when the change made a public client confidential


def default_grant_types(scope: str) -> tuple[str, ...]:
    """The code grant, plus refresh when the scope has ``offline_access``."""
    return ("authorization_code",) + (("refresh_token",) if "offline_access" in scope.split() else ())


@dataclass(frozen=True)
class ClientSettings:
    """Everything an admin decides about a client (the model's columns, by their own names)."""

    name: str
    redirect_uris: tuple[str, ...] = ()
    post_logout_redirect_uris: tuple[str, ...] = ()
    backchannel_logout_uri: str | None = None
    token_endpoint_auth_method: str = "client_secret_basic"
    scope: str = DEFAULT_SCOPE
    grant_types: tuple[str, ...] = ()
    description: str | None = None
    logo_uri: str | None = None
    client_uri: str | None = None
    require_pkce: bool = False
    trusted: bool = False
    staff_only: bool = False
    permanent_only: bool = False
    access_token_lifetime: int | None = None
    id_token_lifetime: int | None = None
    refresh_token_lifetime: int | None = None

    @classmethod
    def of(cls, client: Client) -> ClientSettings:
        """The settings of ``client``."""
        values = {f.name: getattr(client, f.name) for f in dataclasses.fields(cls)}
        return cls(**_normalized(values))

    def replace(self, **changes) -> ClientSettings:
        """A copy with ``changes``."""
        return dataclasses.replace(self, **_normalized(changes))

    def problems(self) -> list[Problem]:
        """What is wrong with these settings (empty when they may be saved)."""
        return (self._identity_problems() + self._uri_problems() + self._grant_problems()
                + self._lifetime_problems())

    def _identity_problems(self) -> list[Problem]:
        problems = [] if self.name.strip() else [Problem(N_("A name is required."))]
        if len(self.name) > 200:
            problems.append(Problem(N_("The name is longer than 200 characters.")))
        if self.description and len(self.description) > 2000:
            problems.append(Problem(N_("The description is longer than 2000 characters.")))
        return problems

    def _uri_problems(self) -> list[Problem]:
        problems = count_problems(self.redirect_uris, self.post_logout_redirect_uris)
        for uri in self.redirect_uris:
            problems += uri_problems(uri, N_("redirect URI"))
        for uri in self.post_logout_redirect_uris:
            problems += uri_problems(uri, N_("post-logout redirect URI"))
        for value, label in ((self.backchannel_logout_uri, N_("back-channel logout URI")),
                             (self.logo_uri, N_("logo URL")), (self.client_uri, N_("home page"))):
            if value:
                problems += uri_problems(value, label)
        return problems

    def _grant_problems(self) -> list[Problem]:
        grants, scopes = set(self.grant_types), self.scope.split()
        problems = []
        if self.token_endpoint_auth_method not in AUTH_METHODS:
            problems.append(Problem(N_("The token endpoint auth method must be one of %(value)s."),
                                    value=", ".join(AUTH_METHODS)))
        if not grants or grants - set(GRANT_TYPES):
            problems.append(Problem(N_("Grant types must be some of %(value)s."),
                                    value=", ".join(GRANT_TYPES)))
        unknown = set(scopes) - set(SCOPES)
        if unknown:
            problems.append(Problem(N_("Unknown scopes: %(value)s"), value=", ".join(sorted(unknown))))
        if "authorization_code" in grants:
            if not self.redirect_uris:
                problems.append(Problem(N_("At least one redirect URI is required.")))
            if "openid" not in scopes:
                problems.append(Problem(N_("The scopes must include openid.")))
        if "refresh_token" in grants and "authorization_code" not in grants:
            problems.append(Problem(N_("refresh_token needs the authorization_code grant.")))
        # RFC 6749 4.4: "The client credentials grant type MUST only be used by confidential clients."
        if "client_credentials" in grants and self.token_endpoint_auth_method == "none":
            problems.append(Problem(N_("client_credentials needs a confidential client (with a secret).")))
        return problems

    def _lifetime_problems(self) -> list[Problem]:
        # A client may have shorter lifetimes than the server's, never longer (config.example.toml).
        problems = []
        for name in LIFETIMES:
            value = getattr(self, name)
            longest = current_app.config["OIDC"][f"{name.upper()}_SECONDS"]
            if value is not None and not MIN_LIFETIME_SECONDS <= value <= longest:
                problems.append(Problem(
                    N_("%(field)s must be between 60 seconds and the server's %(value)s seconds."),
                    LIFETIME_LABELS[name], str(longest)))
        return problems


def _normalized(values: dict) -> dict:
    """Lists as tuples, blank strings as None, names trimmed."""
    result = {}
    for key, value in values.items():
        if isinstance(value, list | tuple):
            value = tuple(v.strip() for v in value if v and v.strip())
        elif isinstance(value, str) and key != "name":
            value = value.strip() or None
        result[key] = value
    if isinstance(result.get("name"), str):
        result["name"] = result["name"].strip()
    if "scope" in result:
        result["scope"] = " ".join(dict.fromkeys((result["scope"] or "").split()))
    return result


def _apply(client: Client, settings: ClientSettings) -> tuple[str, ...]:
    """Write ``settings`` to the model; returns the names of the columns that changed."""
    changed = []
    for f in dataclasses.fields(ClientSettings):
        value = getattr(settings, f.name)
        value = list(value) if isinstance(value, tuple) else value
        if getattr(client, f.name) != value:
            setattr(client, f.name, value)
            changed.append(f.name)
    return tuple(changed)


def create_client(name: str, redirect_uris=(), *, post_logout_redirect_uris=(),
                  backchannel_logout_uri: str | None = None,
                  auth_method: str = "client_secret_basic", scope: str = DEFAULT_SCOPE,
                  grant_types=None, actor=None, **settings) -> RegisteredClient:
    """Register a client; raises InvalidClientSettings listing every problem.

    ``settings`` are further ClientSettings fields (trusted, staff_only, description, ...).
    Without ``grant_types``: authorization_code, plus refresh_token with offline_access.
    """
    wanted = ClientSettings(name="").replace(
        name=name, redirect_uris=redirect_uris, post_logout_redirect_uris=post_logout_redirect_uris,
        backchannel_logout_uri=backchannel_logout_uri, token_endpoint_auth_method=auth_method,
        scope=scope,
        grant_types=default_grant_types(scope) if grant_types is None else grant_types, **settings)
    problems = wanted.problems()
    if problems:
        raise InvalidClientSettings(problems)
    secret = None if wanted.token_endpoint_auth_method == "none" else secrets.token_urlsafe(32)
    client = Client(client_id=client_checks.new_client_id(), created_at=now(),
                    client_secret_hash=digest(secret) if secret else None)
    _apply(client, wanted)
    db.session.add(client)
    db.session.flush()
    audit.record("admin:client:created", actor=actor, client_id=client.client_id,
                 details={"name": client.name, "auth_method": client.token_endpoint_auth_method,
                          "grant_types": client.grant_types})
    return RegisteredClient(client, secret)


def update_client(client: Client, *, actor=None, **changes) -> UpdatedClient:
    """Change some settings of a client; raises InvalidClientSettings listing every problem.

    Making a public client confidential issues its first secret (returned once); making a
    confidential client public drops its secret.
    """
    wanted = ClientSettings.of(client).replace(**changes)
    problems = wanted.problems()
    if problems:
        raise InvalidClientSettings(problems)
    was_public = client.is_public
    changed = _apply(client, wanted)
    secret = None
    if client.is_public:
        client.client_secret_hash = None
    elif was_public:
        secret = secrets.token_urlsafe(32)
        client.client_secret_hash = digest(secret)
    if changed:
        audit.record("admin:client:updated", actor=actor, client_id=client.client_id,
                     details={"changed": list(changed)})
    return UpdatedClient(client, changed, secret)


def active_client(client_id: str | None) -> Client | None:
    """The client with this id unless it is unknown or disabled (see ``client_cache``)."""
    client = cached_client(client_id, find_client) if client_id else None
    return client if client is not None and client.disabled_at is None else None


def list_clients() -> list[Client]:
    """Every registered client, oldest first."""
    return list(db.session.execute(db.select(Client).order_by(Client.id)).scalars())


def rotate_secret(client: Client, actor=None) -> str:
    """Give a confidential client a new secret (returned once); the old one stops working."""
    if client.is_public:
        raise InvalidClientSettings([Problem(N_("A public client (auth method none) has no secret."))])
    secret = secrets.token_urlsafe(32)
    client.client_secret_hash = digest(secret)
    audit.record("admin:client:secret_rotated", actor=actor, client_id=client.client_id)
    return secret


def disable_client(client: Client, actor=None) -> None:
    """Stop a client: no sign-in, every token it holds revoked."""
    client.disabled_at = now()
    revoke_client_tokens(client.client_id)
    audit.record("admin:client:disabled", actor=actor, client_id=client.client_id)


def enable_client(client: Client, actor=None) -> None:
    """Let a disabled client sign people in again (the tokens revoked on disabling stay so)."""
    client.disabled_at = None
    audit.record("admin:client:enabled", actor=actor, client_id=client.client_id)


def delete_client(client: Client, actor=None) -> None:
    """Remove a client with its tokens, codes and consents; its id is never reused."""
    client_id, name = client.client_id, client.name
    for model in (Token, AuthorizationCode, Consent):
        db.session.execute(delete(model).where(model.client_id == client_id)
                           .execution_options(synchronize_session=False))
    db.session.delete(client)
    audit.record("admin:client:deleted", actor=actor, client_id=client_id, details={"name": name})


@dataclass(frozen=True)
class RelyingPartyConfig:
    """What a relying party's developers need: the discovery URL and ready settings."""

    discovery_url: str
    settings: dict = field(default_factory=dict)


def relying_party_config(client: Client) -> RelyingPartyConfig:
    """What the client's relying party needs to configure itself (never the secret)."""
    issuer = current_app.config["ISSUER"].rstrip("/")
    settings = {
        "issuer": current_app.config["ISSUER"],
        "client_id": client.client_id,
        "client_secret": None if client.is_public else "<the secret shown when it was made>",
        "token_endpoint_auth_method": client.token_endpoint_auth_method,
        "grant_types": client.grant_types,
        "scope": " ".join(s for s in client.scope.split()
                          if s != "offline_access" or "refresh_token" in client.grant_types),
        "redirect_uris": client.redirect_uris or None,
        "post_logout_redirect_uris": client.post_logout_redirect_uris or None,
        "backchannel_logout_uri": client.backchannel_logout_uri,
        "code_challenge_method": "S256" if "authorization_code" in client.grant_types else None,
    }
    return RelyingPartyConfig(f"{issuer}/.well-known/openid-configuration",
                              {k: v for k, v in settings.items() if v is not None})
