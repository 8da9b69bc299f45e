"""RP-Initiated Logout 1.0 (https://openid.net/specs/openid-connect-rpinitiated-1_0.html)."""

from __future__ import annotations

from authlib.common.urls import add_params_to_uri
from flask import redirect, render_template, request

from idp.accounts.sessions import current_session, end_current_session
from idp.db import db
from idp.oidc.logout import LogoutRequestError, parse_logout_request
from idp.oidc.views.common import bp, error_page

LOGOUT_PARAMS = ("id_token_hint", "client_id", "post_logout_redirect_uri", "state", "ui_locales")


@bp.route("/logout", methods=["GET", "POST"])
def end_session():
    """RP-Initiated Logout 1.0, section 2: GET and POST. Without an id_token_hint from this very
    session the person is asked to confirm (section 6), on a CSRF-protected form."""
    params = request.args if request.method == "GET" else request.form
    return _logout(params, confirmed=False)


@bp.post("/logout/confirm")
def confirm_end_session():
    """The person confirmed (or declined) signing out."""
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
