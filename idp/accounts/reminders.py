"""Reminder mails before a temporary membership expires (run from cron)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy.exc import IntegrityError

from idp import audit, mail
from idp.accounts.models import AccountType, MembershipReminder, User
from idp.clock import now
from idp.db import db
from idp.urls import external_url


def due(days_before: int) -> list[User]:
    """Temporary, enabled accounts that expire within ``days_before`` days and not yet."""
    moment = now()
    already = db.select(MembershipReminder.id).where(
        MembershipReminder.user_id == User.id, MembershipReminder.days_before == days_before,
        MembershipReminder.expires_at == User.expires_at)
    query = db.select(User).where(
        User.account_type == AccountType.TEMPORARY, User.disabled_at.is_(None),
        User.expires_at > moment, User.expires_at <= moment + timedelta(days=days_before),
        ~already.exists())
    return list(db.session.execute(query).scalars())


def _claim(user: User, windows: list[int]) -> None:
    """Record the reminder for each window not yet recorded for this expiry date."""
    recorded = set(db.session.execute(db.select(MembershipReminder.days_before).where(
        MembershipReminder.user_id == user.id,
        MembershipReminder.expires_at == user.expires_at)).scalars())
    for window in windows:
        if window not in recorded:
            db.session.add(MembershipReminder(user_id=user.id, days_before=window,
                                              expires_at=user.expires_at, sent_at=now()))


def send_reminder(user: User, days_before: int) -> bool:
    """Claim the reminder rows and queue the mail in one transaction: a reminder is queued at
    most once, and the outbox delivers it (retrying while the mail server is down). Wider
    windows are claimed too, so a member who first meets the job a day before expiry gets one
    mail, not two."""
    windows = [d for d in current_app.config["ACCOUNTS"]["REMINDER_DAYS"] if d >= days_before]
    _claim(user, windows)
    try:
        db.session.flush()
    except IntegrityError:  # another run claimed it first
        db.session.rollback()
        return False
    mail.queue(user.email, "membership_expiring", user=user,
               days_left=max(1, (user.expires_at - now()).days),
               link=external_url("verification.choose_method"))
    audit.record("account:membership:reminded", subject=user, details={"days_before": days_before})
    db.session.commit()
    return True


def remind_expiring() -> int:
    """Send every reminder that is due; returns how many were sent."""
    sent = 0
    for days_before in sorted(current_app.config["ACCOUNTS"]["REMINDER_DAYS"]):
        for user in due(days_before):
            sent += send_reminder(user, days_before)
    return sent
