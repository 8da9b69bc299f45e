"""Absolute URLs under the issuer, for mails and back-channel messages (also from cron)."""

from __future__ import annotations

from flask import current_app, has_request_context, url_for


def external_url(endpoint: str, **values) -> str:
    """The issuer followed by the endpoint's path: the address people and RPs know."""
    if has_request_context():
        path = url_for(endpoint, **values)
    else:
        with current_app.test_request_context("/"):
            path = url_for(endpoint, **values)
    return current_app.config["ISSUER"].rstrip("/") + path


def same_site_path(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirect: another
    host, a scheme, ``//host`` and backslash tricks all fall back)."""
    from urllib.parse import urlsplit

    target = target or ""
    parts = urlsplit(target)
    unsafe = parts.scheme or parts.netloc or not target.startswith("/") or target.startswith(("//", "/\\"))
    return default if unsafe or "\\" in target else target
