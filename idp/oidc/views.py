"""OpenID Provider endpoints. Views orchestrate: parse, call a service, respond."""

from __future__ import annotations

from datetime import UTC, datetime

from authlib.common.urls import add_params_to_uri
from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from idp import audit
from idp.accounts.sessions import current_session, end_current_session
from idp.clock import now
from idp.db import db
from idp.oidc import authorize, consent, discovery, interactions, token_endpoint, tokens
from idp.oidc.claims import user_claims
from idp.oidc.codes import issue_code
from idp.oidc.logout import LogoutRequestError, parse_logout_request
from idp.oidc.policy import may_get_tokens
from idp.oidc.server import authorization_server, key_store

bp = Blueprint("oidc", __name__)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


# --- discovery and JWKS: served by discovery.PublicDocuments before the app; these views
# only name the routes (url_for) and answer when the middleware is not in front.

@bp.record_once
def _serve_public_documents(state) -> None:
    state.app.wsgi_app = discovery.PublicDocuments(state.app, state.app.wsgi_app)


def _document(body_and_etag: tuple[bytes, str]):
    body, etag = body_and_etag
    response = current_app.response_class(body, mimetype="application/json")
    response.set_etag(etag.strip('"'))
    response.headers["Cache-Control"] = (
        f"public, max-age={current_app.config['SERVER']['METADATA_MAX_AGE_SECONDS']}")
    return response.make_conditional(request)


@bp.get("/.well-known/openid-configuration")
def openid_configuration():
    return _document(discovery.PublicDocuments(current_app, None).discovery_document())


@bp.get("/jwks.json")
def jwks():
    return _document(key_store().jwks_document(now()))


# --- authorization endpoint ---------------------------------------------------------------

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
    return authorization_response(
        error.request, {"error": error.error, "error_description": error.description}
    )


def error_page(error: str, description: str, status: int = 400):
    return render_template("oidc/error.html", error=error, description=description), status


@bp.route("/authorize", methods=["GET", "POST"])
def authorize_endpoint():
    """OIDC Core 3.1.2.1: "Authorization Servers MUST support the use of the HTTP GET and POST
    methods" at the authorization endpoint."""
    params = request.args if request.method == "GET" else request.form
    return start_or_resume(params, interaction_id=None)


@bp.get("/authorize/resume")
def resume():
    interaction_id = request.args.get("interaction")
    entry = interactions.load(interaction_id)
    if entry is None:
        return error_page("interaction_expired", _("This sign-in took too long. Start again "
                                                   "from the service you were signing in to."))
    return start_or_resume(MultiDict(entry["params"]), interaction_id=interaction_id)


def start_or_resume(params, interaction_id: str | None):
    try:
        request_, client = authorize.parse(params)
        g.ui_locales = request_.ui_locales
        return decide(request_, client, interaction_id)
    except authorize.FatalRequestError as error:
        return error_page(error.error, error.description)
    except authorize.RedirectableError as error:
        interactions.discard(interaction_id)
        return error_response(error)


def decide(request_, client, interaction_id):
    """Sign-in, account choice and consent as needed, then the code (OIDC Core 3.1.2.3-5)."""
    entry = interactions.load(interaction_id) if interaction_id else None
    flags = set(entry["flags"]) if entry else set()
    started_at = _started_at(entry)
    session = current_session()
    no_prompt = "none" in request_.prompt

    def interact(endpoint, error):
        if no_prompt:
            raise authorize.RedirectableError(error, f"{error.replace('_', ' ')}", request_)
        iid = interaction_id or interactions.save(request_.to_params())
        return redirect(url_for(endpoint, interaction=iid))

    hinted = authorize.hinted_subject(request_)
    if authorize.needs_fresh_login(request_, session, started_at, hinted):
        if session is not None and hinted and hinted != session.user.sub and no_prompt:
            raise authorize.RedirectableError("login_required", "another person is signed in", request_)
        return interact("accounts.login", "login_required")
    problem = may_get_tokens(session.user, client, now())
    if problem:
        if no_prompt:
            error = "interaction_required" if problem.endswith("_required") else "login_required"
            raise authorize.RedirectableError(error, problem.replace("_", " "), request_)
        iid = interaction_id or interactions.save(request_.to_params())
        return render_template(f"oidc/{problem}.html", client=client, interaction=iid), 403
    if "select_account" in request_.prompt and "account_selected" not in flags:
        return interact("oidc.select_account", "account_selection_required")
    scope = authorize.granted_scope(request_, client)
    consented = "consent_given" in flags
    if not consented and ("consent" in request_.prompt or not consent.covers(session.user, client, scope)):
        return interact("oidc.consent_page", "consent_required")
    return issue(request_, client, session, scope, interaction_id)


def _started_at(entry):
    """When the interaction began (prompt=login asks for a sign-in newer than that)."""
    if entry is None:
        return now()
    return datetime.fromtimestamp(entry["started_at"], UTC)


def issue(request_, client, session, scope, interaction_id):
    code = issue_code(
        client=client, user=session.user, session=session, redirect_uri=request_.redirect_uri,
        scope=scope, nonce=request_.nonce, code_challenge=request_.code_challenge,
        code_challenge_method=request_.code_challenge_method,
    )
    audit.record("oidc:authorization:granted", actor=session.user, subject=session.user,
                 client_id=client.client_id, details={"scope": scope})
    db.session.commit()
    interactions.discard(interaction_id)
    return authorization_response(request_, {"code": code})


def _interaction_or_404():
    interaction_id = request.values.get("interaction")
    entry = interactions.load(interaction_id)
    session = current_session()
    if entry is None or session is None:
        abort(404)
    request_, client = authorize.parse(MultiDict(entry["params"]))
    return interaction_id, request_, client, session


@bp.route("/consent", methods=["GET", "POST"])
def consent_page():
    interaction_id, request_, client, session = _interaction_or_404()
    scope = authorize.granted_scope(request_, client)
    if request.method == "GET":
        return render_template("oidc/consent.html", client=client, scopes=scope.split(),
                               interaction=interaction_id, user=session.user)
    if request.form.get("decision") != "allow":
        audit.record("oidc:consent:denied", actor=session.user, client_id=client.client_id)
        db.session.commit()
        interactions.discard(interaction_id)
        return error_response(authorize.RedirectableError(
            "access_denied", "the person declined", request_))
    consent.grant(session.user, client, scope)
    db.session.commit()
    interactions.flag(interaction_id, "consent_given")
    return redirect(url_for("oidc.resume", interaction=interaction_id))


@bp.route("/select-account", methods=["GET", "POST"])
def select_account():
    interaction_id, request_, client, session = _interaction_or_404()
    if request.method == "GET":
        return render_template("oidc/select_account.html", client=client, user=session.user,
                               interaction=interaction_id)
    interactions.flag(interaction_id, "account_selected")
    if request.form.get("choice") == "switch":
        end_current_session(reason="switch_account")
        db.session.commit()
        return redirect(url_for("accounts.login", interaction=interaction_id))
    return redirect(url_for("oidc.resume", interaction=interaction_id))


# --- token, userinfo, revocation, introspection --------------------------------------------

@bp.post("/token")
def token():
    return token_endpoint.respond(_token_response)


def _token_response():
    response = authorization_server().create_token_response()
    db.session.commit()
    response.headers.update(NO_STORE)
    return response


@bp.post("/revoke")
def revoke():
    response = authorization_server().create_endpoint_response("revocation")
    db.session.commit()
    return response


@bp.post("/introspect")
def introspect():
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
    found = tokens.find_active_access_token(raw)
    if found is None or found.row.user is None or "openid" not in found.row.scope.split():
        return bearer_error("invalid_token", 401, "the access token is invalid or has expired")
    response = jsonify(user_claims(found.row.user, found.row.scope))
    response.headers.update(NO_STORE)
    return response


# --- RP-initiated logout ------------------------------------------------------------------

@bp.route("/logout", methods=["GET", "POST"])
def end_session():
    """RP-Initiated Logout 1.0, section 2: GET and POST. Without an id_token_hint from this very
    session the person is asked to confirm (section 6), on a CSRF-protected form."""
    params = request.args if request.method == "GET" else request.form
    return _logout(params, confirmed=False)


@bp.post("/logout/confirm")
def confirm_end_session():
    return _logout(request.form, confirmed=request.form.get("confirm") == "yes")


def _logout(params, *, confirmed: bool):
    try:
        logout = parse_logout_request(params)
    except LogoutRequestError as error:
        return error_page("invalid_request", str(error))
    session = current_session()
    if session is not None and not (confirmed or logout.proven_for(session)):
        kept = {k: params[k] for k in LOGOUT_PARAMS if params.get(k)}
        return render_template("oidc/logout_confirm.html", logout=logout, user=session.user,
                               params=kept)
    end_current_session(reason="logout")
    db.session.commit()
    if logout.post_logout_redirect_uri:
        extra = [("state", logout.state)] if logout.state else []
        return redirect(add_params_to_uri(logout.post_logout_redirect_uri, extra))
    return render_template("oidc/logged_out.html", client=logout.client)


LOGOUT_PARAMS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales")
