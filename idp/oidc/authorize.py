"""The authorization request (OIDC Core 3.1.2): parsing, validation, and the decision.

The protocol does not draw the login page: when the person must sign in or consent, the request
is kept as an *interaction* and the browser is sent to that page, which comes back to
``/authorize/resume`` when done.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import timedelta

from flask import current_app

from idp.clock import now
from idp.oidc.clients import SCOPES, active_client
from idp.oidc.models import Client
from idp.oidc.signing import key_store

PROMPTS = {"none", "login", "consent", "select_account"}
# Bounds of our own (the specs set none): a state or nonce is an opaque value a client needs a
# few dozen characters for; the whole request must fit comfortably in a URL and in the
# answer's Location header. A state over the bound is not sent back.
MAX_STATE_LENGTH = 2048
MAX_NONCE_LENGTH = 2048  # also the size of oauth_authorization_codes.nonce
MAX_REQUEST_LENGTH = 8192
RESPONSE_MODES = {"query", "form_post"}
# RFC 7636 4.2: code_challenge = BASE64URL-ENCODE(SHA256(ASCII(code_verifier))), without
# padding: exactly 43 characters of the base64url alphabet (S256 is the only method we accept).
S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")


class FatalRequestError(Exception):
    """The client or redirect URI cannot be trusted: show an error page, never redirect
    (RFC 6749 4.1.2.1; RFC 9700 4.11.1 against open redirectors)."""

    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.error, self.description = error, description


class RedirectableError(Exception):
    """An error to send back to the client's verified redirect URI (RFC 6749 4.1.2.1)."""

    def __init__(self, error: str, description: str, request: AuthorizationRequest):
        super().__init__(description)
        self.error, self.description, self.request = error, description, request


@dataclass(frozen=True)
class AuthorizationRequest:
    client_id: str
    redirect_uri: str
    response_mode: str
    state: str | None
    response_type: str = ""
    scope: str = ""
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None
    prompt: tuple[str, ...] = ()
    max_age: int | None = None
    id_token_hint: str | None = None
    login_hint: str | None = None
    ui_locales: tuple[str, ...] = ()
    acr_values: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def no_prompt(self) -> bool:
        """``prompt=none``: no page may be shown (OIDC Core 3.1.2.1)."""
        return "none" in self.prompt

    def to_params(self) -> dict:
        """The request as query parameters, to resume it after an interaction."""
        params = {
            "client_id": self.client_id, "redirect_uri": self.redirect_uri,
            "response_type": self.response_type, "scope": self.scope, "state": self.state,
            "nonce": self.nonce, "code_challenge": self.code_challenge,
            "code_challenge_method": self.code_challenge_method,
            "response_mode": self.response_mode if self.response_mode != "query" else None,
            "prompt": " ".join(self.prompt) or None,
            "max_age": str(self.max_age) if self.max_age is not None else None,
            "id_token_hint": self.id_token_hint, "login_hint": self.login_hint,
            "ui_locales": " ".join(self.ui_locales) or None, "acr_values": self.acr_values,
        }
        return {k: v for k, v in params.items() if v is not None}


def _single(params, name: str) -> str | None:
    """A parameter's value; "Request and response parameters MUST NOT be included more than
    once" (RFC 6749 3.1), and an empty value counts as absent (OIDC Core 3.1.2.1)."""
    values = params.getlist(name) if hasattr(params, "getlist") else [params.get(name)]
    values = [v for v in values if v not in (None, "")]
    if len(values) > 1:
        raise ValueError(name)
    return values[0] if values else None


def parse(params) -> tuple[AuthorizationRequest, Client]:
    """Validate the client and redirect URI first; then everything else, as redirectable errors."""
    try:
        client_id, redirect_uri = _single(params, "client_id"), _single(params, "redirect_uri")
    except ValueError as error:
        raise FatalRequestError("invalid_request", f"'{error}' was sent more than once") from None
    client = active_client(client_id)
    if client is None:
        raise FatalRequestError("invalid_client", "unknown or disabled client_id")
    if redirect_uri is None or not client.check_redirect_uri(redirect_uri):
        raise FatalRequestError("invalid_request", "redirect_uri is missing or not registered")
    base = AuthorizationRequest(client.client_id, redirect_uri, "query", None)
    try:
        state, mode = _single(params, "state"), _single(params, "response_mode") or "query"
    except ValueError as error:
        raise RedirectableError("invalid_request", f"'{error}' was sent more than once", base) from None
    _check_size(params, state, base)
    base = AuthorizationRequest(client.client_id, redirect_uri, "query", state)
    if mode not in RESPONSE_MODES:
        raise RedirectableError("invalid_request", "unsupported response_mode", base)
    base = AuthorizationRequest(client.client_id, redirect_uri, mode, state)
    try:
        request = _parse_rest(params, base)
    except ValueError as error:
        raise RedirectableError("invalid_request", f"'{error}' was sent more than once", base) from None
    _validate(request, client)
    return request, client


def _check_size(params, state: str | None, base: AuthorizationRequest) -> None:
    """Refuse an oversized request: a ``state`` over the bound is not sent back (the answer
    must fit in a Location header); the whole request must fit in the pending-request row."""
    if state is not None and len(state) > MAX_STATE_LENGTH:
        raise RedirectableError("invalid_request", "state is longer than "
                                f"{MAX_STATE_LENGTH} characters", base)
    pairs = params.items(multi=True) if hasattr(params, "getlist") else params.items()
    if sum(len(name) + len(value or "") for name, value in pairs) > MAX_REQUEST_LENGTH:
        raise RedirectableError("invalid_request", "the authorization request is longer than "
                                f"{MAX_REQUEST_LENGTH} characters", replace(base, state=state))


def _parse_rest(params, base: AuthorizationRequest) -> AuthorizationRequest:
    get = lambda name: _single(params, name)  # noqa: E731
    max_age = get("max_age")
    if max_age is not None and not max_age.isdigit():
        raise RedirectableError("invalid_request", "max_age must be a non-negative integer", base)
    known = {
        "response_type", "scope", "nonce", "code_challenge", "code_challenge_method", "prompt",
        "id_token_hint", "login_hint", "ui_locales", "acr_values", "request", "request_uri",
        "registration",
    }
    values = {name: get(name) for name in known}
    return AuthorizationRequest(
        client_id=base.client_id, redirect_uri=base.redirect_uri,
        response_mode=base.response_mode, state=base.state,
        response_type=values["response_type"] or "", scope=values["scope"] or "",
        nonce=values["nonce"], code_challenge=values["code_challenge"],
        code_challenge_method=values["code_challenge_method"],
        prompt=tuple((values["prompt"] or "").split()),
        max_age=int(max_age) if max_age is not None else None,
        id_token_hint=values["id_token_hint"], login_hint=values["login_hint"],
        ui_locales=tuple((values["ui_locales"] or "").split()), acr_values=values["acr_values"],
        extra={k: values[k] for k in ("request", "request_uri", "registration") if values[k]},
    )


def _validate(request: AuthorizationRequest, client: Client) -> None:
    def fail(error, description):
        """Raise the request's error (redirected once the redirect URI is trusted)."""
        raise RedirectableError(error, description, request)

    # OIDC Core 6: request objects are not supported, and say so with their own errors.
    if "request" in request.extra:
        fail("request_not_supported", "the request parameter is not supported")
    if "request_uri" in request.extra:
        fail("request_uri_not_supported", "the request_uri parameter is not supported")
    if "registration" in request.extra:
        fail("registration_not_supported", "the registration parameter is not supported")
    if not request.response_type:
        fail("invalid_request", "response_type is required")
    if request.response_type != "code":
        fail("unsupported_response_type", "only response_type=code is supported")
    if "openid" not in request.scope.split():
        fail("invalid_scope", "scope must include openid")
    if request.nonce is not None and len(request.nonce) > MAX_NONCE_LENGTH:
        fail("invalid_request", f"nonce is longer than {MAX_NONCE_LENGTH} characters")
    if set(request.prompt) - PROMPTS:
        fail("invalid_request", "unknown prompt value")
    if request.no_prompt and len(request.prompt) > 1:
        fail("invalid_request", "prompt=none cannot be combined with other values")
    _validate_pkce(request, client, fail)


def _validate_pkce(request, client, fail) -> None:
    """RFC 7636 4.3 with S256 only (RFC 9700 2.1.1: "plain" MUST NOT be used)."""
    if request.code_challenge is None:
        if request.code_challenge_method is not None:
            fail("invalid_request", "code_challenge_method without code_challenge")
        if client.pkce_required:
            fail("invalid_request", "this client must use PKCE (code_challenge with S256)")
        return
    if (request.code_challenge_method or "plain") != "S256":
        fail("invalid_request", "code_challenge_method must be S256")
    if not S256_CHALLENGE.fullmatch(request.code_challenge):
        fail("invalid_request", "code_challenge is malformed")


def granted_scope(request: AuthorizationRequest, client: Client) -> str:
    """The requested scopes that this server knows and the client may have, in request order."""
    allowed = set(client.scope.split()) & set(SCOPES)
    scopes = [s for s in dict.fromkeys(request.scope.split()) if s in allowed]
    return " ".join(scopes)


def needs_fresh_login(request: AuthorizationRequest, session, started_at, hinted_sub) -> bool:
    """OIDC Core 3.1.2.1: prompt=login, max_age, or an id_token_hint naming someone else."""
    if session is None:
        return True
    if "login" in request.prompt and session.auth_time < started_at:
        return True
    if request.max_age is not None:
        if now() - session.auth_time > timedelta(seconds=request.max_age):
            return True
    return hinted_sub is not None and hinted_sub != session.user.sub


def hinted_subject(request: AuthorizationRequest) -> str | None:
    """The ``sub`` of a valid id_token_hint (expired is fine: OIDC Core 3.1.2.1)."""
    if not request.id_token_hint:
        return None
    try:
        claims = key_store().verify(request.id_token_hint, now())
    except ValueError:
        raise RedirectableError("invalid_request", "id_token_hint is not valid", request) from None
    if claims.get("iss") != current_app.config["ISSUER"]:
        raise RedirectableError("invalid_request", "id_token_hint is not from this issuer", request)
    return claims.get("sub")
