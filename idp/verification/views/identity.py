"""The identity-verification pages (seed 3.4–3.5)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import lazy_gettext as _l

from idp.accounts.sessions import sign_in_required
from idp.verification.citizen_id import normalize_citizen_id, normalize_laser_code
from idp.verification.dopa import PersonToCheck
from idp.verification.identity import registry, verify_identity
from idp.verification.views.forms import IdentityForm

bp = Blueprint("verification", __name__)

MESSAGES = {
    "verified": _l("Your identity has been verified. You are now a permanent member."),
    "mismatch": _l("The data does not match the civil registry of the Department of Provincial "
                   "Administration. Please check that everything is exactly as on your ID card."),
    "card_expired": _l("This ID card is no longer valid. Please contact your district "
                       "registration office."),
    "incomplete": _l("Some information is missing. Please fill in every field."),
    "unavailable": _l("The Department of Provincial Administration's service cannot be reached "
                      "right now. Nothing has been changed; please try again later."),
    "throttled": _l("Too many attempts. Please try again later (in an hour, or tomorrow for this "
                    "citizen ID number), or contact the help desk."),
    "citizen_id_taken": _l("This citizen ID number is already linked to another MOC Account. "
                           "Please contact the help desk."),
    "rebind_refused": _l("This account is already verified as another person. The identity of "
                         "an account cannot be changed; please contact the help desk."),
}
STATUS_CODES = {"unavailable": 503, "throttled": 429, "rebind_refused": 409}


@bp.get("/verify")
@sign_in_required
def choose_method(user):
    """The page that offers the identity check and the staff methods."""
    if request.args.get("interaction"):
        session["pending_interaction"] = request.args["interaction"]
    return render_template("verification/choose_method.html", user=user)


def person_from_form(form: IdentityForm) -> PersonToCheck:
    """What the member typed on the identity form, normalised for DOPA."""
    return PersonToCheck(
        citizen_id=normalize_citizen_id(form.citizen_id.data),
        first_name_th=form.first_name_th.data, last_name_th=form.last_name_th.data,
        birthdate=form.birthdate.data,
        laser_code=normalize_laser_code(form.laser_code.data) if form.laser_code.data else None,
    )


@bp.route("/verify/identity", methods=["GET", "POST"])
@sign_in_required
def identity(user):
    """The identity-check form (seed 3.4): DOPA checks what the member typed."""
    needs_laser = registry().needs_laser_code
    form = IdentityForm(needs_laser_code=needs_laser)
    if request.method == "GET":
        form.first_name_th.data = user.given_name_th
        form.last_name_th.data = user.family_name_th
        form.birthdate.data = user.birthdate
        return _page(form, user, needs_laser)
    if not form.validate_on_submit():
        return _page(form, user, needs_laser), 400
    outcome = verify_identity(user, person_from_form(form))
    if outcome.verified:
        flash(MESSAGES["verified"])
        return continue_after_verification()
    # Keep what was typed, except the citizen ID field itself is re-shown as typed too:
    # it never leaves this response (no URL, no log).
    status = STATUS_CODES.get(outcome.status, 422)
    return _page(form, user, needs_laser, problem=MESSAGES[outcome.status]), status


def _page(form, user, needs_laser, problem=None):
    return render_template("verification/identity.html", form=form, user=user,
                           needs_laser=needs_laser, problem=problem)


def continue_after_verification():
    """Back to the sign-in that sent the member here, or to the account page."""
    interaction = session.pop("pending_interaction", None)
    if interaction:
        return redirect(url_for("oidc.resume", interaction=interaction))
    return redirect(url_for("accounts.account"))
