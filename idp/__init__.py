"""MOC Account: the OpenID Connect identity provider of Thailand's Ministry of Commerce.

``create_app`` reads as the house's table of contents: the Flask app and its settings, the
collaborators (``idp.adapters``), the foundations every package stands on, then each package
wiring itself (accounts, verification, oidc, admin), then what cuts across them all.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from idp import accounts, admin, oidc, security, verification
from idp import db as database
from idp.adapters import Adapters, init_adapters
from idp.clock import now
from idp.config import PROJECT_ROOT, ConfigError, check_config, is_loopback_url, load_config
from idp.errors import init_error_pages
from idp.health import init_health
from idp.i18n import init_babel
from idp.logs import init_logs
from idp.metrics_endpoint import init_metrics
from idp.oidc.keys import SUPPORTED_ALGS
from idp.oidc.signing import key_store
from idp.outbox import init_outbox
from idp.proxy import init_proxy
from idp.ratelimit import init_limiter
from idp.request_id import init_request_id
from idp.security import init_cookie_names

log = logging.getLogger("idp")


def create_app(config: dict | None = None, *, adapters: Adapters | dict | None = None) -> Flask:
    """The only application factory.

    ``config`` overrides the defaults, the IDP_CONFIG file and the IDP_* variables.
    ``adapters`` replaces collaborators (``idp.adapters.Adapters``, or a dict of its fields):
    ``clock`` (an object with ``now()``), ``http`` (a requests-like session for back-channel
    logout), ``mailer`` and the external systems.
    """
    app = _flask_app(load_config(config))
    collaborators = Adapters.of(adapters)
    init_adapters(app, collaborators)
    _init_foundations(app)
    _init_packages(app, collaborators)
    _init_cross_cutting(app)
    _ensure_keys(app)
    _init_operations(app)
    return app


def _flask_app(settings: dict) -> Flask:
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"), static_folder="static")
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
        SESSION_COOKIE_SECURE=not is_loopback_url(settings["ISSUER"]),
    )
    init_cookie_names(app)
    app.session_interface = security.SignedCookieSessions()
    return app


def _engine_options(url: str, database: dict) -> dict:
    if url.startswith("sqlite"):
        # Each connection waits for the write lock instead of failing at once (WAL mode and
        # synchronous=NORMAL are set on connect: idp/db.py).
        return {"connect_args": {"timeout": database["SQLITE_BUSY_TIMEOUT_SECONDS"]}}
    return {"pool_pre_ping": True, "pool_size": database["POOL_SIZE"],
            "max_overflow": database["MAX_OVERFLOW"]}


def _init_foundations(app: Flask) -> None:
    """What every package stands on: the outbox, the database, languages, rate limits."""
    init_outbox(app)
    database.db.init_app(app)
    database.end_sessions_quietly(app)
    database.hold_read_connections(app)
    database.migrate.init_app(app, database.db, directory=str(PROJECT_ROOT / "idp" / "migrations"))
    init_babel(app)
    init_limiter(app)


def _init_packages(app: Flask, adapters: Adapters) -> None:
    """Each package wires itself (oidc applies RATE_LIMITS.TOKEN_PER_CLIENT in its token view).
    Verification comes first: its upload route's body limit must run before CSRF protection
    parses the form."""
    verification.init_app(app, adapters)
    CSRFProtect(app)
    accounts.init_app(app)
    oidc.init_app(app)
    admin.init_app(app)


def _init_cross_cutting(app: Flask) -> None:
    app.after_request(security.headers)
    init_request_id(app)
    app.context_processor(security.template_globals)
    init_error_pages(app)
    _init_cli(app)


def _init_operations(app: Flask) -> None:
    """Health and readiness, metrics and the access log: what operators watch. Then the
    trusted proxies, outermost, so that every middleware in front of the app (discovery,
    userinfo, health, metrics, the access log) sees the client as the proxy names it."""
    init_health(app)
    init_metrics(app)
    init_logs(app)
    init_proxy(app)


def _init_cli(app: Flask) -> None:
    # Imported here, not at the top: ``moc-idp`` (idp.cli) imports this module for
    # create_app, and a package's __init__ runs before any of its modules.
    from idp.cli import commands

    commands.init_app(app)


def _ensure_keys(app: Flask) -> None:
    """Development: make keys on first start. Production: refuse unsafe settings at once."""
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
