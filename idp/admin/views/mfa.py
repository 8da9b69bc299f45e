"""Enrolling and using the second factor (TOTP app, recovery codes)."""

from __future__ import annotations

from flask import g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from idp.accounts.forms import EmptyForm
from idp.admin import guard, mfa
from idp.admin.forms import CodeForm
from idp.admin.views.common import bp
from idp.db import db


@bp.route("/mfa/enrol", methods=["GET", "POST"])
@guard.any_role(second_factor=False)
def mfa_enrol():
    """Enrol a second factor (TOTP) before using the console."""
    user, session = g.admin_user, g.admin_session
    if mfa.is_enrolled(user):
        return redirect(url_for("admin.mfa_verify"))
    form = CodeForm()
    enrolment = mfa.pending_enrolment(user)
    if request.method == "GET" or not form.validate_on_submit():
        db.session.commit()  # keep the pending secret: the page can be reloaded while scanning
        status = 200 if request.method == "GET" else 400
        return render_template("admin/mfa_enrol.html", form=form, enrolment=enrolment), status
    codes = mfa.confirm_enrolment(user, form.code.data.strip(), session)
    db.session.commit()
    if codes is None:
        form.code.errors.append(_("That code is not right. Check the time on your phone and "
                                  "enter the code the app shows now."))
        return render_template("admin/mfa_enrol.html", form=form, enrolment=enrolment), 400
    return render_template("admin/recovery_codes.html", codes=codes, first_time=True)


@bp.route("/mfa/verify", methods=["GET", "POST"])
@guard.any_role(second_factor=False)
def mfa_verify():
    """Ask for the second factor (a TOTP or a recovery code)."""
    user, session = g.admin_user, g.admin_session
    if not mfa.is_enrolled(user):
        return redirect(url_for("admin.mfa_enrol"))
    form = CodeForm(next=request.args.get("next", ""))
    if request.method == "GET" or not form.validate_on_submit():
        status = 200 if request.method == "GET" else 400
        return render_template("admin/mfa_verify.html", form=form), status
    result = mfa.verify(user, form.code.data, session)
    db.session.commit()
    if not result.ok:
        form.code.errors.append(
            _("Too many wrong codes. Please wait 15 minutes and try again.")
            if result.reason == "throttled" else
            _("That code is not right, or it was already used. Enter the code the app shows now, "
              "or one of your recovery codes."))
        return render_template("admin/mfa_verify.html", form=form), 401
    return redirect(guard.safe_next(form.next.data))


@bp.post("/mfa/recovery-codes")
@guard.any_role(step_up=True)
def mfa_recovery_codes():
    """Show the recovery codes once, right after enrolment."""
    if not EmptyForm().validate_on_submit():
        return redirect(url_for("admin.home"))
    codes = mfa.regenerate_recovery_codes(g.admin_user)
    db.session.commit()
    return render_template("admin/recovery_codes.html", codes=codes, first_time=False)
