"""A request id on every response (``X-Request-ID``), every error page and the log line of
every error, so a person can quote it to the help desk and an operator can find the line.

The id is made here (128 random bits), or taken from the incoming ``X-Request-ID`` when the
request came through a trusted proxy (``[PROXY]``) and the value is well formed; a client
talking to the app directly cannot choose the id its errors are logged under.
"""

from __future__ import annotations

import re
import secrets

from flask import Flask, g, request

from idp.proxy import TRUSTED

HEADER = "X-Request-ID"
WELL_FORMED = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")


def current() -> str:
    """This request's id (made on first use)."""
    if "request_id" not in g:
        g.request_id = from_environ(request.environ)
    return g.request_id


def from_environ(environ) -> str:
    """The id for a request: the trusted proxy's, when well formed, else a new one."""
    incoming = environ.get("HTTP_X_REQUEST_ID", "")
    trusted = environ.get(TRUSTED) and WELL_FORMED.match(incoming)
    return incoming if trusted else secrets.token_hex(16)


def add_header(response):
    """after_request: every response names its request id."""
    response.headers[HEADER] = current()
    return response


def _assign() -> None:
    current()


def init_request_id(app: Flask) -> None:
    """Give every request an id, and name it in every response's header."""
    app.before_request(_assign)
    app.after_request(add_header)
