"""The admin console under /admin: screens over the other packages' services (clients,
accounts, audit log, signing keys), for the roles admin, client_manager and reviewer, each
behind a second factor. Nothing imports this package; the app factory registers it."""

from __future__ import annotations

from flask import Flask


def init_admin(app: Flask) -> None:
    from idp.admin.views import bp, nav_context

    app.register_blueprint(bp)
    app.context_processor(nav_context)
