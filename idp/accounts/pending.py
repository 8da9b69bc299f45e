"""A request waiting for the person to sign in, seen from the sign-in pages.

Sign-in does not know who sent the person (an OpenID authorization, today): the sender
registers a reader with ``on_pending_request`` (``idp.oidc`` does, in its ``init_app``), and the
login page asks it for the hints the request carried and, once the person is signed in, for the
request's next step, taken in the same response (no extra redirect through the resume URL).
Dependencies run one way: the protocol knows accounts, accounts never imports the protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

READER = "idp.pending_request_reader"


@dataclass(frozen=True)
class PendingRequest:
    """What the request said about the person and language, and ``resume``: once the person
    is signed in, it takes the request's next step and returns that response (the code's
    redirect, consent, a refusal, an error page)."""

    resume: Callable[[], Any]
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
