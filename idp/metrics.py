"""The Prometheus metrics and the one-line calls that move them (a leaf module: it imports
nothing of the app, so any layer may call it). ``idp/metrics_endpoint.py`` serves them.

Under ``moc-idp serve`` the workers share them through ``PROMETHEUS_MULTIPROC_DIR``
(``idp/server_config.py``); each gauge says how its workers' values combine.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from prometheus_client import Counter, Gauge, Histogram

PREFIX = "moc_idp_"

REQUESTS = Counter(PREFIX + "http_requests_total", "HTTP requests answered, by endpoint and status",
                   ["endpoint", "method", "status"])
REQUEST_SECONDS = Histogram(PREFIX + "http_request_duration_seconds",
                            "Time to answer an HTTP request, by endpoint", ["endpoint"])
SIGN_INS = Counter(PREFIX + "sign_ins_total", "Password sign-ins by outcome "
                   "(success, failure, throttled)", ["outcome"])
TOKENS = Counter(PREFIX + "tokens_issued_total", "Access tokens issued, by grant type and client",
                 ["grant_type", "client_id"])
REFRESH_REUSE = Counter(PREFIX + "refresh_token_reuse_total",
                        "Refresh tokens presented again after use (their family was revoked)")
CHECKS = Counter(PREFIX + "external_checks_total", "Identity (DOPA) and staff (AD, DPIS) checks, "
                 "by system and outcome (answered, not_found, unavailable, error)",
                 ["check", "system", "outcome"])
CHECK_SECONDS = Histogram(PREFIX + "external_check_duration_seconds",
                          "Time an identity or staff check took, by system", ["check", "system"])
EXTERNAL_UP = Gauge(PREFIX + "external_system_up", "1 while a system's circuit breaker is closed "
                    "(0.5 half-open, 0 open); the lowest over live workers",
                    ["system"], multiprocess_mode="livemin")
REVIEW_QUEUE = Gauge(PREFIX + "review_queue_length", "Staff documents waiting for a reviewer",
                     multiprocess_mode="livemostrecent")
REVIEW_OLDEST = Gauge(PREFIX + "review_queue_oldest_seconds",
                      "Age of the oldest staff document waiting for a reviewer",
                      multiprocess_mode="livemostrecent")
ACCOUNTS = Gauge(PREFIX + "accounts", "Accounts by membership (account type) and staff status",
                 ["membership", "staff_status"], multiprocess_mode="livemostrecent")
AUDIT_UNSEALED = Gauge(PREFIX + "audit_unsealed_events",
                       "Audit events not yet sealed into the hash chain (the chain head's lag)",
                       multiprocess_mode="livemostrecent")

CHECK_OF_SYSTEM = {"DOPA": "identity", "AD": "staff", "DPIS": "staff"}
SIGN_IN_TAGS = {"account:login:success": "success", "account:login:failure": "failure",
                "account:login:throttled": "throttled"}
BREAKER_UP = {"closed": 1.0, "half-open": 0.5, "open": 0.0}


def request_answered(endpoint: str, method: str, status: int, seconds: float) -> None:
    """One HTTP request answered."""
    REQUESTS.labels(endpoint, method, str(status)).inc()
    REQUEST_SECONDS.labels(endpoint).observe(seconds)


def audit_recorded(tag: str) -> None:
    """An audit event was recorded: sign-ins are counted from theirs."""
    outcome = SIGN_IN_TAGS.get(tag)
    if outcome:
        SIGN_INS.labels(outcome).inc()


def token_issued(client_id: str, grant_type: str | None = None) -> None:
    """An access token was issued (the grant type read from the request when not given)."""
    if grant_type is None:
        from idp.answering import current_request

        asked = current_request()
        grant_type = asked.form.get("grant_type", "unknown") if asked is not None else "unknown"
    TOKENS.labels(grant_type[:40], client_id).inc()


def refresh_reuse_detected() -> None:
    """A used refresh token came back: its family was revoked."""
    REFRESH_REUSE.inc()


def observe_external(system: str, breaker, call: Callable, *args):
    """``call(*args)`` to an external system, counted by outcome and timed; the system's
    up/down gauge follows its circuit breaker."""
    started, outcome = time.perf_counter(), "error"
    try:
        result = call(*args)
        outcome = "not_found" if result is None else "answered"
        return result
    except Exception as error:
        if type(error).__name__ == "ServiceUnavailable":
            outcome = "unavailable"
        raise
    finally:
        check = CHECK_OF_SYSTEM.get(system, "other")
        CHECKS.labels(check, system, outcome).inc()
        CHECK_SECONDS.labels(check, system).observe(time.perf_counter() - started)
        EXTERNAL_UP.labels(system).set(BREAKER_UP.get(breaker.state, 0.0))
