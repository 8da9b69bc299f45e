"""Response headers every page carries, and values every template may use."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import get_locale

HOST_PREFIX = "__Host-"
# RFC 6749 5.1: responses carrying tokens or secrets "MUST include the Cache-Control header
# field with a value of no-store" (and Pragma: no-cache).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

# No inline script or style anywhere: the pages work without JavaScript, and the one script
# (auto-submitting a form_post response) is a static file.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def headers(response):
    """after_request: the security headers of every response (HSTS in production mode)."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    hsts = current_app.config["SECURITY"].get("HSTS")
    if current_app.config["MODE"] == "production" and hsts:
        response.headers.setdefault("Strict-Transport-Security", hsts)
    return response


def uses_host_prefix(config) -> bool:
    """``__Host-`` cookie names: production mode with an https issuer (and not turned off)."""
    return (config["MODE"] == "production" and config["ISSUER"].startswith("https://")
            and bool(config["SECURITY"].get("HOST_PREFIX_COOKIES", True)))


def init_cookie_names(app: Flask) -> None:
    """In production over https, both cookies get the ``__Host-`` prefix: the browser then
    keeps them only if Secure, with Path=/ and no Domain, so no sibling host can set or
    shadow them (https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis#section-4.1.3.2)."""
    if not uses_host_prefix(app.config):
        return
    sso = app.config["SESSION"]["COOKIE_NAME"]
    if not sso.startswith(HOST_PREFIX):
        app.config["SESSION"] = {**app.config["SESSION"], "COOKIE_NAME": HOST_PREFIX + sso}
    app.config.update(SESSION_COOKIE_NAME=HOST_PREFIX + app.config["SESSION_COOKIE_NAME"],
                      SESSION_COOKIE_PATH="/", SESSION_COOKIE_DOMAIN=None)


class SignedCookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie session (the pages' CSRF token, pending interaction ids), with its
    signing serializer built once per key instead of twice per request. Built again when the
    secret key or its fallbacks change."""

    def __init__(self):
        self._held = (None, None)

    def get_signing_serializer(self, app: Flask):
        """The serializer for the app's current keys (None without a secret key)."""
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        held_keys, serializer = self._held
        if held_keys != keys:
            serializer = super().get_signing_serializer(app)
            self._held = (keys, serializer)
        return serializer


def template_globals() -> dict:
    """What every page's template needs: the language, the current path, and the like."""
    locale = get_locale()
    return {
        "current_locale": str(locale) if locale else "th",
        "current_path": request.full_path.rstrip("?") if request else "/",
    }
