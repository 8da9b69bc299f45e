"""OpenID Provider metadata (OIDC Discovery 1.0, section 3)."""

from __future__ import annotations

from flask import current_app

from idp.oidc.clients import SCOPES
from idp.oidc.keys import SUPPORTED_ALGS

CLAIMS_SUPPORTED = [
    "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "azp", "at_hash", "sid", "amr",
    "name", "given_name", "family_name", "gender", "birthdate", "locale", "email",
    "email_verified", "moc_staff", "moc_account_type", "moc_account_expires_at",
    "moc_identity_verified", "moc_staff_verified_by", "moc_department", "moc_position",
]


def metadata() -> dict:
    issuer = current_app.config["ISSUER"].rstrip("/")

    def url(path: str) -> str:
        return issuer + path

    return {
        "issuer": current_app.config["ISSUER"],
        "authorization_endpoint": url("/authorize"),
        "token_endpoint": url("/token"),
        "userinfo_endpoint": url("/userinfo"),
        "jwks_uri": url("/jwks.json"),
        "revocation_endpoint": url("/revoke"),
        "introspection_endpoint": url("/introspect"),
        "end_session_endpoint": url("/logout"),
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": list(SUPPORTED_ALGS),
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic", "client_secret_post", "none",
        ],
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic", "client_secret_post", "none",
        ],
        "introspection_endpoint_auth_methods_supported": [
            "client_secret_basic", "client_secret_post",
        ],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": CLAIMS_SUPPORTED,
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "ui_locales_supported": list(current_app.config["LOCALES"]),
        "claims_locales_supported": ["th", "en"],
        "authorization_response_iss_parameter_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
    }
