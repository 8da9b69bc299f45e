"""The document path (seed 3.5–3.6): a member submits one document, a reviewer decides.

Submission ``status``: ``pending_review`` → ``approved`` | ``rejected``; or ``cancelled`` by
the member (who may then submit again). At most one submission per member is pending.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp import audit
from idp.accounts.models import User
from idp.clock import now
from idp.db import UtcDateTime, db
from idp.verification.document_checks import CheckedDocument
from idp.verification.documents import DocumentStore, save_with
from idp.verification.staff import grant

STORE = "idp.document_store"


class StaffApplication(db.Model):
    __tablename__ = "staff_applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[str] = mapped_column(String(43), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="pending_review", index=True)
    # What the member entered, shown to the reviewer beside the document.
    department: Mapped[str | None] = mapped_column(String(200))
    position: Mapped[str | None] = mapped_column(String(200))
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class AlreadyDecided(Exception):
    """The submission is no longer pending (another reviewer decided, or it was cancelled)."""


def store() -> DocumentStore:
    return current_app.extensions[STORE]


def pending_for(user: User) -> StaffApplication | None:
    return db.session.execute(db.select(StaffApplication).filter_by(
        user_id=user.id, status="pending_review")).scalar_one_or_none()


def latest_for(user: User) -> StaffApplication | None:
    return db.session.execute(db.select(StaffApplication).filter_by(user_id=user.id)
                              .order_by(StaffApplication.id.desc()).limit(1)).scalar_one_or_none()


def submit(user: User, checked: CheckedDocument, *, department: str, position: str) -> StaffApplication:
    """Store the document and the submission together: no orphan file, no orphan row."""
    created: list[StaffApplication] = []

    def write_rows(document_id: str) -> None:
        earlier = pending_for(user)
        if earlier is not None:
            earlier.status = "cancelled"
        application = StaffApplication(
            user_id=user.id, document_id=document_id, department=department, position=position,
            submitted_at=now())
        db.session.add(application)
        user.staff_status = "pending_review"
        user.department, user.position = department or user.department, position or user.position
        audit.record("verification:document:submitted", actor=user, subject=user,
                     details={"content_type": checked.content_type, "size": checked.size})
        db.session.commit()
        created.append(application)

    try:
        save_with(store(), checked, write_rows)
    except Exception:
        db.session.rollback()
        raise
    return created[0]


def cancel(user: User) -> bool:
    """The member withdraws a pending submission; the document is deleted."""
    application = pending_for(user)
    if application is None:
        return False
    application.status = "cancelled"
    user.staff_status = "none"
    audit.record("verification:document:cancelled", actor=user, subject=user)
    db.session.commit()
    # After the commit (a filesystem document goes only once the row says cancelled), then
    # commit again (a database-stored document is a row of this session).
    store().delete(application.document_id)
    db.session.commit()
    return True


def queue() -> list[StaffApplication]:
    """Pending submissions, oldest first."""
    return list(db.session.execute(db.select(StaffApplication).filter_by(status="pending_review")
                                   .order_by(StaffApplication.submitted_at, StaffApplication.id)).scalars())


def by_document_id(document_id: str) -> StaffApplication | None:
    return db.session.execute(db.select(StaffApplication).filter_by(
        document_id=document_id)).scalar_one_or_none()


def _decide(application: StaffApplication, reviewer: User, status: str, reason: str | None):
    """Claim the decision atomically: of two reviewers deciding at once, one wins."""
    won = db.session.execute(
        db.update(StaffApplication)
        .where(StaffApplication.id == application.id, StaffApplication.status == "pending_review")
        .values(status=status, decided_at=now(), decided_by=reviewer.id, reason=reason)
        .execution_options(synchronize_session=False)).rowcount == 1
    if not won:
        db.session.rollback()
        raise AlreadyDecided(application.id)
    db.session.refresh(application)


def approve(application: StaffApplication, reviewer: User) -> None:
    _decide(application, reviewer, "approved", None)
    user = application.user
    grant(user, "document", application.department, application.position)
    audit.record("verification:document:approved", actor=reviewer, subject=user,
                 details={"application": application.id})
    db.session.commit()


def reject(application: StaffApplication, reviewer: User, reason: str) -> None:
    _decide(application, reviewer, "rejected", reason)
    application.user.staff_status = "rejected"
    audit.record("verification:document:rejected", actor=reviewer, subject=application.user,
                 details={"application": application.id})
    db.session.commit()
