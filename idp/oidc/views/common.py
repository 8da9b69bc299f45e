"""What the OpenID Provider's views share: the blueprint, no-store headers, error answers."""

from __future__ import annotations

from authlib.common.urls import add_params_to_uri
from flask import Blueprint, current_app, make_response, redirect, render_template

from idp.oidc import authorize
from idp.security import NO_STORE

bp = Blueprint("oidc", __name__)


def authorization_response(request_: authorize.AuthorizationRequest, params: dict):
    """Deliver ``params`` to the verified redirect URI by the response mode, with ``iss``
    (RFC 9207) and ``state``."""
    params = {**params, "iss": current_app.config["ISSUER"]}
    if request_.state:
        params["state"] = request_.state
    if request_.response_mode == "form_post":
        html = render_template("oidc/form_post.html", action=request_.redirect_uri, params=params)
        response = make_response(html)
    else:
        response = redirect(add_params_to_uri(request_.redirect_uri, list(params.items())))
    response.headers.update(NO_STORE)
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def error_response(error: authorize.RedirectableError):
    """An authorization error, sent back to the client's redirect URI."""
    return authorization_response(
        error.request, {"error": error.error, "error_description": error.description}
    )


def error_page(error: str, description: str, status: int = 400):
    """An error shown to the person (the request cannot be sent back to the client)."""
    return render_template("oidc/error.html", error=error, description=description), status
