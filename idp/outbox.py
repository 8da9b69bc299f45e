"""Delivering the mail outbox: after the response, and again from cron.

``mail.queue`` writes a row in the transaction of what the mail announces. Once that
transaction commits, a background thread of this process is woken with the new rows' ids and
sends them, retrying a failed send a few times with exponential backoff (tenacity); a row it
could not send stays pending with a later ``next_attempt_at``. ``moc-idp mail send-pending``
(cron, and after a restart) sends every due row, including rows a crash left behind.

A row is claimed before it is sent, by a compare-and-set on ``claimed_until`` (one UPDATE that
only one sender can win), so two senders (threads, instances, cron) never send it twice, and a
delivered row (``status = 'sent'``) is never sent again. A sender that dies between the SMTP
server's acceptance and marking the row leaves a claim that lapses, and the mail is sent once
more: at least once, never lost.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from flask import Flask, current_app
from sqlalchemy import or_, update
from sqlalchemy.orm import Session
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from idp import background
from idp.clock import now
from idp.db import db
from idp.mail import QUEUED, MailUnavailable, OutboxMail, mailer

log = logging.getLogger(__name__)
EXTENSION = "idp.mail_sender"
MAX_BACKOFF = timedelta(hours=6)


def settings() -> dict:
    """The current app's ``[MAIL]`` table."""
    return current_app.config["MAIL"]


def _lease() -> timedelta:
    # Longer than every try of one send together, so a live claim never lapses mid-send.
    table = settings()
    return timedelta(seconds=table["SEND_TRIES"] * (float(table["SMTP_TIMEOUT_SECONDS"]) + 10) + 60)


def claim(row_id: int) -> bool:
    """Take the row for this sender if it is pending, due and not claimed (compare-and-set)."""
    moment = now()
    won = db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.id == row_id, OutboxMail.status == "pending",
               OutboxMail.next_attempt_at <= moment,
               or_(OutboxMail.claimed_until.is_(None), OutboxMail.claimed_until < moment))
        .values(claimed_until=moment + _lease(), attempts=OutboxMail.attempts + 1)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.commit()
    return won


def _send_with_retries(row: OutboxMail, tries: int) -> None:
    """Send, trying again with exponential backoff on MailUnavailable; raises the last one."""
    retrying = Retrying(stop=stop_after_attempt(tries), reraise=True,
                        wait=wait_exponential(multiplier=settings()["RETRY_WAIT_SECONDS"], max=30),
                        retry=retry_if_exception_type(MailUnavailable))
    retrying(mailer().send, row.message())


def _record_sent(row: OutboxMail) -> None:
    row.status, row.sent_at, row.claimed_until, row.body = "sent", now(), None, ""
    db.session.commit()


def _record_failure(row: OutboxMail, error: Exception) -> None:
    """Try again later with exponential backoff, or give up after MAX_ATTEMPTS."""
    table = settings()
    row.claimed_until, row.last_error = None, str(error)[:300]
    if row.attempts >= table["MAX_ATTEMPTS"]:
        row.status = "failed"
        log.error("mail %s (%s) given up after %s attempts: %s", row.id, row.template,
                  row.attempts, error)
    else:
        delay = timedelta(seconds=table["RETRY_AFTER_SECONDS"] * 2 ** (row.attempts - 1))
        row.next_attempt_at = now() + min(delay, MAX_BACKOFF)
        log.warning("mail %s (%s) not sent, next try at %s: %s", row.id, row.template,
                    row.next_attempt_at.isoformat(), error)
    db.session.commit()


def deliver(row_id: int, tries: int = 1) -> bool:
    """Claim the row and send it; True when this call delivered it."""
    if not claim(row_id):
        return False
    row = db.session.get(OutboxMail, row_id)
    try:
        _send_with_retries(row, tries)
    except MailUnavailable as error:
        _record_failure(row, error)
        return False
    _record_sent(row)
    return True


def due_ids(limit: int = 500) -> list[int]:
    """Pending rows whose time has come, oldest first (claims are checked by ``claim``)."""
    return list(db.session.execute(
        db.select(OutboxMail.id)
        .where(OutboxMail.status == "pending", OutboxMail.next_attempt_at <= now())
        .order_by(OutboxMail.id).limit(limit)).scalars())


def send_pending() -> int:
    """Send every due row once (cron, restarts); returns how many this run delivered."""
    return sum(deliver(row_id) for row_id in due_ids())


def _send_batch(app: Flask, ids: list[int]) -> None:
    """The sender thread's work: deliver each woken row, one failure not stopping the rest."""
    with app.app_context():
        tries = app.config["MAIL"]["SEND_TRIES"]
        for row_id in ids:
            _deliver_one(row_id, tries)
        db.session.remove()


def _deliver_one(row_id: int, tries: int) -> None:
    try:
        deliver(row_id, tries)
    except Exception:  # noqa: BLE001 - the thread must go on; cron retries the row
        db.session.rollback()
        log.exception("mail %s: delivery failed unexpectedly", row_id)


def _flushed_ids(session: Session, rows: list[OutboxMail]) -> list[int]:
    """Before the commit: the queued rows' ids, which the sender gets once it is done."""
    session.flush()
    return [row.id for row in rows]


def _wake_sender(ids: list[int]) -> None:
    if current_app.config["MAIL"]["SEND_IN_BACKGROUND"]:
        sender().wake(ids)


background.when_committed(QUEUED, _wake_sender, before=_flushed_ids)


def init_outbox(app: Flask) -> None:
    """Give the app its sender: a thread started when a commit queued mail, ending when it has
    nothing left to send. Not a daemon: a process that is shutting down finishes the sends it
    began."""
    app.extensions[EXTENSION] = background.Worker("mail-sender", partial(_send_batch, app), daemon=False)


def sender() -> background.Worker:
    """The current app's background mail sender (``join()`` waits until it has sent all)."""
    return current_app.extensions[EXTENSION]
