"""Forgotten password (by email) and password change."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from idp.accounts.forms import ChangePasswordForm, ForgotPasswordForm, ResetPasswordForm
from idp.accounts.links import LinkExpired, LinkInvalid
from idp.accounts.recovery import change_password, request_reset, reset_password, user_for_reset
from idp.accounts.sessions import current_user
from idp.ratelimit import PASSWORD_RESET_PER_IP

bp = Blueprint("passwords", __name__)


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot():
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
    # The same answer whether or not the email has an account.
    return render_template("accounts/forgot_password.html", form=form, sent=True)


@bp.route("/password/reset", methods=["GET", "POST"])
def reset():
    token = request.values.get("token", "")
    try:
        user_for_reset(token)
    except LinkExpired:
        return render_template("accounts/reset_password.html", problem="expired"), 400
    except LinkInvalid:
        return render_template("accounts/reset_password.html", problem="invalid"), 400
    form = ResetPasswordForm()
    if request.method == "POST" and form.validate_on_submit():
        reset_password(token, form.password.data)
        flash(_("Your password has been changed. Please sign in with the new password."))
        return redirect(url_for("accounts.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/reset_password.html", form=form, token=token,
                           problem=None), status


@bp.route("/account/password", methods=["GET", "POST"])
def change():
    user = current_user()
    if user is None:
        return redirect(url_for("accounts.login"))
    form = ChangePasswordForm()
    if request.method == "POST" and form.validate_on_submit():
        if change_password(user, form.current_password.data, form.password.data):
            flash(_("Your password has been changed. You were signed out everywhere else."))
            return redirect(url_for("accounts.account"))
        form.current_password.errors.append(_("The current password is incorrect."))
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/change_password.html", form=form), status
