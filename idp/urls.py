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
