"""Signup (seed 3.3), the membership choice (seed 3.4) and email verification."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from idp import audit, mail
from idp.accounts.forms import EmptyForm, SignupForm
from idp.accounts.links import LinkExpired, LinkInvalid
from idp.accounts.service import EmailTaken
from idp.accounts.sessions import current_user, start_session
from idp.accounts.signup import (
    Registration,
    choose_temporary,
    confirm_email,
    register,
    send_verification_email,
)
from idp.db import db
from idp.ratelimit import SIGNUP_PER_IP

bp = Blueprint("signup", __name__)
PENDING = "pending_interaction"


def continue_after_signup():
    """Back to the sign-in the person came from, or to the account page."""
    interaction = session.pop(PENDING, None)
    if interaction:
        return redirect(url_for("oidc.resume", interaction=interaction))
    return redirect(url_for("accounts.account"))


def _registration(form: SignupForm) -> Registration:
    text = lambda field: (field.data or "").strip() or None  # noqa: E731
    return Registration(
        title_th=form.title_th.data, given_name_th=text(form.given_name_th),
        family_name_th=text(form.family_name_th), given_name_en=text(form.given_name_en),
        family_name_en=text(form.family_name_en), gender=form.gender.data,
        birthdate=form.birthdate.data, email=form.email.data.strip(),
        personnel_type=form.personnel_type.data, department=text(form.department),
        position=text(form.position), password=form.password.data, locale=str(get_locale()),
    )


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    form = SignupForm(interaction=request.args.get("interaction"))
    if request.method == "GET":
        if form.interaction.data:
            session[PENDING] = form.interaction.data
        return render_template("accounts/signup.html", form=form)
    if not form.validate_on_submit():
        return render_template("accounts/signup.html", form=form), 400
    ip = request.remote_addr or "unknown"
    if SIGNUP_PER_IP.exhausted(ip):
        form.email.errors.append(_("Too many signups from this network. Please try again later."))
        return render_template("accounts/signup.html", form=form), 429
    SIGNUP_PER_IP.spend(ip)
    try:
        user = register(_registration(form))
    except EmailTaken:
        form.email.errors.append(_("This email is already registered. Sign in, or reset your "
                                   "password if you have forgotten it."))
        return render_template("accounts/signup.html", form=form), 409
    start_session(user, amr=["pwd"])
    audit.record("account:login:success", actor=user, subject=user, details={"after": "signup"})
    db.session.commit()
    _send_verification(user)
    return redirect(url_for("signup.membership"))


def _send_verification(user) -> None:
    try:
        send_verification_email(user)
        flash(_("We have sent a link to %(email)s to confirm your email.", email=user.email))
    except mail.MailUnavailable:
        current_app.logger.error("verification mail not sent to account %s", user.sub)
        flash(_("We could not send the confirmation mail just now. You can send it again "
                "from your account page."))


@bp.route("/signup/membership", methods=["GET", "POST"])
def membership():
    user = current_user()
    if user is None:
        return redirect(url_for("accounts.login"))
    form = EmptyForm()
    if request.method == "POST" and form.validate_on_submit():
        if request.form.get("choice") == "permanent":
            return redirect(url_for("verification.choose_method"))
        choose_temporary(user)
        db.session.commit()
        return continue_after_signup()
    days = current_app.config["MEMBERSHIP"]["TEMPORARY_DAYS"]
    return render_template("accounts/membership.html", form=form, user=user, days=days)


@bp.get("/email/verify")
def verify_email():
    try:
        confirm_email(request.args.get("token", ""))
        flash(_("Thank you. Your email is confirmed."))
    except LinkExpired:
        flash(_("This link has expired. Send a new one from your account page."))
    except LinkInvalid:
        flash(_("This link is not valid or has already been used."))
    return redirect(url_for("accounts.account") if current_user() else url_for("accounts.index"))


@bp.post("/email/resend")
def resend_verification():
    user = current_user()
    if user is None or not EmptyForm().validate_on_submit():
        return redirect(url_for("accounts.login"))
    if not user.email_verified:
        _send_verification(user)
    return redirect(url_for("accounts.account"))
