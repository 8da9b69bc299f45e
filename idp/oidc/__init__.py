"""The OpenID Provider: Authlib wiring, grants, endpoints, claims, keys, discovery, clients.

``init_app`` wires it into an app: the Authlib server and the keys, the routes, and the hooks
by which the other packages tell the protocol what happened (a session ended, staff status
lost, an identity unlinked) without importing it.
"""

from __future__ import annotations

from functools import partial

from flask import Flask

from idp.accounts import pending, sessions
from idp.oidc import client_cache, interactions, logout
from idp.oidc.server import init_server
from idp.oidc.views import applications, bp
from idp.oidc.views.authorization import resume_interaction
from idp.verification import identity, staff

# Called by relying parties' servers with their own credentials, never by the person's browser.
SERVER_TO_SERVER_ENDPOINTS = ("token", "revoke", "introspect", "userinfo")
# Relying parties call these, or send the browser to them by a top-level cross-site request:
# they carry no CSRF token by design (OAuth 2.0 / OIDC protocol requests).
PROTOCOL_ENDPOINTS = ("authorize_endpoint", "token", "revoke", "introspect", "userinfo",
                      "end_session")


def init_app(app: Flask) -> None:
    """Wire the OpenID Provider into ``app`` (after CSRF protection is set up)."""
    init_server(app)
    client_cache.init_app(app)
    app.register_blueprint(bp)
    for endpoint in PROTOCOL_ENDPOINTS:
        app.extensions["csrf"].exempt(app.view_functions[f"oidc.{endpoint}"])
    sessions.not_activity(app, [f"oidc.{name}" for name in SERVER_TO_SERVER_ENDPOINTS])
    pending.on_pending_request(app, _pending_authorization)
    app.context_processor(applications.template_globals)
    _listen_to_the_other_packages(app)


def _listen_to_the_other_packages(app: Flask) -> None:
    with app.app_context():
        sessions.on_session_ended(logout.notify_backchannel)
    staff.on_staff_lost(app, logout.end_staff_only_access)
    identity.on_identity_unlinked(app, logout.end_identity_access)
    app.teardown_appcontext(logout.deliver_pending)


def _pending_authorization(interaction_id: str) -> pending.PendingRequest | None:
    """The sign-in page's view of a pending authorization request this browser started."""
    entry = interactions.load(interaction_id)
    if entry is None:
        return None
    params = entry["params"]
    return pending.PendingRequest(partial(resume_interaction, interaction_id),
                                  params.get("login_hint", ""),
                                  tuple(params.get("ui_locales", "").split()))
