"""The token endpoint (RFC 6749 3.2): Authlib's grants inside our rules (no repeated parameters,
each client's request rate, PostgreSQL deadlocks and serialization failures ridden out), answered
before the Flask app.

Relying parties' servers call it with their own credentials: no cookie, no page, no CSRF token.
``TokenEndpoint`` answers POST ``/token`` in an app context only (``idp.answering``), which saves
about a tenth of a refresh's CPU (the request context, the page hooks, the session cookie).
``respond`` is the one implementation; the Flask view (``views/endpoints.py``) calls it too, and
gets what the middleware passes on: a body it does not read itself (chunked, too large, not a
form), other methods, and any request whose answer failed before it was committed.
"""

from __future__ import annotations

import io
import logging
import math
import time
from functools import partial
from http import HTTPStatus
from urllib.parse import unquote

from flask import Flask, Response, jsonify
from sqlalchemy.exc import DBAPIError
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random
from werkzeug.wrappers import Request
from werkzeug.wsgi import get_content_length

from idp import audit, request_id
from idp.answering import answering, send
from idp.db import db
from idp.errors import is_database_unreachable
from idp.logs import ENDPOINT, note
from idp.oidc.server import authorization_server
from idp.ratelimit import Throttle
from idp.security import NO_STORE

log = logging.getLogger("idp.oidc")
# deadlock_detected and serialization_failure: the transaction may simply be run again
# (https://www.postgresql.org/docs/current/mvcc-serialization-failure-handling.html).
TRANSIENT_SQLSTATES = {"40P01", "40001"}
ATTEMPTS = 3
PATH = "/token"
MAX_FORM_BYTES = 16 * 1024  # a token request's form; anything larger is the app's to refuse
FORM = "application/x-www-form-urlencoded"
COMMITTED = "idp.token.committed"  # WSGI environ key: this request's grant was committed


def oauth_error(error: str, description: str, status: int = 400, **headers) -> Response:
    """An error in the token endpoint's shape (RFC 6749 5.2), never cached."""
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    response.headers.update({**NO_STORE, **headers})
    return response


def respond(request: Request) -> Response:
    """Answer a token request (Flask's, or a Werkzeug request in ``idp.answering``) with
    Authlib's grants, committed, within the rules around them: no repeated parameters, the
    client's request budget, and database conflicts."""
    repeated = repeated_parameter(request.form)
    if repeated:
        return oauth_error("invalid_request", f"'{repeated}' was sent more than once")
    client_id = presented_client_id(request)
    note(client_id=client_id)
    refused = throttled(client_id)
    if refused:
        return refused
    response = with_retries(partial(grant_response, request))
    count_request(client_id, response)
    return response


def grant_response(request: Request) -> Response:
    """Authlib's answer, committed whatever it is: a refused reuse of a code still revokes what
    the code issued."""
    response = authorization_server().create_token_response(request)
    db.session.commit()
    request.environ[COMMITTED] = True
    response.headers.update(NO_STORE)
    return response


def repeated_parameter(form) -> str | None:
    """RFC 6749 3.2: "Request and response parameters MUST NOT be included more than once";
    the name of the first repeated one, or None."""
    return next((name for name in form if len(form.getlist(name)) > 1), None)


# --- the per-client limit -----------------------------------------------------------------

class ClientThrottle(Throttle):
    """``RATE_LIMITS.TOKEN_PER_CLIENT``, counted per client id."""

    def retry_after(self, key: str) -> int:
        """Whole seconds until the next request of this client would be allowed."""
        reset_at, _ = self._strategy().get_window_stats(self._limit(), self.name, self._key(key))
        return max(1, math.ceil(reset_at - time.time()))


TOKEN_PER_CLIENT = ClientThrottle("TOKEN_PER_CLIENT")


def presented_client_id(request: Request) -> str | None:
    """The client id in the Basic credentials (form-urlencoded: RFC 6749 2.3.1) or the form."""
    auth = request.authorization
    if auth is not None and auth.type == "basic" and auth.username:
        return unquote(auth.username)
    return request.form.get("client_id") or None


def throttled(client_id: str | None) -> Response | None:
    """A 429 if this client has used up its budget (RFC 6585 4, with Retry-After).

    ``slow_down`` is the token endpoint error the OAuth registry has for "too fast"
    (RFC 8628 3.5, registered for token endpoint responses in section 7.2)."""
    if client_id is None or not TOKEN_PER_CLIENT.exhausted(client_id):
        return None
    seconds = TOKEN_PER_CLIENT.retry_after(client_id)
    return oauth_error("slow_down", f"too many token requests for this client; retry in "
                       f"{seconds} seconds", 429, **{"Retry-After": str(seconds)})


def count_request(client_id: str | None, response: Response) -> None:
    """Spend the client's budget, but only for a request that authenticated as that client:
    someone without its secret cannot use up another client's budget."""
    if client_id is None or response.status_code == 401:
        return
    if response.status_code == 400 and response.is_json and \
            (response.get_json(silent=True) or {}).get("error") == "invalid_client":
        return
    TOKEN_PER_CLIENT.spend(client_id)
    if TOKEN_PER_CLIENT.exhausted(client_id):
        audit.record("oidc:token:rate_limited", client_id=client_id)
        db.session.commit()


# --- transient database failures ----------------------------------------------------------

def is_transient(error: BaseException) -> bool:
    """A deadlock or serialization failure, which the database asks us to retry."""
    if not isinstance(error, DBAPIError):
        return False
    state = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return state in TRANSIENT_SQLSTATES


def _rollback(retry_state) -> None:
    db.session.rollback()
    log.warning("token request retried after a database conflict (%s)",
                type(retry_state.outcome.exception().orig).__name__)


def with_retries(handle) -> Response:
    """Run ``handle`` (which commits), again after a deadlock or serialization failure (at most
    ATTEMPTS times, with a little jitter); if it still fails, ``invalid_grant``, never a 500."""
    retrying = Retrying(stop=stop_after_attempt(ATTEMPTS), wait=wait_random(0, 0.05),
                        retry=retry_if_exception(is_transient), before_sleep=_rollback,
                        reraise=True)
    try:
        return retrying(handle)
    except DBAPIError as error:
        if not is_transient(error):
            raise
        db.session.rollback()
        log.warning("token request failed %d times on a database conflict", ATTEMPTS)
        return oauth_error("invalid_grant", "the grant could not be used; start again")


# --- answered before the app --------------------------------------------------------------

class TokenEndpoint:
    """WSGI middleware: POST ``/token`` with a form body of a known length of at most
    MAX_FORM_BYTES, answered by ``respond`` in an app context; everything else, and a request
    that failed before its commit, goes on to the app (which answers it again from the start)."""

    def __init__(self, app: Flask, wsgi_app, security_headers: list[tuple[str, str]]):
        self.app, self.wsgi_app, self.security_headers = app, wsgi_app, security_headers

    def __call__(self, environ, start_response):
        if not self._answers(environ):
            return self.wsgi_app(environ, start_response)
        body = environ["wsgi.input"].read(get_content_length(environ))
        environ["wsgi.input"] = io.BytesIO(body)
        bare, this_request = Request(environ), None
        try:
            with answering(self.app, bare) as this_request:
                response = respond(bare)
                response.headers[request_id.HEADER] = this_request
        except Exception as error:
            if environ.get(COMMITTED):  # never answered twice: the app would run the grant again
                log.exception("token endpoint failed after its commit",
                              extra={"request_id": this_request})
                return self._server_error(environ, start_response, this_request)
            if not is_database_unreachable(error):  # that one the app logs itself
                log.exception("token endpoint before the app failed; the app answers instead")
            environ["wsgi.input"] = io.BytesIO(body)
            return self.wsgi_app(environ, start_response)
        environ[ENDPOINT] = "oidc.token"
        response.headers.extend(self.security_headers)
        return send(response, environ, start_response)

    @staticmethod
    def _answers(environ) -> bool:
        """A POST to the token endpoint with a form body whose length is known and small."""
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return False
        length = get_content_length(environ)
        media_type = environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        return length is not None and length <= MAX_FORM_BYTES and media_type == FORM

    def _server_error(self, environ, start_response, this_request: str):
        environ[ENDPOINT] = "oidc.token"
        status = HTTPStatus.INTERNAL_SERVER_ERROR
        body = b'{"error":"server_error","error_description":"the token was issued but could ' \
               b'not be sent; start again"}\n'
        start_response(f"{status.value} {status.phrase}", [
            ("Content-Type", "application/json"), ("Content-Length", str(len(body))),
            *NO_STORE.items(), (request_id.HEADER, this_request), *self.security_headers])
        return [body]
