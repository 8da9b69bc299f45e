"""``/metrics`` in the Prometheus text format, and the per-request counts, in a WSGI middleware
in front of the app.

Only a scraper may read it: a client address in ``[METRICS] ALLOWED_NETWORKS`` (default
loopback; the address as the trusted proxies of ``[PROXY]`` give it), or
``Authorization: Bearer <[METRICS] TOKEN>``. Anyone else gets the app's own 404, as for any
unknown path. The gauges that need the database (review queue, accounts, audit lag) are
refreshed at most once per ``REFRESH_SECONDS`` in each process, not on every scrape.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest

from idp import metrics
from idp.logs import endpoint_of
from idp.proxy import TRUSTED

PATH = "/metrics"
STATE = "idp.metrics"


def registry():
    """The registry to scrape: every worker's values in multiprocess mode, else this process's."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        return REGISTRY
    from prometheus_client import multiprocess

    forget_ended_workers(folder)
    combined = CollectorRegistry()
    multiprocess.MultiProcessCollector(combined)
    return combined


def forget_ended_workers(folder: str) -> None:
    """Drop the live gauges of worker processes that no longer exist (a worker that crashed and
    was replaced), so that they stop counting; their counters and histograms stay summed in."""
    from prometheus_client import multiprocess

    for path in Path(folder).glob("gauge_live*_*.db"):
        pid = int(path.stem.rsplit("_", 1)[1])
        if not process_exists(pid):
            multiprocess.mark_process_dead(pid, folder)


def process_exists(pid: int) -> bool:
    """A process with this id is running (signal 0 checks without sending anything)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def refresh_gauges(app: Flask) -> None:
    """Read the database-backed gauges when the last reading is older than REFRESH_SECONDS."""
    state = app.extensions[STATE]
    moment = time.monotonic()
    if state["refreshed_at"] is not None and \
            moment - state["refreshed_at"] < app.config["METRICS"]["REFRESH_SECONDS"]:
        return
    state["refreshed_at"] = moment
    with app.app_context():
        from idp.db import db

        try:
            read_gauges(db.session, app.extensions["idp.clock"].now())
        finally:
            db.session.remove()


def read_gauges(session, moment) -> None:
    """Three cheap queries: the review queue, accounts by kind, unsealed audit events."""
    from idp.accounts.models import User
    from idp.audit import AuditEvent
    from idp.verification.applications import PENDING, StaffApplication

    waiting, oldest = session.execute(
        sa.select(sa.func.count(), sa.func.min(StaffApplication.submitted_at))
        .where(StaffApplication.status == PENDING)).one()
    metrics.REVIEW_QUEUE.set(waiting)
    metrics.REVIEW_OLDEST.set((moment - oldest).total_seconds() if oldest else 0)
    metrics.ACCOUNTS.clear()
    for membership, staff_status, count in session.execute(
            sa.select(User.account_type, User.staff_status, sa.func.count())
            .group_by(User.account_type, User.staff_status)):
        metrics.ACCOUNTS.labels(membership, staff_status).set(count)
    metrics.AUDIT_UNSEALED.set(session.execute(
        sa.select(sa.func.count()).where(AuditEvent.chain_seq.is_(None))).scalar_one())


class MetricsEndpoint:
    """WSGI middleware: ``/metrics`` for scrapers, and every request counted and timed."""

    def __init__(self, app: Flask, wsgi_app):
        self.app, self.wsgi_app = app, wsgi_app
        table = app.config["METRICS"]
        self.token = table["TOKEN"]
        self.networks = [ipaddress.ip_network(n, strict=False) for n in table["ALLOWED_NETWORKS"]]

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return self.scrape(environ, start_response)
        return self.counted(environ, start_response)

    def counted(self, environ, start_response):
        """The app's answer, counted by endpoint and status and timed."""
        started, seen = time.perf_counter(), {}

        def capture(status, headers, exc_info=None):
            seen["status"] = int(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info)

        try:
            return self.wsgi_app(environ, capture)
        finally:
            metrics.request_answered(endpoint_of(environ), environ.get("REQUEST_METHOD", "")[:10],
                                     seen.get("status", 500), time.perf_counter() - started)

    def allowed(self, environ) -> bool:
        """The bearer token, or an address in ALLOWED_NETWORKS (never a proxied request whose
        client the configuration cannot tell: X-Forwarded-For without trusted proxies)."""
        header = environ.get("HTTP_AUTHORIZATION", "")
        if self.token and header.startswith("Bearer ") and \
                hmac.compare_digest(header[7:].strip().encode(), self.token.encode()):
            return True
        if "HTTP_X_FORWARDED_FOR" in environ and not environ.get(TRUSTED):
            return False
        try:
            address = ipaddress.ip_address(environ.get("REMOTE_ADDR") or "")
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def scrape(self, environ, start_response):
        """The metrics in the Prometheus text format, or the app's 404 for anyone else."""
        if not self.allowed(environ):
            return self.wsgi_app(environ, start_response)
        environ["idp.endpoint"] = "metrics"
        refresh_gauges(self.app)
        body = generate_latest(registry())
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST),
                                  ("Content-Length", str(len(body))), ("Cache-Control", "no-store")])
        return [b"" if environ["REQUEST_METHOD"] == "HEAD" else body]


def init_metrics(app: Flask) -> None:
    """Serve ``/metrics`` and count every request (when ``[METRICS] ENABLED``)."""
    if not app.config["METRICS"]["ENABLED"]:
        return
    app.extensions[STATE] = {"refreshed_at": None}
    app.wsgi_app = MetricsEndpoint(app, app.wsgi_app)
