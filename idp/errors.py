"""Error pages in the person's language, for every error a view does not handle itself.

No Werkzeug English page anywhere: each HTTP error, an unreachable database (503 with
``Retry-After``), a full disk (507) and any other failure (500) answers with
``templates/error.html``, or with an RFC 6749 §5.2 JSON error on the protocol's JSON endpoints,
and carries the request id (``idp.request_id``) that the error's log line also names.
"""

from __future__ import annotations

import errno
import logging

from flask import Flask, current_app, jsonify, request
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from idp import request_id, security
from idp.db import db

log = logging.getLogger(__name__)
JSON_ENDPOINTS = frozenset({"oidc.token", "oidc.revoke", "oidc.introspect", "oidc.userinfo",
                            "oidc.jwks", "oidc.openid_configuration"})
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")
SQLITE_FULL = "database or disk is full"
POSTGRESQL_DISK_FULL = "53100"  # SQLSTATE disk_full


def _messages() -> dict[int, tuple[str, str]]:
    return {
        400: (_("The request could not be used"),
              _("Something in what was sent was not right. Go back and try again.")),
        404: (_("Page not found"), _("There is no page at this address.")),
        405: (_("This page cannot be used this way"),
              _("Go back to the previous page and try again.")),
        413: (_("What you sent is too large"),
              _("The file or form is larger than this page accepts. Send a smaller one.")),
        429: (_("Too many requests"), _("Please wait a moment and try again.")),
        500: (_("Something went wrong"),
              _("An unexpected error stopped this request. Please try again; if it happens "
                "again, give the help desk the reference below.")),
        503: (_("The service is briefly unavailable"),
              _("We cannot reach our database right now. Please try again in a few minutes.")),
        507: (_("The service cannot save anything right now"),
              _("Our storage is full, so nothing could be saved. Please try again later.")),
    }


def _wants_json() -> bool:
    return request.endpoint in JSON_ENDPOINTS or (
        request.accept_mimetypes.best == "application/json")


def error_response(status: int, title: str | None = None, message: str | None = None,
                   headers: dict | None = None):
    """The error page (or JSON error) for ``status``, naming this request's id."""
    default_title, default_message = _messages().get(status, _messages()[500 if status >= 500 else 400])
    if _wants_json():
        return _json(status, message or default_message, headers)
    # Rendered without the app's context processors: one of them asks the database who is
    # signed in, and the database may be the thing that failed.
    html = current_app.jinja_env.get_template("error.html").render(
        title=title or default_title, message=message or default_message, status=status,
        request_id=request_id.current(), **security.template_globals())
    return html, status, headers or {}


def _json(status: int, description: str, headers: dict | None):
    code = {503: "temporarily_unavailable", 400: "invalid_request"}.get(status, "server_error")
    body = {"error": code, "error_description": description}
    if request.endpoint not in JSON_ENDPOINTS:  # protocol answers keep the RFC's members
        body["request_id"] = request_id.current()
    return jsonify(body), status, headers or {}


def is_disk_full(error: BaseException) -> bool:
    """ENOSPC anywhere in the chain, SQLite's "database or disk is full", PostgreSQL 53100."""
    seen = error
    while seen is not None:
        if isinstance(seen, OSError) and seen.errno == errno.ENOSPC:
            return True
        if isinstance(seen, DBAPIError):
            original = seen.orig
            if SQLITE_FULL in str(original) or getattr(original, "sqlstate", None) == POSTGRESQL_DISK_FULL:
                return True
        seen = seen.__cause__ or seen.__context__
    return False


def is_database_unreachable(error: BaseException) -> bool:
    """The error means the database cannot be reached (not a bug in a query)."""
    return isinstance(error, OperationalError | InterfaceError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated)


def _rollback() -> None:
    try:
        db.session.rollback()
    except Exception:  # the connection is gone; the pool will replace it
        log.debug("rollback after a database failure failed too")


def _http_error(error: HTTPException):
    headers = {k: v for k, v in error.get_headers() if k in KEPT_HEADERS}
    return error_response(error.code or 500, headers=headers)


def _failure(error: Exception):
    rid = request_id.current()
    if is_disk_full(error):
        _rollback()
        log.error("disk full [request %s]: %s", rid, type(error).__name__)
        return error_response(507)
    if is_database_unreachable(error):
        _rollback()
        log.error("database unreachable [request %s]: %s", rid, type(error).__name__)
        retry = str(current_app.config["SECURITY"]["RETRY_AFTER_SECONDS"])
        return error_response(503, headers={"Retry-After": retry})
    log.error("unhandled error [request %s]", rid, exc_info=error)
    return error_response(500)


def too_large_page():
    """Thai (or English) for a request body over the limit, never Werkzeug's raw 413."""
    return error_response(413, _("What you sent is too large"),
                          _("The data or file you sent is larger than this page accepts. Go back, "
                            "choose a smaller file and try again."))


def init_error_pages(app: Flask) -> None:
    """Answer CSRF failures, HTTP errors and unexpected exceptions with the app's own pages."""
    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def csrf_failed(_error):
        """A form without a valid CSRF token: a clear page, nothing kept."""
        return error_response(400, _("The form has expired"),
                              _("For your security the form could not be sent. Go back, reload "
                                "the page and try again."))

    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _failure)
