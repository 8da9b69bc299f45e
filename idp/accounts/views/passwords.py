"""Forgotten password (by email) and password change."""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from idp.accounts.forms import ChangePasswordForm, ForgotPasswordForm, ResetPasswordForm
from idp.accounts.links import LinkExpired, LinkInvalid
from idp.accounts.recovery import (
    Change,
    change_password,
    request_reset,
    reset_password,
    user_for_reset,
)
from idp.accounts.sessions import sign_in_required
from idp.ratelimit import PASSWORD_RESET_PER_IP

bp = Blueprint("passwords", __name__)
RESET_TOKEN = "password_reset_token"


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot():
    """Ask for a password-reset link by email (the same answer whether or not the account exists)."""
    form = ForgotPasswordForm()
    if request.method == "GET" or not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("accounts/forgot_password.html", form=form, sent=False), status
    ip = request.remote_addr or "unknown"
    if PASSWORD_RESET_PER_IP.exhausted(ip):
        form.email.errors.append(_("Too many requests. Please wait a while and try again."))
        return render_template("accounts/forgot_password.html", form=form, sent=False), 429
    PASSWORD_RESET_PER_IP.spend(ip)
    request_reset(form.email.data)
    # The same answer whether or not the email has an account; the mail leaves after it.
    return render_template("accounts/forgot_password.html", form=form, sent=True)


@bp.route("/password/reset", methods=["GET", "POST"])
def reset():
    """The mailed link lands here once: its token moves into the session and the browser is
    sent on to the same page without it, so no later request (the form's POST, the language
    switch, a Referer) carries the token in its address."""
    if request.method == "GET" and request.args.get("token"):
        session[RESET_TOKEN] = request.args["token"]
        return _no_referrer(redirect(url_for("passwords.reset"), code=303))
    return _reset_form(session.get(RESET_TOKEN, ""))


def _no_referrer(response):
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _reset_page(status: int = 200, **context):
    page = render_template("accounts/reset_password.html", **context)
    return _no_referrer(make_response(page, status))


def _reset_form(token: str):
    try:
        user = user_for_reset(token)
    except LinkExpired:
        session.pop(RESET_TOKEN, None)
        return _reset_page(400, problem="expired")
    except LinkInvalid:
        session.pop(RESET_TOKEN, None)
        return _reset_page(400, problem="invalid")
    form = ResetPasswordForm()
    form.account = user
    if request.method == "POST" and form.validate_on_submit():
        reset_password(token, form.password.data)
        session.pop(RESET_TOKEN, None)
        flash(_("Your password has been changed. Please sign in with the new password."))
        return redirect(url_for("accounts.login"))
    return _reset_page(400 if request.method == "POST" else 200, form=form, problem=None)


@bp.route("/account/password", methods=["GET", "POST"])
@sign_in_required
def change(user):
    """Change the password of the signed-in account."""
    form = ChangePasswordForm()
    form.account = user
    if request.method == "POST" and form.validate_on_submit():
        outcome = change_password(user, form.current_password.data, form.password.data)
        if outcome is Change.CHANGED:
            flash(_("Your password has been changed. You were signed out everywhere else."))
            return redirect(url_for("accounts.account"))
        if outcome is Change.THROTTLED:
            return render_template("accounts/change_password.html", form=form, throttled=True), 429
        form.current_password.errors.append(_("The current password is incorrect."))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/change_password.html", form=form), status
