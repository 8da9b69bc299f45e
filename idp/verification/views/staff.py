"""The MOC personnel method (seed 3.5) and the document path (3.5–3.6), for the member."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.exceptions import RequestEntityTooLarge
from wtforms import BooleanField, FileField, StringField
from wtforms.validators import DataRequired, Length

from idp import audit
from idp.accounts.forms import EmptyForm
from idp.accounts.sessions import current_user, sign_in_required
from idp.db import db
from idp.errors import too_large_page
from idp.verification import applications
from idp.verification.documents import max_upload_bytes
from idp.verification.documents.checks import DocumentRefused, check_upload
from idp.verification.documents.refusal import REFUSAL_MESSAGES
from idp.verification.identity import registry, verify_identity
from idp.verification.staff import IdentityRequired, LookUpStatus, verify_staff
from idp.verification.views.forms import IdentityForm
from idp.verification.views.identity import (
    MESSAGES,
    STATUS_CODES,
    continue_after_verification,
    person_from_form,
)

bp = Blueprint("staff", __name__)
FORM_PDF = "forms/moc-account-staff-application.pdf"

# Outcomes shown on the staff page itself: (message, HTTP status, offer the document path).
LOOKUP_PROBLEMS = {
    "conflict": (_l("The ministry's records disagree about you: one system says you have left "
                    "the ministry and the other says you are in service. We cannot verify you "
                    "from them; you can send a document for review instead."), 409, True),
    "throttled": (_l("Too many staff checks. Please wait an hour and try again."), 429, False),
    "identity_required": (_l("MOC personnel status rests on a verified identity, and this account "
                             "has none on record. Please verify your identity first, or contact "
                             "the help desk."), 409, False),
}


class DocumentForm(FlaskForm):
    document = FileField(_l("Document (one file: .jpg .jpeg .png .pdf, at most 10 MB)"),
                         validators=[DataRequired(message=_l("Please choose a file."))])
    department = StringField(_l("Agency (department)"), validators=[
        DataRequired(message=_l("Please enter your agency.")), Length(max=200)])
    position = StringField(_l("Position"), validators=[
        DataRequired(message=_l("Please enter your position.")), Length(max=200)])
    declaration = BooleanField(validators=[DataRequired(
        message=_l("Please acknowledge the declaration."))])


@bp.route("/verify/staff", methods=["GET", "POST"])
@sign_in_required
def staff_method(user):
    """DOPA first (unless already done), then AD, then DPIS."""
    if user.is_staff:
        return redirect(url_for("accounts.account"))
    needs_laser = registry().needs_laser_code
    form = IdentityForm(needs_laser_code=needs_laser)
    if request.method == "POST" and (user.identity_verified or form.validate_on_submit()):
        if not user.identity_verified:
            outcome = verify_identity(user, person_from_form(form))
            if not outcome.verified:
                status = STATUS_CODES.get(outcome.status, 422)
                return _page(form, user, needs_laser, MESSAGES[outcome.status]), status
        return _look_up(form, user, needs_laser)
    if request.method == "GET":
        form.first_name_th.data, form.last_name_th.data = user.given_name_th, user.family_name_th
        form.birthdate.data = user.birthdate
    return _page(form, user, needs_laser), 400 if request.method == "POST" else 200


def _page(form, user, needs_laser, problem=None, offer_document=False):
    return render_template("verification/staff.html", form=form, user=user,
                           needs_laser=needs_laser, problem=problem, check=EmptyForm(),
                           offer_document=offer_document)


def _look_up(form, user, needs_laser):
    """AD and DPIS; a conflict, the rate limit or a missing identity is said on this page."""
    try:
        status = verify_staff(user).status
    except IdentityRequired:
        status = "identity_required"
    if status in LOOKUP_PROBLEMS:
        message, code, offer_document = LOOKUP_PROBLEMS[status]
        return _page(form, user, needs_laser, message, offer_document), code
    return _after_lookup(status)


def _after_lookup(status):
    if status == LookUpStatus.VERIFIED:
        flash(_l("You are verified as MOC personnel. Your account now shows the badge."))
        return continue_after_verification()
    session["staff_lookup"] = status
    return redirect(url_for("staff.document"))


@bp.route("/verify/staff/document", methods=["GET", "POST"])
@sign_in_required
def document(user):
    """The document path; only for a member whose identity DOPA has verified (seed order:
    identity check, then AD, then DPIS, then the document)."""
    if not user.identity_verified:
        return _identity_first(user)
    form = DocumentForm()
    if request.method == "GET":
        form.department.data, form.position.data = user.department, user.position
        return _document_page(form, user)
    if not form.validate_on_submit():
        return _document_page(form, user), 400
    refusal = applications.upload_refusal(user)
    if refusal:
        form.document.errors.append(_limit_message(refusal))
        return _document_page(form, user), 429
    return _receive(form, user)


def _receive(form, user):
    """Check the file, store it with the submission; a refusal keeps what was typed."""
    applications.count_upload(user)
    upload = form.document.data
    try:
        checked = check_upload(upload.stream, upload.filename, upload.mimetype, max_bytes=_max_bytes())
    except DocumentRefused as refused:
        if refused.reason == "too_large":
            form.document.errors.append(too_large_message())
            return _document_page(form, user), 413
        form.document.errors.append(_refusal(refused.reason))
        return _document_page(form, user), 422
    try:
        applications.submit(user, checked, department=form.department.data.strip(),
                            position=form.position.data.strip())
    except applications.NotAccepted:
        return redirect(url_for("staff.document"))
    flash(_l("Thank you. Your document has been sent and is pending review."))
    return redirect(url_for("staff.document"))


def _identity_first(user):
    if request.method == "POST":
        audit.record("verification:document:identity_required", actor=user, subject=user)
        db.session.commit()
    return render_template("verification/document_identity_first.html", user=user), 403


def _max_bytes() -> int:
    return max_upload_bytes(current_app.config.get("DOCUMENTS"))


def too_large_message() -> str:
    """The limit named in megabytes, e.g. "ไฟล์ใหญ่เกิน 10 MB …"."""
    megabytes = _max_bytes() / (1024 * 1024)
    shown = f"{megabytes:.0f}" if megabytes == int(megabytes) else f"{megabytes:.1f}"
    return _("The file is larger than %(limit)s MB. Please scan at a lower resolution or save it "
             "as a smaller PDF, then attach it again.", limit=shown)


def _limit_message(reason: str) -> str:
    if reason == "throttled":
        return _("You have sent several documents in a short time. Please wait and try again later.")
    days = current_app.config["DOCUMENTS"]["RETENTION_DAYS"]
    return _("You have reached the number of documents kept for one member. Documents are deleted "
             "%(days)s days after the decision; if you need to send one now, please contact the "
             "help desk.", days=days)


def _refusal(reason: str) -> str:
    return str(REFUSAL_MESSAGES.get(reason, REFUSAL_MESSAGES["type_not_allowed"]))


def _document_page(form, user):
    return render_template(
        "verification/document.html", form=form, user=user, form_pdf=FORM_PDF,
        lookup=session.get("staff_lookup"), pending=applications.pending_for(user),
        latest=applications.latest_for(user), cancel=EmptyForm(formdata=None),
        max_bytes=_max_bytes(), too_large=too_large_message())


@bp.post("/verify/staff/document/cancel")
@sign_in_required
def cancel_document(user):
    """The member withdraws the pending document."""
    if EmptyForm().validate_on_submit() and applications.cancel(user):
        flash(_l("Your submission is cancelled. You can send another document."))
    return redirect(url_for("staff.document"))


# Room in the multipart body for the form's other fields around a document at the limit. A
# file a little over the limit still arrives whole, so the member gets the form back with
# what they typed; a body beyond this is refused before it is read.
FORM_MARGIN_BYTES = 1024 * 1024


def allow_document_upload() -> None:
    """before_request, registered ahead of CSRF protection (which parses the form): the upload
    route's body limit is ``[DOCUMENTS] MAX_BYTES`` plus a margin, not the app-wide 1 MiB.
    Werkzeug stops reading beyond it, so an oversized upload is never buffered whole."""
    if request.endpoint == "staff.document" and request.method == "POST":
        request.max_content_length = _max_bytes() + FORM_MARGIN_BYTES


@bp.errorhandler(RequestEntityTooLarge)
def body_too_large(_error):
    """The Thai page for a body over the limit; on the upload route, the form with the limit
    named (the body was not read: the fields are filled from the account)."""
    user = current_user() if request.endpoint == "staff.document" else None
    if user is None or not user.identity_verified:
        return too_large_page()
    form = DocumentForm(formdata=None, department=user.department, position=user.position)
    form.document.errors = [too_large_message()]
    return _document_page(form, user), 413
