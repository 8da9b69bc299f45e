"""What the token endpoint does around Authlib: refuse repeated parameters, limit each client's
request rate, and ride out PostgreSQL deadlocks and serialization failures."""

from __future__ import annotations

import logging
import math
import time
from urllib.parse import unquote

from flask import Response, jsonify, request
from sqlalchemy.exc import DBAPIError
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random

from idp import audit
from idp.db import db
from idp.ratelimit import Throttle
from idp.security import NO_STORE

log = logging.getLogger("idp.oidc")
# deadlock_detected and serialization_failure: the transaction may simply be run again
# (https://www.postgresql.org/docs/current/mvcc-serialization-failure-handling.html).
TRANSIENT_SQLSTATES = {"40P01", "40001"}
ATTEMPTS = 3


def oauth_error(error: str, description: str, status: int = 400, **headers) -> Response:
    """An error in the token endpoint's shape (RFC 6749 5.2), never cached."""
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    response.headers.update({**NO_STORE, **headers})
    return response


def respond(handle) -> Response:
    """Answer a token request with ``handle`` (Authlib's answer, committed), within the rules
    around it: no repeated parameters, the client's request budget, and database conflicts."""
    repeated = repeated_parameter(request.form)
    if repeated:
        return oauth_error("invalid_request", f"'{repeated}' was sent more than once")
    client_id = presented_client_id()
    refused = throttled(client_id)
    if refused:
        return refused
    response = with_retries(handle)
    count_request(client_id, response)
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


def presented_client_id() -> str | None:
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
