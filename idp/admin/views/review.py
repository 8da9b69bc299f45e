"""The review queue (seed 3.6): reviewers see pending documents beside what the member
entered, view each document, and approve or reject it with a reason. Every view and every
decision is audited; documents are served so that a browser can never run them."""

from __future__ import annotations

from flask import Response, abort, flash, g, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from idp import audit
from idp.accounts.forms import EmptyForm
from idp.admin import guard
from idp.admin.views.common import bp
from idp.clock import now
from idp.db import db
from idp.verification import applications
from idp.verification.citizen_id import normalize_thai_name
from idp.verification.notices import mail_document_decision

# A document is data, never a page: no script, no plugin, no navigation, no same origin. It may
# be framed only by this origin's review page (the inline preview), and no other response may.
DOCUMENT_CSP = ("sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; "
                "object-src 'none'; frame-ancestors 'self'")


class RejectForm(EmptyForm):
    reason = TextAreaField(_l("Reason (the member sees it)"), validators=[
        DataRequired(message=_l("Please give the reason, so the member knows what to change.")),
        Length(min=3, max=1000, message=_l("The reason must have 3 to 1000 characters."))])


def _application_or_404(application_id: int) -> applications.StaffApplication:
    application = db.session.get(applications.StaffApplication, application_id)
    if application is None:
        abort(404)
    return application


@bp.get("/review")
@guard.role(guard.REVIEWER)
def review_queue():
    """The staff documents waiting for a reviewer, oldest first."""
    pending = applications.queue()
    return render_template("admin/review_queue.html", pending=pending, now=now())


@bp.get("/review/<int:application_id>")
@guard.role(guard.REVIEWER)
def review_detail(application_id: int):
    """One application: the member, the document, the decision form."""
    application = _application_or_404(application_id)
    audit.record("admin:review:viewed", actor=g.admin_user, subject=application.user,
                 details={"application": application.id})
    db.session.commit()
    return _detail_page(application, RejectForm())


def _detail_page(application, reject_form):
    """The document beside what DOPA verified and what the member typed."""
    document = None if application.document_deleted_at else applications.store().open(application.document_id)
    return render_template("admin/review_detail.html", application=application, document=document,
                           approve_form=EmptyForm(), reject_form=reject_form,
                           own=application.user_id == g.admin_user.id,
                           names_differ=names_differ(application.user))


def names_differ(user) -> bool:
    """True when the signup names are not the DOPA-verified ones (both known)."""
    if not user.identity_verified:
        return False
    typed = (normalize_thai_name(user.given_name_th or ""), normalize_thai_name(user.family_name_th or ""))
    return typed != (user.verified_given_name_th or "", user.verified_family_name_th or "")


@bp.get("/review/documents/<document_id>")
@guard.role(guard.REVIEWER)
def review_document(document_id: str):
    """The uploaded document itself, for the reviewer (audited)."""
    application = applications.by_document_id(document_id)
    document = applications.store().open(document_id) if application else None
    if document is None:
        abort(404)
    audit.record("admin:review:document_viewed", actor=g.admin_user, subject=application.user,
                 details={"application": application.id})
    db.session.commit()
    response = Response(document.content, mimetype=document.content_type)
    response.headers["Content-Disposition"] = f'inline; filename="document-{application.id}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = DOCUMENT_CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "SAMEORIGIN"  # the preview frame; every other page: DENY
    return response


def _decision_target(application_id: int):
    application = _application_or_404(application_id)
    if application.user_id == g.admin_user.id:
        abort(403)  # nobody reviews their own document
    return application


@bp.post("/review/<int:application_id>/approve")
@guard.role(guard.REVIEWER)
def review_approve(application_id: int):
    """Approve the application: the member becomes verified staff."""
    application = _decision_target(application_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    return _decide(application, lambda: applications.approve(application, g.admin_user),
                   _l("Approved: the member now carries the MOC personnel badge."))


@bp.post("/review/<int:application_id>/reject")
@guard.role(guard.REVIEWER)
def review_reject(application_id: int):
    """Reject the application with a reason shown to the member."""
    application = _decision_target(application_id)
    form = RejectForm()
    if not form.validate_on_submit():
        return _detail_page(application, form), 400
    reason = form.reason.data.strip()
    return _decide(application, lambda: applications.reject(application, g.admin_user, reason),
                   _l("Rejected: the member is told why and may send a new document."))


def _decide(application, decision, done):
    """Record the decision (one reviewer wins), mail the member, back to the queue."""
    try:
        decision()
    except applications.IdentityNotVerified:
        flash(_l("Not approved: this member's identity has not been verified with DOPA. Nothing "
                 "was changed."))
        return redirect(url_for("admin.review_detail", application_id=application.id))
    except applications.AlreadyDecided:
        flash(_l("Someone else has already decided on this submission."))
        return redirect(url_for("admin.review_queue"))
    mail_document_decision(application)
    db.session.commit()  # the mail row; it is sent after this commit
    flash(done)
    return redirect(url_for("admin.review_queue"))


def age_in_days(moment, reference) -> int:
    """How long the application has waited, in whole days."""
    return max(0, (reference - moment).days)


bp.add_app_template_filter(lambda moment: age_in_days(moment, now()), "age_days")
