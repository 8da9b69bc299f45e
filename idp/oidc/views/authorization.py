"""The authorization endpoint and the steps it sends the browser through: sign-in (on the
accounts pages), account choice and consent; then the code (OIDC Core 3.1.2)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

from flask import Flask, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Request

from idp import audit, request_id, security
from idp.accounts.sessions import current_session, end_current_session, session_view, touch_due
from idp.answering import answering, send
from idp.clock import now
from idp.db import db
from idp.errors import is_database_unreachable
from idp.logs import ENDPOINT, note
from idp.oidc import authorize, consent, interactions
from idp.oidc.codes import issue_code
from idp.oidc.policy import Refusal, may_get_tokens
from idp.oidc.views.common import authorization_response, bp, error_page, error_response

log = logging.getLogger(__name__)


@bp.route("/authorize", methods=["GET", "POST"])
def authorize_endpoint():
    """OIDC Core 3.1.2.1: "Authorization Servers MUST support the use of the HTTP GET and POST
    methods" at the authorization endpoint
    (https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest)."""
    params = request.args if request.method == "GET" else request.form
    return start_or_resume(params, interaction_id=None)


@bp.get("/authorize/resume")
def resume():
    """Pick up a pending request where it left off (after consent, verification)."""
    return resume_interaction(request.args.get("interaction"))


def resume_interaction(interaction_id: str | None):
    """The pending request's next step, if this browser started it and it has not expired.
    Sign-in calls it directly, so that the code follows the sign-in without a redirect here."""
    entry = interactions.load(interaction_id)
    if entry is None:
        return error_page("interaction_expired", _("This sign-in took too long. Start again "
                                                   "from the service you were signing in to."))
    return start_or_resume(MultiDict(entry["params"]), interaction_id=interaction_id)


def start_or_resume(params, interaction_id: str | None):
    """Validate the request and take the next step; errors go where the spec sends them."""
    try:
        request_, client = authorize.parse(params)
        g.ui_locales = request_.ui_locales
        return decide(request_, client, interaction_id)
    except authorize.FatalRequestError as error:
        return error_page(error.error, error.description)
    except authorize.RedirectableError as error:
        interactions.discard(interaction_id)
        return error_response(error)


@dataclass(frozen=True)
class _Step:
    """Sends the browser to an interaction page, or (``prompt=none``) answers with its error."""

    request: authorize.AuthorizationRequest
    interaction_id: str | None

    def _interaction(self) -> str:
        return self.interaction_id or interactions.save(self.request.to_params())

    def interact(self, endpoint: str, error: str):
        """Send the browser to ``endpoint``, or answer ``error`` under ``prompt=none``."""
        if self.request.no_prompt:
            raise authorize.RedirectableError(error, f"{error.replace('_', ' ')}", self.request)
        return redirect(url_for(endpoint, interaction=self._interaction()))

    def refused(self, refusal: Refusal, client):
        """Show why the account may not sign in here, or answer the error under ``prompt=none``."""
        if self.request.no_prompt:
            error = "interaction_required" if refusal.endswith("_required") else "login_required"
            raise authorize.RedirectableError(error, refusal.replace("_", " "), self.request)
        return render_template(f"oidc/{refusal}.html", client=client,
                               interaction=self._interaction()), 403


class Next(Enum):
    """What an authorization request needs before its code, or the code itself."""

    SIGN_IN = "sign_in"
    ANOTHER_PERSON = "another_person"  # prompt=none, and the hint names someone else
    REFUSED = "refused"
    SELECT_ACCOUNT = "select_account"
    CONSENT = "consent"
    CODE = "code"


# The pages a step sends the browser to, and the error each is under prompt=none.
INTERACTIONS = {
    Next.SIGN_IN: ("accounts.login", "login_required"),
    Next.SELECT_ACCOUNT: ("oidc.select_account", "account_selection_required"),
    Next.CONSENT: ("oidc.consent_page", "consent_required"),
}


def next_step(request_, client, session, entry) -> tuple[Next, str | None]:
    """Sign-in, account choice and consent as needed, then the code (OIDC Core 3.1.2.3-5):
    the step, with the refusal (REFUSED) or the granted scope (CODE). Reads only."""
    flags = set(entry["flags"]) if entry else set()
    hinted = authorize.hinted_subject(request_)
    if authorize.needs_fresh_login(request_, session, _started_at(entry), hinted):
        if session is not None and hinted and hinted != session.user.sub and request_.no_prompt:
            return Next.ANOTHER_PERSON, None
        return Next.SIGN_IN, None
    refusal = may_get_tokens(session.user, client, now())
    if refusal:
        return Next.REFUSED, refusal
    if "select_account" in request_.prompt and "account_selected" not in flags:
        return Next.SELECT_ACCOUNT, None
    scope = authorize.granted_scope(request_, client)
    asks_consent = "consent" in request_.prompt or not consent.covers(session.user, client, scope)
    if "consent_given" not in flags and asks_consent:
        return Next.CONSENT, None
    return Next.CODE, scope


def decide(request_, client, interaction_id):
    """Take the request's next step: a page, a refusal, an error, or the code."""
    entry = interactions.load(interaction_id) if interaction_id else None
    session, step = session_view(), _Step(request_, interaction_id)
    after, detail = next_step(request_, client, session, entry)
    if after is Next.CODE:
        return issue(request_, client, session, detail, interaction_id)
    if after is Next.REFUSED:
        return step.refused(detail, client)
    if after is Next.ANOTHER_PERSON:
        raise authorize.RedirectableError("login_required", "another person is signed in", request_)
    return step.interact(*INTERACTIONS[after])


def _started_at(entry):
    """When the interaction began (prompt=login asks for a sign-in newer than that)."""
    if entry is None:
        return now()
    return datetime.fromtimestamp(entry["started_at"], UTC)


def issue(request_, client, session, scope, interaction_id):
    """Issue the code and send it to the client (OIDC Core 3.1.2.5)."""
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
    """Ask the person to allow the client the scopes it asked for."""
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
    consent.grant_and_commit(session.user, client, scope)
    interactions.flag(interaction_id, "consent_given")
    return redirect(url_for("oidc.resume", interaction=interaction_id))


@bp.route("/select-account", methods=["GET", "POST"])
def select_account():
    """``prompt=select_account``: continue as the signed-in person, or switch."""
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


# --- answered before the app --------------------------------------------------------------

class AuthorizationEndpoint:
    """WSGI middleware: GET ``/authorize`` from a browser with a live SSO session whose next step
    is the code (nothing to ask, refuse or sign in again), sent back in the query: issued in an
    app context only (``idp.answering``), with ``next_step`` and ``issue`` as the view uses them.

    Everything else goes on to the app untouched: nothing is written before the code is known
    to be next, and the idle-time touch (once a minute per session) is left to the app's hook.
    A failure after the code's commit would leave that code unused (it expires); the app then
    answers with another."""

    def __init__(self, app: Flask, wsgi_app):
        self.app, self.wsgi_app = app, wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != "/authorize" or environ.get("REQUEST_METHOD") != "GET" \
                or "HTTP_COOKIE" not in environ:
            return self.wsgi_app(environ, start_response)
        bare, response = Request(environ), None
        try:
            with answering(self.app, bare) as this_request:
                response = self._code(bare)
                if response is not None:
                    response.headers[request_id.HEADER] = this_request
        except (authorize.FatalRequestError, authorize.RedirectableError):
            pass  # the app answers the request's error, where the spec sends it
        except Exception as error:
            if not is_database_unreachable(error):  # that one the app logs itself
                log.exception("authorization before the app failed; the app answers instead")
        if response is None:
            return self.wsgi_app(environ, start_response)
        return send(response, environ, start_response)

    @staticmethod
    def _code(bare: Request):
        """The code's redirect, or None when the app is to answer."""
        session = session_view()  # no live session (a first visit): nothing else to read
        if session is None or touch_due(session, now()):
            return None
        request_, client = authorize.parse(bare.args)
        if request_.response_mode != "query":
            return None
        after, scope = next_step(request_, client, session, None)
        if after is not Next.CODE:
            return None
        response = issue(request_, client, session, scope, None)
        bare.environ[ENDPOINT] = "oidc.authorize_endpoint"
        note(client_id=client.client_id, sub=session.user.sub)
        return security.headers(response)
