"""The retention rule for staff-verification documents, carried out by ``moc-idp documents purge``.

A decided document (approved or rejected) is deleted ``[DOCUMENTS] RETENTION_DAYS`` days after
the decision; a cancelled or superseded one should already be gone (deleted at once) and is
deleted now if that failed. Only the file goes: the submission row, its decision and its audit
events stay, with ``document_deleted_at`` set. Running it again deletes nothing more, so cron
may run it as often as it likes. Each deletion is committed on its own: a failure leaves the
others done and is tried again on the next run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app

from idp import audit
from idp.clock import now
from idp.db import db
from idp.verification.applications import PENDING, ApplicationStatus, StaffApplication, drop_document


@dataclass(frozen=True)
class PurgeReport:
    purged: int
    failed: int
    retention_days: int


def retention_days() -> int:
    """``[DOCUMENTS] RETENTION_DAYS``: how long decided documents are kept."""
    return int(current_app.config["DOCUMENTS"]["RETENTION_DAYS"])


def expired(days: int) -> list[StaffApplication]:
    """Submissions whose document is still stored and no longer to be kept."""
    cutoff = now() - timedelta(days=days)
    past_retention = StaffApplication.decided_at <= cutoff
    return list(db.session.execute(db.select(StaffApplication).where(
        StaffApplication.document_deleted_at.is_(None), StaffApplication.status != PENDING,
        (StaffApplication.status == ApplicationStatus.CANCELLED) | past_retention,
    ).order_by(StaffApplication.id)).scalars())


def purge() -> PurgeReport:
    """Delete every document past the retention rule; audited with the counts."""
    days = retention_days()
    results = [drop_document(application) for application in expired(days)]
    report = PurgeReport(purged=results.count(True), failed=results.count(False), retention_days=days)
    audit.record("verification:document:purged", details={
        "purged": report.purged, "failed": report.failed, "retention_days": days})
    db.session.commit()
    return report
