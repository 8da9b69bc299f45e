"""The UserInfo endpoint (OIDC Core 5.3), answered in front of the Flask app.

Relying parties' servers call it with a Bearer token, often; the answer needs the token's row
(joined with its client and account: one statement) and the claims, and none of what a page
needs (session cookie, CSRF, locale, templates). ``UserinfoEndpoint`` answers GET and POST
``/userinfo`` with only an app context, which halves the CPU a call costs. ``answer`` is the
endpoint's one implementation; the Flask view (``views/endpoints.py``) calls it too, and gets
what the middleware passes on: HEAD and other methods, and any call whose answer failed (a
database that cannot be reached, any other error), which the app's error handlers then answer
as for every other request (503 with Retry-After, the request id, the log line).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from http import HTTPStatus

from werkzeug.formparser import parse_form_data
from werkzeug.wsgi import get_content_length

from idp import request_id
from idp.errors import is_database_unreachable
from idp.logs import ENDPOINT, WHO
from idp.oidc.claims import user_claims
from idp.oidc.presented import find_active_access_token
from idp.security import NO_STORE

PATH = "/userinfo"
MAX_FORM_BYTES = 16 * 1024  # a form with an access token; anything larger is the app's to refuse
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    """What the endpoint answers: status, JSON body, extra headers, and who called."""

    status: int
    body: dict
    headers: tuple[tuple[str, str], ...] = ()
    client_id: str | None = None
    sub: str | None = None


def bearer_token(header: str | None, form_token: str | None) -> str | None:
    """RFC 6750: the Authorization header (2.1) or the form body of a POST (2.2); not both."""
    header = header or ""
    from_header = header[7:].strip() if header[:7].lower() == "bearer " else None
    if from_header and form_token:
        return None
    return from_header or form_token


def bearer_error(error: str, status: int, description: str, realm: bool = False) -> Answer:
    """RFC 6750 3: the error in the body and in ``WWW-Authenticate``."""
    challenge = 'Bearer realm="userinfo"' if realm else \
        f'Bearer error="{error}", error_description="{description}"'
    return Answer(status, {"error": error, "error_description": description},
                  (("WWW-Authenticate", challenge),))


def answer(header: str | None, form_token: str | None) -> Answer:
    """OIDC Core 5.3: the claims the token's scope releases, for a usable token with
    ``openid`` (in an app context)."""
    raw = bearer_token(header, form_token)
    if not raw:
        return bearer_error("invalid_request", 401, "a Bearer access token is required", realm=True)
    grant = find_active_access_token(raw)
    if grant is None or "openid" not in grant.scope.split():
        return bearer_error("invalid_token", 401, "the access token is invalid or has expired")
    account = grant.account
    return Answer(200, user_claims(account, grant.scope), client_id=grant.client_id, sub=account.sub)


class UserinfoEndpoint:
    """WSGI middleware: GET and POST ``/userinfo`` answered with ``answer`` in an app context;
    everything else, and any call that raised, goes on to the app."""

    def __init__(self, app, wsgi_app, security_headers: list[tuple[str, str]]):
        self.app, self.wsgi_app, self.security_headers = app, wsgi_app, security_headers

    def __call__(self, environ, start_response):
        if not self._answers(environ):
            return self.wsgi_app(environ, start_response)
        form_token = self._form_token(environ) if environ["REQUEST_METHOD"] == "POST" else None
        try:
            with self.app.app_context():
                result = answer(environ.get("HTTP_AUTHORIZATION"), form_token)
                body = (self.app.json.dumps(result.body) + "\n").encode()
        except Exception as error:  # the app answers it again, with its error handling
            if not is_database_unreachable(error):  # that one the app logs itself
                log.exception("userinfo before the app failed; the app answers instead")
            return self.wsgi_app(environ, start_response)
        environ[ENDPOINT] = "oidc.userinfo"
        environ.setdefault(WHO, {}).update(
            {k: v for k, v in (("client_id", result.client_id), ("sub", result.sub)) if v})
        start_response(f"{result.status} {HTTPStatus(result.status).phrase}", [
            ("Content-Type", "application/json"), ("Content-Length", str(len(body))),
            *result.headers, *NO_STORE.items(),
            (request_id.HEADER, request_id.from_environ(environ)), *self.security_headers])
        return [body]

    @staticmethod
    def _answers(environ) -> bool:
        """GET, or a POST whose body has a valid length of at most MAX_FORM_BYTES (a chunked
        body, a missing, malformed or larger length: the app reads and judges it)."""
        if environ.get("PATH_INFO") != PATH:
            return False
        method = environ.get("REQUEST_METHOD")
        if method == "GET":
            return True
        length = get_content_length(environ)
        return method == "POST" and length is not None and length <= MAX_FORM_BYTES

    @staticmethod
    def _form_token(environ) -> str | None:
        """The access_token of a form body, which stays readable for the app after."""
        body = environ["wsgi.input"].read(get_content_length(environ))
        environ["wsgi.input"] = io.BytesIO(body)
        _, form, _ = parse_form_data({**environ, "wsgi.input": io.BytesIO(body)})
        return form.get("access_token")
