"""The admin console under /admin: screens over the other packages' services (clients,
accounts, audit log, signing keys), for the roles admin, client_manager and reviewer, each
behind a second factor. Nothing imports this package; the app factory registers it."""

from __future__ import annotations

from flask import Flask

from idp.admin.views import bp, nav_context


def init_app(app: Flask) -> None:
    """Register the console's routes and its navigation on ``app``."""
    app.register_blueprint(bp)
    app.context_processor(nav_context)
