"""The endpoints relying parties' servers call: token, revocation, introspection, userinfo."""

from __future__ import annotations

from flask import jsonify, request

from idp.db import db
from idp.oidc import token_endpoint
from idp.oidc.server import authorization_server
from idp.oidc.userinfo import answer as userinfo_answer
from idp.oidc.views.common import bp
from idp.security import NO_STORE


@bp.post("/token")
def token():
    """RFC 6749 3.2: the token endpoint (code, refresh and client-credentials grants). Answered
    by ``token_endpoint.TokenEndpoint`` before the app; here for what it passes on."""
    return token_endpoint.respond(request._get_current_object())


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


@bp.route("/userinfo", methods=["GET", "POST"])
def userinfo():
    """OIDC Core 5.3: "The UserInfo Endpoint MUST support the use of the HTTP methods GET and
    POST". Answered by ``userinfo.UserinfoEndpoint`` before the app; here for HEAD and for a
    call that failed there (the app's error handlers answer it)."""
    form_token = request.form.get("access_token") if request.method == "POST" else None
    result = userinfo_answer(request.headers.get("Authorization"), form_token)
    response = jsonify(result.body)
    response.status_code = result.status
    response.headers.update(dict(result.headers))
    response.headers.update(NO_STORE)
    return response
