"""A request waiting for the person to sign in, seen from the sign-in pages.

Sign-in does not know who sent the person (an OpenID authorization, today): the sender
registers a reader with ``on_pending_request`` (``idp.oidc`` does, in its ``init_app``), and the
login page asks it for the resume URL and the hints the request carried. Dependencies run one
way: the protocol knows accounts, accounts never imports the protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app

READER = "idp.pending_request_reader"


@dataclass(frozen=True)
class PendingRequest:
    """Where to go once signed in, and what the request said about the person and language."""

    resume_url: str
    login_hint: str = ""
    ui_locales: tuple[str, ...] = ()


def on_pending_request(app: Flask, reader: Callable[[str], PendingRequest | None]) -> None:
    """Register ``reader(request_id)``: the pending request this browser started, or None."""
    app.extensions[READER] = reader


def pending_request(request_id: str | None) -> PendingRequest | None:
    """The pending request ``request_id`` names, if it is still waiting for this browser."""
    reader = current_app.extensions.get(READER)
    if not request_id or reader is None:
        return None
    return reader(request_id)
