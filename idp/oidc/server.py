"""The Authlib authorization server, built per app inside ``create_app`` (never module-global)."""

from __future__ import annotations

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Request
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import Flask, current_app, request

from idp import audit
from idp.clock import timestamp
from idp.oidc import presented, tokens
from idp.oidc.clients import active_client
from idp.oidc.grants import (
    AUTH_METHODS,
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    RefreshTokenGrant,
)
from idp.oidc.signing import init_key_store

SERVER = "idp.oauth_server"


class IdpAuthorizationServer(AuthorizationServer):
    def query_client(self, client_id):
        """Authlib hook: the enabled client with this id."""
        return active_client(client_id)

    def create_oauth2_request(self, bare=None):
        """Authlib hook: the request given (the token endpoint's, answered before the app), else
        Flask's. Authlib's Flask server always takes Flask's."""
        return FlaskOAuth2Request(bare if bare is not None else request)

    def save_token(self, token, request):  # pragma: no cover - grants store their own tokens
        """Authlib hook, unused: each grant stores its own tokens."""
        raise NotImplementedError("tokens are stored by idp.oidc.tokens.issue")


class TokenRevocation(RevocationEndpoint):
    """RFC 7009. Revoking either token of a grant revokes the whole grant (2.1 permits it)."""

    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string, token_type_hint):
        """Authlib hook: the token row for the presented string."""
        return presented.find(token_string, token_type_hint)

    def revoke_token(self, token, request):
        """Authlib hook: revoke the grant's tokens and audit it."""
        tokens.revoke_row(token.row, "revoked_by_client")
        audit.record("oidc:token:revocation", subject=token.row.user, client_id=token.row.client_id)


class TokenIntrospection(IntrospectionEndpoint):
    """RFC 7662, for authenticated clients, about the tokens issued to them."""

    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def query_token(self, token_string, token_type_hint):
        """Authlib hook: the token row for the presented string."""
        return presented.find(token_string, token_type_hint)

    def check_permission(self, token, client, request):
        """Authlib hook: a client may introspect only its own tokens."""
        return token.check_client(client)

    def introspect_token(self, token):
        """Authlib hook: RFC 7662 2.2, inactive unless usable now."""
        if not token.is_active():
            return {"active": False}
        row = token.row
        answer = {
            "active": True,
            "client_id": row.client_id,
            "token_type": "Bearer" if token.kind == "access_token" else "refresh_token",
            "scope": row.scope,
            "iss": current_app.config["ISSUER"],
            "aud": row.client_id,
            "iat": timestamp(row.issued_at),
            "exp": timestamp(token.expires_at),
            "sid": row.sid,
        }
        if row.user is not None:  # a service client's own token has no subject person
            answer["sub"] = row.user.sub
        return {k: v for k, v in answer.items() if v is not None}


def init_server(app: Flask) -> IdpAuthorizationServer:
    """Build the app's Authlib server with our grants and endpoints, and its key store."""
    server = IdpAuthorizationServer(app)
    server.register_grant(AuthorizationCodeGrant)
    server.register_grant(RefreshTokenGrant)
    server.register_grant(ClientCredentialsGrant)
    server.register_endpoint(TokenRevocation)
    server.register_endpoint(TokenIntrospection)
    app.extensions[SERVER] = server
    init_key_store(app)
    return server


def authorization_server() -> IdpAuthorizationServer:
    """The current app's Authlib authorization server."""
    return current_app.extensions[SERVER]
