"""Sign-in, sign-out, the account page and the language switch (blueprint ``accounts``)."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from idp import audit
from idp.accounts import membership
from idp.accounts.forms import EmptyForm, SignInForm
from idp.accounts.pending import pending_request
from idp.accounts.sessions import current_session, current_user, end_current_session, start_session
from idp.accounts.sign_in import sign_in_with_password
from idp.clock import now
from idp.db import db
from idp.urls import same_site_path

bp = Blueprint("accounts", __name__)


@bp.get("/")
def index():
    """The home page."""
    return render_template("index.html", user=current_user())


def _after_sign_in(interaction_id: str | None, next_path: str | None = None):
    pending = pending_request(interaction_id)
    if pending is not None:
        return pending.resume()
    return redirect(same_site_path(next_path, url_for("accounts.account")))


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The sign-in page; resumes a pending request (or ``next``) once signed in."""
    interaction_id = request.values.get("interaction") or None
    pending = pending_request(interaction_id)
    if pending is not None:
        g.ui_locales = pending.ui_locales
    form = SignInForm(interaction=interaction_id, next=request.args.get("next", ""))
    if request.method == "GET":
        form.email.data = form.email.data or (pending.login_hint if pending else "")
        return render_template("accounts/login.html", form=form, user=current_user())
    if not form.validate_on_submit():
        return render_template("accounts/login.html", form=form, user=current_user()), 400
    return _sign_in(form, interaction_id)


def _sign_in(form: SignInForm, interaction_id: str | None):
    ip = request.remote_addr or "unknown"
    result = sign_in_with_password(form.email.data, form.password.data, ip)
    if result.reason == "throttled":
        db.session.commit()
        form.password.errors.append(_("Too many failed attempts. Please wait 15 minutes and try again."))
        return render_template("accounts/login.html", form=form, user=None), 429
    if not result.ok:
        db.session.commit()
        message = (_("This account has been disabled. Please contact the MOC Account help desk.")
                   if result.reason == "disabled" else _("The email or password is incorrect."))
        form.password.errors.append(message)
        return render_template("accounts/login.html", form=form, user=None), 401
    start_session(result.user, amr=["pwd"])
    audit.record("account:login:success", actor=result.user, subject=result.user)
    db.session.commit()
    return _after_sign_in(interaction_id, form.next.data)


@bp.post("/signout")
def signout():
    """End the browser's session."""
    form = EmptyForm()
    if form.validate_on_submit():
        end_current_session(reason="signout")
        db.session.commit()
        flash(_("You have signed out."))
    return redirect(url_for("accounts.index"))


@bp.get("/account")
def account():
    """The account page: membership, identity, staff status, linked applications."""
    session_ = current_session()
    if session_ is None:
        return redirect(url_for("accounts.login"))
    user = session_.user
    return render_template(
        "accounts/account.html", user=user, form=EmptyForm(),
        expired=membership.is_expired(user, now()),
        days_left=membership.days_left(user, now()),
    )


@bp.get("/lang/<code>")
def set_language(code: str):
    """Remember the person's language choice; return to the page they came from (same site)."""
    if code in current_app.config["LOCALES"]:
        session["locale"] = code
    return redirect(same_site_path(request.args.get("next"), url_for("accounts.index")))
