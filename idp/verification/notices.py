"""Mails about staff status: a reviewer's decision, and status lost on a re-check.

Queued in the caller's transaction (idp.mail.queue): they go out once it commits.
"""

from __future__ import annotations

from idp import mail
from idp.urls import external_url


def _queue(user, template: str, **context) -> None:
    mail.queue(user.email, template, user=user, link=external_url("verification.choose_method"),
               **context)


def mail_document_decision(application) -> None:
    """Mail the member the reviewer's decision on their document."""
    template = "staff_approved" if application.status == "approved" else "staff_rejected"
    _queue(application.user, template, reason=application.reason)


def mail_staff_lost(user) -> None:
    """Mail the member that their staff status was taken away."""
    _queue(user, "staff_lost")
