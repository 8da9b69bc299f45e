"""Signup (seed 3.3), the membership choice (seed 3.4) and email verification."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from idp.accounts.forms import EmptyForm, SignInForm, SignupForm
from idp.accounts.links import LinkExpired, LinkInvalid
from idp.accounts.sessions import current_user, sign_in_required
from idp.accounts.signup import (
    Outcome,
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
SIGNED_UP = "signed_up"


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
    """Create an account (seed 3.3)."""
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
    outcome = register(_registration(form), ip)
    # A new email and a registered one get the same answer (no account enumeration): the
    # person signs in with the password they chose, which only the owner of an account knows.
    session[SIGNED_UP] = {"email": form.email.data.strip(),
                          "recognised": outcome is Outcome.ALREADY_CREATED}
    return redirect(url_for("signup.sent"), code=303)


@bp.get("/signup/sent")
def sent():
    """Check your mail, and sign in with the password just chosen to go on (seed 3.4)."""
    details = session.get(SIGNED_UP)
    if not details:
        return redirect(url_for("signup.signup"))
    form = SignInForm(email=details["email"], next=url_for("signup.membership"))
    return render_template("accounts/signup_sent.html", form=form, email=details["email"],
                           recognised=details["recognised"])


def _send_verification(user) -> None:
    send_verification_email(user)
    db.session.commit()
    flash(_("We have sent a link to %(email)s to confirm your email.", email=user.email))


@bp.route("/signup/membership", methods=["GET", "POST"])
@sign_in_required
def membership(user):
    """Choose the membership: verify the identity now, or stay temporary (seed 3.4)."""
    form = EmptyForm()
    if request.method == "GET" and user.membership_chosen_at is not None:
        return continue_after_signup()  # chosen already (e.g. a signup retried later)
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
    """Confirm the email from the link mailed at signup."""
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
    """Mail the email-confirmation link again."""
    user = current_user()
    if user is None or not EmptyForm().validate_on_submit():
        return redirect(url_for("accounts.login"))
    if not user.email_verified:
        _send_verification(user)
    return redirect(url_for("accounts.account"))
