"""Mails about staff status: a reviewer's decision, and status lost on a re-check."""

from __future__ import annotations

import logging

from idp import mail
from idp.urls import external_url

log = logging.getLogger(__name__)


def _send(user, template: str, **context) -> bool:
    """Mail failures are logged, never raised: the decision itself stands."""
    try:
        mail.send(user.email, template, user=user, link=external_url("verification.choose_method"),
                  **context)
        return True
    except mail.MailUnavailable as error:
        log.error("%s mail to account %s not sent: %s", template, user.sub, error)
        return False


def mail_document_decision(application) -> bool:
    template = "staff_approved" if application.status == "approved" else "staff_rejected"
    return _send(application.user, template, reason=application.reason)


def mail_staff_lost(user) -> bool:
    return _send(user, "staff_lost")
