"""MOC Account: the OpenID Connect identity provider of Thailand's Ministry of Commerce."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask

from idp.config import PROJECT_ROOT, ConfigError, check_config, load_config

log = logging.getLogger("idp")


# Called by relying parties' servers with their own credentials, never by the person's browser.
SERVER_TO_SERVER_ENDPOINTS = ("token", "revoke", "introspect", "userinfo")
PROTOCOL_ENDPOINTS = ("authorize_endpoint", "token", "revoke", "introspect", "userinfo",
                      "end_session")


def create_app(config: dict | None = None, *, adapters: dict | None = None) -> Flask:
    """The only application factory.

    ``config`` overrides the defaults, the IDP_CONFIG file and the IDP_* variables.
    ``adapters`` replaces collaborators: ``clock`` (an object with ``now()``) and ``http``
    (a requests-like session for back-channel logout).
    """
    settings = load_config(config)
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder="static",
    )
    app.config.update(settings)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=settings["DATABASE_URL"],
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings["DATABASE_URL"], settings["DATABASE"]),
        SESSION_COOKIE_NAME="moc_ui",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        WTF_CSRF_TIME_LIMIT=None,  # tied to the session instead of a clock
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    from idp.config import is_loopback_url
    from idp.proxy import init_proxy
    from idp.security import init_cookie_names

    app.config["SESSION_COOKIE_SECURE"] = not is_loopback_url(settings["ISSUER"])
    init_cookie_names(app)
    init_proxy(app)
    _init_extensions(app, adapters or {})
    _ensure_keys(app)
    return app


def _engine_options(url: str, database: dict) -> dict:
    if url.startswith("sqlite"):
        # Each connection waits for the write lock instead of failing at once (WAL mode and
        # synchronous=NORMAL are set on connect: idp/db.py).
        return {"connect_args": {"timeout": database["SQLITE_BUSY_TIMEOUT_SECONDS"]}}
    return {"pool_pre_ping": True, "pool_size": database["POOL_SIZE"],
            "max_overflow": database["MAX_OVERFLOW"]}


def _init_extensions(app: Flask, adapters: dict) -> None:
    from flask_wtf.csrf import CSRFProtect

    from idp import db as database
    from idp import security
    from idp.accounts import sessions
    from idp.adapters import init_adapters
    from idp.admin import init_admin
    from idp.cli import commands as cli_commands
    from idp.errors import init_error_pages
    from idp.i18n import init_babel
    from idp.oidc import logout
    from idp.oidc.server import init_server
    from idp.outbox import init_outbox
    from idp.ratelimit import init_limiter
    from idp.request_id import init_request_id
    from idp.verification import binding, staff
    from idp.verification.staff_views import allow_document_upload

    init_adapters(app, adapters)
    init_outbox(app)
    database.db.init_app(app)
    database.migrate.init_app(app, database.db, directory=str(PROJECT_ROOT / "idp" / "migrations"))
    init_babel(app)
    init_server(app)
    init_limiter(app)
    # Before CSRF protection, which parses the form: the upload route's own body limit applies.
    app.before_request(allow_document_upload)
    csrf = CSRFProtect(app)
    for blueprint in _blueprints():
        app.register_blueprint(blueprint)
    init_admin(app)
    # Endpoints that relying parties call with their own credentials or by a top-level
    # cross-site request carry no CSRF token by design (OAuth 2.0 / OIDC protocol requests).
    for endpoint in PROTOCOL_ENDPOINTS:
        csrf.exempt(app.view_functions[f"oidc.{endpoint}"])
    # RATE_LIMITS.TOKEN_PER_CLIENT is applied per client inside the token view
    # (idp/oidc/token_endpoint.py), not per IP here.
    with app.app_context():
        sessions.on_session_ended(logout.notify_backchannel)
    staff.on_staff_lost(app, logout.end_staff_only_access)
    binding.on_identity_unlinked(app, logout.end_identity_access)
    sessions.not_activity(app, [f"oidc.{name}" for name in SERVER_TO_SERVER_ENDPOINTS])
    app.before_request(sessions.touch_current_session)
    app.teardown_appcontext(logout.deliver_pending)
    app.after_request(sessions.write_cookie)
    app.after_request(security.headers)
    init_request_id(app)
    app.context_processor(security.template_globals)
    init_error_pages(app)
    cli_commands.init_app(app)


def _blueprints():
    from idp.accounts.password_views import bp as passwords
    from idp.accounts.signup_views import bp as signup
    from idp.accounts.views import bp as accounts
    from idp.oidc.views import bp as oidc
    from idp.verification.staff_views import bp as staff
    from idp.verification.views import bp as verification

    return (accounts, signup, passwords, verification, staff, oidc)


def _ensure_keys(app: Flask) -> None:
    """Development: make keys on first start. Production: refuse unsafe settings at once."""
    from idp.clock import now
    from idp.oidc.keys import SUPPORTED_ALGS
    from idp.oidc.server import key_store

    with app.app_context():
        store = key_store()
        keys_present = store.has_keys() or not app.config.get("REQUIRE_KEYS", True)
        problems = check_config(app.config, keys_present=keys_present)
        if problems:
            raise ConfigError(problems)
        if app.config["MODE"] == "development" and not store.has_keys():
            log.warning("no signing keys in %s: generating development keys", store.folder)
            for alg in SUPPORTED_ALGS:
                store.add(alg, now(), timedelta(0))
