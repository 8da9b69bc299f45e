"""The demo relying party: a Flask app that signs in with MOC Account through Authlib."""

from __future__ import annotations

import json
import os
import secrets
from datetime import UTC, datetime

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFProtect
from joserfc.errors import JoseError

from clients.demo_rp.logout_token import InvalidLogoutToken, validate_logout_token
from clients.demo_rp.sessions import LocalSession, init_sessions, local_sessions

SCOPE = "openid profile email moc offline_access"
ENVIRONMENT = {
    "ISSUER": "DEMO_RP_ISSUER",
    "CLIENT_ID": "DEMO_RP_CLIENT_ID",
    "CLIENT_SECRET": "DEMO_RP_CLIENT_SECRET",
    "SECRET_KEY": "DEMO_RP_SECRET_KEY",
    "BASE_URL": "DEMO_RP_BASE_URL",
}
DEFAULTS = {"ISSUER": "http://127.0.0.1:5000", "BASE_URL": "http://127.0.0.1:5001"}
REQUIRED = ("ISSUER", "CLIENT_ID", "CLIENT_SECRET", "BASE_URL")
SESSION_KEY = "local_session"
OAUTH = "authlib.integrations.flask_client"

bp = Blueprint("demo_rp", __name__)


def settings_from_environment(environ=os.environ) -> dict:
    """The settings named by the DEMO_RP_* environment variables that are set."""
    return {key: environ[name] for key, name in ENVIRONMENT.items() if environ.get(name)}


def create_app(settings: dict | None = None) -> Flask:
    """The demo RP; ``settings`` (ISSUER, CLIENT_ID, ...) default to the DEMO_RP_* variables."""
    settings = {**DEFAULTS, **(settings_from_environment() if settings is None else settings)}
    missing = [ENVIRONMENT[key] for key in REQUIRED if not settings.get(key)]
    if missing:
        raise ValueError(f"demo RP settings missing: {', '.join(missing)}")
    app = Flask(__name__)
    app.config.update(
        DEMO_RP=settings,
        SECRET_KEY=settings.get("SECRET_KEY") or secrets.token_urlsafe(32),
        SESSION_COOKIE_NAME="demo_rp_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings["BASE_URL"].startswith("https://"),
    )
    _register_idp(app, settings)
    init_sessions(app)
    CSRFProtect(app).exempt(backchannel_logout)
    app.register_blueprint(bp)
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.add_template_global(claim_rows)
    return app


def _register_idp(app: Flask, settings: dict) -> None:
    OAuth(app).register(
        "moc",
        client_id=settings["CLIENT_ID"],
        client_secret=settings["CLIENT_SECRET"],
        server_metadata_url=settings["ISSUER"].rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": SCOPE, "code_challenge_method": "S256"},
    )


def idp():
    """The Authlib client for MOC Account."""
    return current_app.extensions[OAUTH].create_client("moc")


def setting(name: str) -> str:
    """One of the RP's settings (ISSUER, CLIENT_ID, BASE_URL, ...)."""
    return current_app.config["DEMO_RP"][name]


def absolute_url(path: str) -> str:
    """``path`` under BASE_URL, the address the IdP knows this RP by."""
    return setting("BASE_URL").rstrip("/") + path


# --- local sessions -----------------------------------------------------------------------

def current_local_session() -> LocalSession | None:
    """The server-side session named by this browser's cookie, unless it has ended."""
    return local_sessions().get(session.get(SESSION_KEY))


def start_local_session(token: dict, userinfo: dict) -> LocalSession:
    """Keep the validated sign-in on the server and name it in this browser's cookie."""
    end_local_session()
    local = local_sessions().add(LocalSession(
        id_token=token["id_token"], claims=dict(token["userinfo"]), userinfo=dict(userinfo),
        token=_kept_tokens(token),
    ))
    session[SESSION_KEY] = local.id
    return local


def end_local_session() -> None:
    """Forget this browser's server-side session, if it has one."""
    local_sessions().remove(session.pop(SESSION_KEY, None))


def _kept_tokens(token: dict) -> dict:
    return {k: token.get(k) for k in ("access_token", "refresh_token", "expires_at", "scope")}


# --- pages --------------------------------------------------------------------------------

def error_page(error: str, description: str | None, status: int = 400):
    """The error page, with an error code tests and people can read."""
    return render_template("error.html", error=error, description=description), status


def protocol_error_page(error: AuthlibBaseError | JoseError):
    """The error page for an OAuth error answer or an ID token that failed validation."""
    return error_page(error.error or type(error).__name__, error.description)


@bp.get("/")
def index():
    """Signed out: a sign-in button. Signed in: the ID token claims and the userinfo answer."""
    if "state" in request.args:
        return finish_logout()
    return render_template("index.html", local=current_local_session())


@bp.get("/login")
def login():
    """Off to the IdP: code flow with PKCE (S256), state and nonce, all kept by Authlib."""
    return idp().authorize_redirect(absolute_url("/callback"))


@bp.get("/callback")
def callback():
    """Redeem the code (PKCE) and validate the ID token, nonce included; then fetch userinfo."""
    issuer = idp().load_server_metadata()["issuer"]
    if request.args.get("iss", issuer) != issuer:  # RFC 9207: the answer is from our IdP
        return error_page("issuer_mismatch", "the authorization response names another issuer")
    try:
        token = idp().authorize_access_token()
        userinfo = idp().userinfo(token=token)
    except (AuthlibBaseError, JoseError) as error:
        return protocol_error_page(error)
    start_local_session(token, userinfo)
    return redirect(url_for(".index"))


@bp.post("/refresh")
def refresh():
    """Use the refresh token; the rotated tokens and new claims replace the old ones."""
    local = current_local_session()
    if local is None or not local.refresh_token:
        return redirect(url_for(".index"))
    try:
        token = idp().fetch_access_token(grant_type="refresh_token", refresh_token=local.refresh_token)
        claims = idp().parse_id_token(token, nonce=None)
    except (AuthlibBaseError, JoseError) as error:
        return protocol_error_page(error)
    if claims is None:
        return error_page("missing_id_token", "the refresh response carries no ID token")
    if claims["sub"] != local.claims["sub"]:  # OIDC Core 12.2: the same person as before
        return error_page("subject_mismatch", "the refreshed ID token names another person")
    local.id_token, local.claims, local.token = token["id_token"], dict(claims), _kept_tokens(token)
    local.refreshed_at = datetime.now(UTC)
    flash("Tokens refreshed: the claims below come from the new ID token.")
    return redirect(url_for(".index"))


@bp.post("/logout")
def logout():
    """RP-initiated logout. The local session ends when the IdP's back-channel logout token
    arrives, or at the latest when the browser comes back with our ``state``."""
    local = current_local_session()
    if local is None:
        return redirect(url_for(".index"))
    return idp().logout_redirect(
        post_logout_redirect_uri=absolute_url("/"), id_token_hint=local.id_token
    )


def finish_logout():
    """The browser is back from the IdP's end-session endpoint: check ``state``, then sign out."""
    try:
        idp().validate_logout_response()
    except AuthlibBaseError as error:
        return protocol_error_page(error)
    end_local_session()
    flash("You have signed out of MOC Account.")
    return redirect(url_for(".index"))


@bp.post("/backchannel-logout")
def backchannel_logout():
    """Back-Channel Logout 1.0: validate the logout token, then end the sessions it names."""
    raw = request.form.get("logout_token")
    if not raw:
        return _backchannel_answer(400, "logout_token is required")
    try:
        claims = validate_logout_token(
            raw, fetch_jwks=lambda force: idp().fetch_jwk_set(force=force),
            issuer=idp().load_server_metadata()["issuer"], client_id=setting("CLIENT_ID"),
        )
    except InvalidLogoutToken as error:
        return _backchannel_answer(400, str(error))
    local_sessions().end_matching(sid=claims.get("sid"), sub=claims.get("sub"))
    return _backchannel_answer(200)


def _backchannel_answer(status: int, description: str | None = None):
    body = {"error": "invalid_request", "error_description": description} if description else {}
    return body, status, {"Cache-Control": "no-store"}


# --- showing claims -----------------------------------------------------------------------

CLAIM_LABELS = {
    "moc_account_type": "Account type (temporary or permanent)",
    "moc_account_expires_at": "Account expires at",
    "moc_staff": "Verified MOC staff",
    "moc_staff_verified_by": "Staff status verified by",
    "moc_identity_verified": "Identity verified",
    "moc_department": "Department",
    "moc_position": "Position",
    "sub": "Subject (the person's stable id)",
    "name": "Name",
    "given_name": "Given name",
    "family_name": "Family name",
    "email": "Email",
    "email_verified": "Email verified",
    "iss": "Issuer",
    "aud": "Audience",
    "azp": "Authorized party",
    "iat": "Issued at",
    "exp": "Expires at",
    "auth_time": "Signed in at",
    "amr": "Authentication methods",
    "sid": "IdP session id",
    "nonce": "Nonce",
    "at_hash": "Access token hash",
}
TIME_CLAIMS = {"iat", "exp", "nbf", "auth_time", "moc_account_expires_at"}


def claim_rows(claims: dict) -> list[tuple[str, str, str]]:
    """(name, label, shown value) for each claim: the labelled ones first, in label order."""
    names = [n for n in CLAIM_LABELS if n in claims] + sorted(set(claims) - set(CLAIM_LABELS))
    return [(n, CLAIM_LABELS.get(n, n), claim_value(n, claims[n])) for n in names]


def claim_value(name: str, value) -> str:
    """A claim as text (JSON unless a string); NumericDates also as a UTC date."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if name in TIME_CLAIMS and isinstance(value, int | float):
        return f"{text} ({datetime.fromtimestamp(value, UTC):%Y-%m-%d %H:%M:%S} UTC)"
    if name == "moc_account_expires_at" and value is None:
        return f"{text} (never: a permanent account)"
    return text
