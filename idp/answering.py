"""The request being answered, for the code that records who asked (the audit log, metrics, the
access line).

Pages and most endpoints are answered by Flask, in a request context. A few hot requests are
answered before the app, in an app context only (the token endpoint,
``idp.oidc.token_endpoint.TokenEndpoint``, and a signed-in browser's code,
``idp.oidc.views.authorization.AuthorizationEndpoint``): they hold a plain Werkzeug request,
which ``answering`` makes the current one for that app context, and ``send`` hands their answer
to the server.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, g, has_app_context, has_request_context, request
from werkzeug.wrappers import Request, Response

from idp import request_id

BARE_REQUEST = "idp_bare_request"  # the name in ``g`` of a request answered before the app


def current_request() -> Request | None:
    """Flask's request, or the Werkzeug request answered before the app; None outside both."""
    if has_request_context():
        return request
    if has_app_context():
        return g.get(BARE_REQUEST)
    return None


@contextmanager
def answering(app: Flask, bare: Request) -> Iterator[str]:
    """An app context in which ``bare`` is the current request; yields its request id, made as
    the app's own hook makes it (``idp.request_id``) and kept in ``g`` for the log lines."""
    with app.app_context():
        g.request_id = request_id.from_environ(bare.environ)
        setattr(g, BARE_REQUEST, bare)
        yield g.request_id


def send(response: Response, environ, start_response) -> list[bytes]:
    """Hand a complete ``response`` to the server as one body: a list, which the server writes
    in one go (Granian copies it once), not an iterator it has to call back into Python for."""
    body = response.get_data()
    start_response(response.status, response.get_wsgi_headers(environ).to_wsgi_list())
    return [body]
