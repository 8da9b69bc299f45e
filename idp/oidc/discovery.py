"""OpenID Provider metadata (OIDC Discovery 1.0, section 3), and the two public documents
(discovery and the JWKS) served as prepared bytes before the app does any per-request work."""

from __future__ import annotations

import copy
import json

from flask import Flask, current_app
from werkzeug.http import parse_etags, unquote_etag

from idp import request_id
from idp.oidc.clients import SCOPES
from idp.oidc.keys import SUPPORTED_ALGS, strong_etag
from idp.oidc.signing import KEYS

CLAIMS_SUPPORTED = [
    "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "azp", "at_hash", "sid", "amr",
    "name", "given_name", "family_name", "gender", "birthdate", "locale", "email",
    "email_verified", "moc_staff", "moc_account_type", "moc_account_expires_at",
    "moc_identity_verified", "moc_staff_verified_by", "moc_department", "moc_position",
]


ENDPOINTS = {
    "authorization_endpoint": "/authorize", "token_endpoint": "/token",
    "userinfo_endpoint": "/userinfo", "jwks_uri": "/jwks.json", "revocation_endpoint": "/revoke",
    "introspection_endpoint": "/introspect", "end_session_endpoint": "/logout",
}
# What this provider supports whatever the config (OpenID Connect Discovery 1.0, section 3:
# https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderMetadata).
CAPABILITIES = {
    "scopes_supported": list(SCOPES),
    "response_types_supported": ["code"],
    "response_modes_supported": ["query", "form_post"],
    "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
    "subject_types_supported": ["public"],
    "id_token_signing_alg_values_supported": list(SUPPORTED_ALGS),
    "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
    "revocation_endpoint_auth_methods_supported": [
        "client_secret_basic", "client_secret_post", "none"],
    "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    "code_challenge_methods_supported": ["S256"],
    "claims_supported": CLAIMS_SUPPORTED,
    "claims_parameter_supported": False,
    "request_parameter_supported": False,
    "request_uri_parameter_supported": False,
    "prompt_values_supported": ["none", "login", "consent", "select_account"],
}
MORE_CAPABILITIES = {
    "claims_locales_supported": ["th", "en"],
    "authorization_response_iss_parameter_supported": True,
    "backchannel_logout_supported": True,
    "backchannel_logout_session_supported": True,
    "frontchannel_logout_supported": False,
}


def metadata(config=None) -> dict:
    """The provider's metadata for ``config`` (the current app's by default)."""
    config = config if config is not None else current_app.config
    issuer = config["ISSUER"].rstrip("/")
    return {
        "issuer": config["ISSUER"],
        **{name: issuer + path for name, path in ENDPOINTS.items()},
        **copy.deepcopy(CAPABILITIES),
        "ui_locales_supported": list(config["LOCALES"]),
        **MORE_CAPABILITIES,
    }


DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/jwks.json"
# What security.headers gives every response, for the two documents that skip the app.
SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
]


class PublicDocuments:
    """WSGI middleware: answers GET and HEAD of discovery and the JWKS from bytes serialized
    once (per key-set change for the JWKS) with a strong ETag, Cache-Control and 304 on
    If-None-Match, without a session, CSRF, locale or database work. Anything else goes on to
    the app."""

    def __init__(self, app: Flask, wsgi_app):
        self.app, self.wsgi_app = app, wsgi_app
        self.max_age = app.config["SERVER"]["METADATA_MAX_AGE_SECONDS"]
        self.security_headers = document_headers(app.config)
        self._discovery: tuple[bytes, str] | None = None

    def __call__(self, environ, start_response):
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD") or path not in (DISCOVERY_PATH, JWKS_PATH):
            return self.wsgi_app(environ, start_response)
        body, etag = self.discovery_document() if path == DISCOVERY_PATH else self.jwks_document()
        headers = [("ETag", etag), ("Cache-Control", f"public, max-age={self.max_age}"),
                   (request_id.HEADER, request_id.from_environ(environ)), *self.security_headers]
        if _matches(environ.get("HTTP_IF_NONE_MATCH"), etag):
            start_response("304 Not Modified", headers)
            return [b""]
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(body))), *headers])
        return [b"" if method == "HEAD" else body]

    def discovery_document(self) -> tuple[bytes, str]:
        """The metadata as JSON bytes and their ETag (the configuration does not change)."""
        if self._discovery is None:
            body = json.dumps(metadata(self.app.config), separators=(",", ":")).encode()
            self._discovery = (body, strong_etag(body))
        return self._discovery

    def jwks_document(self) -> tuple[bytes, str]:
        """The published JWK Set now, as JSON bytes and their ETag."""
        return self.app.extensions[KEYS].jwks_document(self.app.extensions["idp.clock"].now())


def document_headers(config) -> list[tuple[str, str]]:
    """The security headers of a JSON answer given before the app (as ``security.headers``)."""
    return SECURITY_HEADERS + _hsts(config)


def _hsts(config) -> list[tuple[str, str]]:
    """Strict-Transport-Security as security.headers sends it (production mode only)."""
    hsts = config.get("SECURITY", {}).get("HSTS")
    return [("Strict-Transport-Security", hsts)] if config["MODE"] == "production" and hsts else []


def _matches(if_none_match: str | None, etag: str) -> bool:
    # RFC 9110 13.1.2: If-None-Match uses the weak comparison.
    return bool(if_none_match) and parse_etags(if_none_match).contains_weak(unquote_etag(etag)[0])
