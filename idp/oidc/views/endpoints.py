"""The endpoints relying parties' servers call: token, revocation, introspection, userinfo."""

from __future__ import annotations

from flask import jsonify, request

from idp.db import db
from idp.oidc import presented, token_endpoint
from idp.oidc.claims import user_claims
from idp.oidc.server import authorization_server
from idp.oidc.views.common import NO_STORE, bp


@bp.post("/token")
def token():
    """RFC 6749 3.2: the token endpoint (code, refresh and client-credentials grants)."""
    return token_endpoint.respond(_token_response)


def _token_response():
    response = authorization_server().create_token_response()
    db.session.commit()
    response.headers.update(NO_STORE)
    return response


@bp.post("/revoke")
def revoke():
    """RFC 7009: token revocation."""
    response = authorization_server().create_endpoint_response("revocation")
    db.session.commit()
    return response


@bp.post("/introspect")
def introspect():
    """RFC 7662: token introspection."""
    response = authorization_server().create_endpoint_response("introspection")
    response.headers.update(NO_STORE)
    return response


def bearer_token() -> str | None:
    """RFC 6750: the Authorization header (2.1) or, for POST, the form body (2.2); not both."""
    header = request.headers.get("Authorization", "")
    from_header = header[7:].strip() if header[:7].lower() == "bearer " else None
    from_body = request.form.get("access_token") if request.method == "POST" else None
    if from_header and from_body:
        return None
    return from_header or from_body


def bearer_error(error: str, status: int, description: str):
    """RFC 6750 3: the error in the body and in ``WWW-Authenticate``."""
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    response.headers["WWW-Authenticate"] = f'Bearer error="{error}", error_description="{description}"'
    response.headers.update(NO_STORE)
    return response


@bp.route("/userinfo", methods=["GET", "POST"])
def userinfo():
    """OIDC Core 5.3: "The UserInfo Endpoint MUST support the use of the HTTP methods GET and
    POST"; claims by the token's scope."""
    raw = bearer_token()
    if not raw:
        response = bearer_error("invalid_request", 401, "a Bearer access token is required")
        response.headers["WWW-Authenticate"] = 'Bearer realm="userinfo"'
        return response
    found = presented.find_active_access_token(raw)
    if found is None or found.row.user is None or "openid" not in found.row.scope.split():
        return bearer_error("invalid_token", 401, "the access token is invalid or has expired")
    response = jsonify(user_claims(found.row.user, found.row.scope))
    response.headers.update(NO_STORE)
    return response
