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
        incoming = request.headers.get(HEADER, "")
        trusted = request.environ.get(TRUSTED) and WELL_FORMED.match(incoming)
        g.request_id = incoming if trusted else secrets.token_hex(16)
    return g.request_id


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
