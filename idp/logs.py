"""Logs: one access line per request on the ``idp.access`` logger, and every log record as one
JSON object per line in production (``[LOGGING] FORMAT``; human-readable text in development).

The access line carries the request id (the ``X-Request-ID`` header), method, path with the
query's values removed (keys kept: values may carry codes, tokens or a citizen ID), status,
duration, endpoint, and the client id and account ``sub`` where the request made them known.
Whatever the format, a run of 13 digits (a citizen ID) in a message is masked; the masking
filters on the HTTP libraries' loggers (``idp/verification/dpis.py``, ``dopa.py``) stay.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from flask import Flask, g, has_app_context, request
from flask.logging import default_handler as flask_handler

from idp.answering import current_request

access_log = logging.getLogger("idp.access")
CITIZEN_ID = re.compile(r"(?<!\d)\d{13}(?!\d)")
ACCESS_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "endpoint",
                 "client_id", "sub")
ENDPOINT = "idp.endpoint"  # WSGI environ key: the endpoint that answered
WHO = "idp.log.who"  # WSGI environ key: what the app learned about the caller
MAX_PATH = 300
BEFORE_THE_APP = {"/.well-known/openid-configuration": "oidc.openid_configuration",
                  "/jwks.json": "oidc.jwks"}


def mask(text: str) -> str:
    """``text`` with every citizen-ID-shaped run of 13 digits replaced by asterisks."""
    return CITIZEN_ID.sub("*" * 13, text)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, and the access fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON line, citizen IDs masked."""
        entry = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name,
                 "message": mask(record.getMessage())}
        entry.update({key: getattr(record, key) for key in ACCESS_FIELDS if hasattr(record, key)})
        if "request_id" not in entry and has_app_context() and "request_id" in g:
            entry["request_id"] = g.request_id
        if record.exc_info:
            entry["exception"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, separators=(",", ":"))


class TextFormatter(logging.Formatter):
    """Human-readable lines for development, masked like the JSON ones."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The record as a readable line, citizen IDs masked."""
        return mask(super().format(record))


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (a server or a test may replace it)."""

    def __init__(self):
        super().__init__()

    @property
    def stream(self):
        """Whatever ``sys.stderr`` is now."""
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def log_format(config: dict) -> str:
    """``json`` or ``text``: as configured, else json in production and text in development."""
    chosen = config["LOGGING"]["FORMAT"] or ("json" if config["MODE"] == "production" else "text")
    if chosen not in ("json", "text"):
        raise ValueError(f"[LOGGING] FORMAT must be 'json' or 'text', not {chosen!r}")
    return chosen


def configure_logging(config: dict) -> logging.Handler:
    """Install one handler in the chosen format on the root logger (replacing ours from before)."""
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if log_format(config) == "json" else TextFormatter())
    handler.idp_handler = True
    root = logging.getLogger()
    for old in [each for each in root.handlers if getattr(each, "idp_handler", False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    logging.getLogger("idp").removeHandler(flask_handler)  # Flask's own would print twice
    logging.getLogger("idp").setLevel(config["LOGGING"]["LEVEL"])
    access_log.setLevel(logging.INFO)  # access lines whatever the application's level
    return handler


def path_without_values(environ) -> str:
    """The request path with each query value removed: ``/authorize?client_id=&code=``."""
    path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
    query = environ.get("QUERY_STRING", "")
    if query:
        keys = [key for key, _ in parse_qsl(query, keep_blank_values=True)]
        path += "?" + "&".join(f"{key}=" for key in keys)
    return mask(path[:MAX_PATH])


def note(**who) -> None:
    """Name the caller on this request's access line (``client_id=…``, ``sub=…``)."""
    asked = current_request()
    if asked is not None:
        asked.environ.setdefault(WHO, {}).update({k: v for k, v in who.items() if v})


def note_caller(response):
    """after_request: the client id and account ``sub`` this request already knows."""
    authorization = request.authorization
    form = request.__dict__.get("form") or {}  # only if already parsed: never parse for a log
    client_id = (request.args.get("client_id") or form.get("client_id")
                 or (authorization.username if authorization and authorization.type == "basic" else None))
    session = g.get("idp_session") or g.get("idp_session_view")
    # the entity's account only if loaded (never a query for a log); a view always has it
    user = vars(session).get("user") if hasattr(session, "__dict__") else getattr(session, "user", None)
    note(client_id=client_id, sub=getattr(user, "sub", None))
    return response


class AccessLog:
    """WSGI middleware in front of everything (health, discovery, the app): one access line."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        started, seen = time.perf_counter(), {}

        def capture(status, headers, exc_info=None):
            seen["status"] = int(status.split(" ", 1)[0])
            seen["request_id"] = next((v for k, v in headers if k.lower() == "x-request-id"), None)
            return start_response(status, headers, exc_info)

        try:
            return self.wsgi_app(environ, capture)
        finally:
            self.write(environ, seen, (time.perf_counter() - started) * 1000)

    @staticmethod
    def write(environ, seen: dict, duration_ms: float) -> None:
        """Log the access line for one request."""
        fields = {"request_id": seen.get("request_id"), "method": environ.get("REQUEST_METHOD"),
                  "path": path_without_values(environ), "status": seen.get("status", 500),
                  "duration_ms": round(duration_ms, 1), "endpoint": endpoint_of(environ),
                  **environ.get(WHO, {})}
        access_log.info("%s %s %s %.1fms", fields["method"], fields["path"], fields["status"],
                        fields["duration_ms"], extra=fields)


def endpoint_of(environ) -> str:
    """The endpoint that answered: a Flask endpoint, a document served before the app, or
    ``unmatched`` (a bounded set of names, fit for a metrics label)."""
    return (environ.get(ENDPOINT)
            or BEFORE_THE_APP.get(environ.get("PATH_INFO"), "unmatched"))


def remember_endpoint(endpoint: str | None, _values) -> None:
    """Before any before_request hook (which may answer early): the matched endpoint."""
    request.environ[ENDPOINT] = endpoint


def init_logs(app: Flask) -> None:
    """Configure log records' format and write an access line for every request."""
    configure_logging(app.config)
    app.url_value_preprocessor(remember_endpoint)
    app.after_request(note_caller)
    if app.config["LOGGING"]["ACCESS_LOG"]:
        app.wsgi_app = AccessLog(app.wsgi_app)
