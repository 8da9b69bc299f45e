"""Liveness (``/healthz``) and readiness (``/readyz``) for load balancers and orchestrators.

Both are answered by a WSGI middleware before the app: no session, no CSRF, no locale, no
rate-limit slot, no cookie. ``/healthz`` touches nothing (the process answers). ``/readyz`` runs
each check (the database, Redis when ``REDIS_URL`` is set, an active signing key) and answers
503 when any fails. Neither says more than each check's state and latency: no URLs, hosts,
versions or error texts (those go to the log).
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask

log = logging.getLogger("idp.health")

LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"
HEADERS = [("Content-Type", "application/json"), ("Cache-Control", "no-store"),
           ("X-Content-Type-Options", "nosniff")]


def check_database(app: Flask) -> None:
    """``SELECT 1`` on the app's database."""
    from idp.db import db

    try:
        db.session.execute(sa.text("SELECT 1"))
    finally:
        db.session.remove()


def check_redis(app: Flask) -> None:
    """``PING`` on the shared Redis."""
    import redis

    timeout = app.config["HEALTH"]["CHECK_TIMEOUT_SECONDS"]
    client = redis.Redis.from_url(app.config["REDIS_URL"], socket_timeout=timeout,
                                  socket_connect_timeout=timeout)
    try:
        client.ping()
    finally:
        client.close()


def check_signing_key(app: Flask) -> None:
    """An active signing key of the default algorithm (raises ``NoSigningKey`` otherwise)."""
    from idp.oidc.signing import key_store

    key_store().active(app.config["OIDC"]["DEFAULT_SIGNING_ALG"],
                       app.extensions["idp.clock"].now())


def checks(app: Flask) -> dict[str, Callable[[Flask], None]]:
    """The readiness checks this configuration needs, by name."""
    found = {"database": check_database}
    if app.config.get("REDIS_URL"):
        found["redis"] = check_redis
    found["signing_key"] = check_signing_key
    return found


def run_check(app: Flask, name: str, check: Callable[[Flask], None]) -> dict:
    """One check's state (``ok`` or ``failing``) and latency in milliseconds."""
    started = time.perf_counter()
    try:
        check(app)
        state = "ok"
    except Exception as error:  # any failure is "not ready"; the reason goes to the log only
        log.warning("readiness check %s failing: %s", name, type(error).__name__)
        state = "failing"
    return {"state": state, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


def readiness(app: Flask) -> tuple[bool, dict]:
    """Run every check in the app context; True when all pass, with each check's result."""
    with app.app_context():
        results = {name: run_check(app, name, check) for name, check in checks(app).items()}
    ready = all(result["state"] == "ok" for result in results.values())
    return ready, {"status": "ready" if ready else "not ready", "checks": results}


class HealthEndpoints:
    """WSGI middleware answering GET and HEAD of ``/healthz`` and ``/readyz``."""

    def __init__(self, app: Flask, wsgi_app):
        self.app, self.wsgi_app = app, wsgi_app

    def __call__(self, environ, start_response):
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD") or path not in (LIVENESS_PATH, READINESS_PATH):
            return self.wsgi_app(environ, start_response)
        environ["idp.endpoint"] = path.lstrip("/")
        if path == LIVENESS_PATH:
            ready, document = True, {"status": "alive"}
        else:
            ready, document = readiness(self.app)
        body = json.dumps(document, separators=(",", ":")).encode()
        start_response("200 OK" if ready else "503 Service Unavailable",
                       [*HEADERS, ("Content-Length", str(len(body))),
                        ("X-Request-ID", secrets.token_hex(16))])
        return [b"" if method == "HEAD" else body]


def init_health(app: Flask) -> None:
    """Answer ``/healthz`` and ``/readyz`` in front of the app."""
    app.wsgi_app = HealthEndpoints(app, app.wsgi_app)
