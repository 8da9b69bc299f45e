"""Response headers every page carries, and values every template may use."""

from __future__ import annotations

from flask import request
from flask_babel import get_locale

# No inline script or style anywhere: the pages work without JavaScript, and the one script
# (auto-submitting a form_post response) is a static file.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)


def headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def template_globals() -> dict:
    locale = get_locale()
    return {
        "current_locale": str(locale) if locale else "th",
        "current_path": request.full_path.rstrip("?") if request else "/",
    }
