"""Accounts: people, their passwords, membership, and their sign-in (SSO) sessions.

``init_app`` wires the package into an app: its pages and the SSO session's request hooks.
"""

from __future__ import annotations

from flask import Flask

from idp.accounts import sessions
from idp.accounts.views import BLUEPRINTS


def init_app(app: Flask) -> None:
    """Register the sign-in, signup and password pages and the session hooks on ``app``."""
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.before_request(sessions.touch_current_session)
    app.after_request(sessions.write_cookie)
