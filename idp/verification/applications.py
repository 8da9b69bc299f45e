"""The document path (seed 3.5–3.6): a member submits one document, a reviewer decides.

Submission ``status``: ``pending_review`` → ``approved`` | ``rejected`` | ``cancelled`` (by the
member, or superseded by a newer submission). At most one submission per member is pending
(a partial unique index says so too).

Every transition is a compare-and-set from ``pending_review`` (``UPDATE … WHERE status =
'pending_review'``): of approve, reject, cancel and supersede racing, exactly one changes the
row; the others change nothing, so the audit log, the member's staff status and the mail (sent
by the caller after the commit) follow the one that won. A document no longer needed is
deleted from storage; the row stays, with ``document_deleted_at``, for the record.
"""

from __future__ import annotations

import logging
from datetime import datetime
from enum import StrEnum

from flask import current_app
from sqlalchemy import ForeignKey, Index, Integer, String, Text, exists, func, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp import audit
from idp.accounts.models import User
from idp.clock import now
from idp.db import UtcDateTime, db
from idp.ratelimit import Throttle
from idp.verification import staff
from idp.verification.documents.checks import CheckedDocument
from idp.verification.documents.images import without_metadata
from idp.verification.documents.store import DocumentStore, save_with

log = logging.getLogger(__name__)
STORE = "idp.document_store"


class ApplicationStatus(StrEnum):
    """Where a staff application stands (stored as these strings)."""

    PENDING = "pending_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


PENDING = ApplicationStatus.PENDING
UPLOADS_PER_ACCOUNT = Throttle("DOCUMENT_UPLOAD_PER_ACCOUNT")


class StaffApplication(db.Model):
    __tablename__ = "staff_applications"
    __table_args__ = (
        Index("uq_staff_applications_one_pending", "user_id", unique=True,
              sqlite_where=text("status = 'pending_review'"),
              postgresql_where=text("status = 'pending_review'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[str] = mapped_column(String(43), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=PENDING, index=True)
    # What the member entered, shown to the reviewer beside the document.
    department: Mapped[str | None] = mapped_column(String(200))
    position: Mapped[str | None] = mapped_column(String(200))
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    # Set when the stored document was deleted (superseded, cancelled, or past retention).
    document_deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class AlreadyDecided(Exception):
    """The submission is no longer pending (another reviewer decided, or it was cancelled)."""


class IdentityNotVerified(Exception):
    """Approval refused: the member's identity has not been checked with DOPA."""


class NotAccepted(Exception):
    """A new submission refused: ``reason`` is ``already_staff`` or ``already_pending``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def store() -> DocumentStore:
    """The app's document store."""
    return current_app.extensions[STORE]


def pending_for(user: User) -> StaffApplication | None:
    """The member's application waiting for a reviewer, or None."""
    return db.session.execute(db.select(StaffApplication).filter_by(
        user_id=user.id, status=PENDING)).scalar_one_or_none()


def latest_for(user: User) -> StaffApplication | None:
    """The member's most recent application, or None."""
    return db.session.execute(db.select(StaffApplication).filter_by(user_id=user.id)
                              .order_by(StaffApplication.id.desc()).limit(1)).scalar_one_or_none()


# --- limits on uploads ----------------------------------------------------------------------

def kept_documents(user: User) -> int:
    """Decided documents of the member still in storage (the pending one is superseded)."""
    return db.session.execute(db.select(func.count(StaffApplication.id)).where(
        StaffApplication.user_id == user.id, StaffApplication.status != PENDING,
        StaffApplication.document_deleted_at.is_(None))).scalar_one()


def upload_refusal(user: User) -> str | None:
    """Why the member may not upload now (``throttled``, ``quota``), audited; None if they may."""
    if UPLOADS_PER_ACCOUNT.exhausted(user.sub):
        reason = "throttled"
    elif kept_documents(user) >= int(current_app.config["DOCUMENTS"]["MAX_KEPT_PER_MEMBER"]):
        reason = "quota"
    else:
        return None
    audit.record(f"verification:document:{reason}", actor=user, subject=user)
    db.session.commit()
    return reason


def count_upload(user: User) -> None:
    """Spend one upload of the member's budget."""
    UPLOADS_PER_ACCOUNT.spend(user.sub)


# --- transitions ----------------------------------------------------------------------------

def _claim(application_id: int, status: str, *conditions, **values) -> bool:
    """Compare-and-set ``pending_review`` → ``status``; True for the one caller that wins."""
    return db.session.execute(
        db.update(StaffApplication)
        .where(StaffApplication.id == application_id, StaffApplication.status == PENDING, *conditions)
        .values(status=status, decided_at=now(), **values)
        .execution_options(synchronize_session=False)).rowcount == 1


def drop_document(application: StaffApplication) -> bool:
    """Delete the stored document of a decided submission and mark the row; True when done.

    A failure is logged and left for ``moc-idp documents purge``, which tries again.
    """
    try:
        store().delete(application.document_id)  # database store: part of this transaction
        application.document_deleted_at = now()
        db.session.commit()
        return True
    except Exception:
        db.session.rollback()
        log.exception("could not delete the document of submission %s", application.id)
        return False


def submit(user: User, checked: CheckedDocument, *, department: str, position: str) -> StaffApplication:
    """Store the document and the submission together (no orphan file, no orphan row); a
    pending earlier submission is superseded and its document deleted."""
    checked = without_metadata(checked)
    created: list[StaffApplication] = []
    superseded: list[StaffApplication] = []

    def write_rows(document_id: str) -> None:
        """Add the application's rows for ``document_id`` and commit them."""
        earlier = pending_for(user)
        if earlier is not None and _claim(earlier.id, ApplicationStatus.CANCELLED, reason="superseded"):
            superseded.append(earlier)
        db.session.refresh(user)
        if user.is_staff:
            raise NotAccepted("already_staff")
        created.append(_new_application(user, checked, document_id, department, position, earlier))
        db.session.commit()

    try:
        save_with(store(), checked, write_rows)
    except IntegrityError:
        raise NotAccepted("already_pending") from None
    except Exception:
        db.session.rollback()
        raise
    for earlier in superseded:
        drop_document(earlier)
    return created[0]


def _new_application(user, checked, document_id, department, position, earlier) -> StaffApplication:
    application = StaffApplication(user_id=user.id, document_id=document_id, department=department,
                                   position=position, submitted_at=now(), status=PENDING)
    db.session.add(application)
    db.session.flush()  # the one-pending index refuses a second pending row here
    staff.await_review(user)
    user.department, user.position = department or user.department, position or user.position
    audit.record("verification:document:submitted", actor=user, subject=user,
                 details={"content_type": checked.content_type, "size": checked.size,
                          "application": application.id,
                          "superseded": earlier.id if earlier is not None else None})
    return application


def cancel(user: User) -> bool:
    """The member withdraws a pending submission; the document is deleted. False if there was
    nothing pending any more (a reviewer decided first)."""
    application = pending_for(user)
    if application is None or not _claim(application.id, ApplicationStatus.CANCELLED):
        db.session.rollback()
        return False
    staff.withdraw(user)
    audit.record("verification:document:cancelled", actor=user, subject=user,
                 details={"application": application.id})
    db.session.commit()
    drop_document(application)
    return True


def queue() -> list[StaffApplication]:
    """Pending submissions, oldest first."""
    return list(db.session.execute(db.select(StaffApplication).filter_by(status=PENDING)
                                   .order_by(StaffApplication.submitted_at, StaffApplication.id)).scalars())


def by_document_id(document_id: str) -> StaffApplication | None:
    """The application that holds ``document_id``, or None."""
    return db.session.execute(db.select(StaffApplication).filter_by(
        document_id=document_id)).scalar_one_or_none()


IDENTITY_VERIFIED = exists().where(User.id == StaffApplication.user_id, User.identity_verified.is_(True))


def approve(application: StaffApplication, reviewer: User) -> None:
    """Approve, only if still pending and the member's identity is DOPA-verified (checked in
    the same statement, so an identity unlinked a moment ago cannot be approved)."""
    if not _claim(application.id, ApplicationStatus.APPROVED, IDENTITY_VERIFIED, decided_by=reviewer.id):
        db.session.rollback()
        db.session.refresh(application)
        db.session.refresh(application.user)
        if application.status == PENDING and not application.user.identity_verified:
            _refuse_unverified(application, reviewer)
        raise AlreadyDecided(application.id)
    db.session.refresh(application)
    user = application.user
    staff.grant(user, "document", application.department, application.position)
    audit.record("verification:document:approved", actor=reviewer, subject=user,
                 details={"application": application.id})
    db.session.commit()


def _refuse_unverified(application: StaffApplication, reviewer: User):
    audit.record("verification:document:approval_refused", actor=reviewer, subject=application.user,
                 details={"application": application.id, "reason": "identity_not_verified"})
    db.session.commit()
    raise IdentityNotVerified(application.id)


def reject(application: StaffApplication, reviewer: User, reason: str) -> None:
    """A reviewer turns the application down with ``reason``; the member may send another."""
    if not _claim(application.id, ApplicationStatus.REJECTED, decided_by=reviewer.id, reason=reason):
        db.session.rollback()
        raise AlreadyDecided(application.id)
    db.session.refresh(application)
    staff.refuse(application.user)
    audit.record("verification:document:rejected", actor=reviewer, subject=application.user,
                 details={"application": application.id})
    db.session.commit()
