"""Mail: rendered in the request, written to the outbox in the same transaction as what it
announces, and delivered after the response by ``idp.outbox`` (SMTP for real, the console
stand-in for the embedded default).

Every message is bilingual, Thai first then English, because a mail cannot follow the
language switch of the page that caused it.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idp.clock import now
from idp.db import UtcDateTime, db

log = logging.getLogger(__name__)
EXTENSION = "idp.mailer"


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    text: str


class MailUnavailable(Exception):
    """The mail server could not be reached or refused the message."""


class Mailer(Protocol):
    def send(self, message: Message) -> None:
        """Deliver ``message`` or raise MailUnavailable; never half-sends silently."""


class ConsoleMailer:
    """Stand-in: writes each message to the log and keeps it in ``sent`` (refused in production)."""

    def __init__(self, sender: str):
        self.sender, self.sent = sender, []
        log.warning("mail goes to the console (stand-in): not for production")

    def send(self, message: Message) -> None:
        """Keep the message in ``sent`` and write it to the log (the stand-in delivers nothing)."""
        self.sent.append(message)
        log.info("mail to %s: %s\n%s", message.to, message.subject, message.text)


class SmtpMailer:
    """SMTP with STARTTLS (default), implicit TLS ("ssl") or none (loopback relays only)."""

    def __init__(self, *, host: str, port: int, sender: str, security: str = "starttls",
                 username: str = "", password: str = "", timeout: float = 10.0,
                 ca_file: str = ""):
        if security not in ("starttls", "ssl", "none"):
            raise ValueError("security must be starttls, ssl or none")
        self.host, self.port, self.sender, self.security = host, port, sender, security
        self.username, self.password, self.timeout = username, password, timeout
        self.context = ssl.create_default_context(cafile=ca_file or None)

    def _connect(self) -> smtplib.SMTP:
        if self.security == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                    context=self.context)
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            smtp.starttls(context=self.context)
        return smtp

    def send(self, message: Message) -> None:
        """Deliver the message over SMTP; raise MailUnavailable when the server cannot take it."""
        email = EmailMessage()
        email["From"], email["To"], email["Subject"] = self.sender, message.to, message.subject
        email["Date"], email["Message-ID"] = formatdate(localtime=False), make_msgid()
        email.set_content(message.text, charset="utf-8")
        try:
            with self._connect() as smtp:
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(email)
        except (OSError, smtplib.SMTPException) as error:
            raise MailUnavailable(f"{self.host}:{self.port}: {error.__class__.__name__}") from error


def mailer_from_config(table: dict) -> Mailer:
    """The mailer ``[MAIL] BACKEND`` names (console or SMTP)."""
    if table["BACKEND"] == "console":
        return ConsoleMailer(table["FROM"])
    if table["BACKEND"] == "smtp":
        return SmtpMailer(
            host=table["SMTP_HOST"], port=int(table["SMTP_PORT"]), sender=table["FROM"],
            security=table.get("SMTP_SECURITY", "starttls"),
            username=table.get("SMTP_USERNAME", ""), password=table.get("SMTP_PASSWORD", ""),
            timeout=float(table.get("SMTP_TIMEOUT_SECONDS", 10)),
            ca_file=table.get("SMTP_CA_FILE", ""),
        )
    raise ValueError(f"unknown mail backend {table['BACKEND']!r}")


def mailer() -> Mailer:
    """The current app's mailer."""
    return current_app.extensions[EXTENSION]


def bilingual(template: str, **context) -> tuple[str, str]:
    """Subject and body in Thai, then English, from ``templates/mail/<template>.txt``."""
    parts = []
    for locale in ("th", "en"):
        with force_locale(locale):
            parts.append(render_template(f"mail/{template}.txt", **context).strip())
    subjects = [p.splitlines()[0].strip() for p in parts]
    bodies = ["\n".join(p.splitlines()[1:]).strip() for p in parts]
    return " / ".join(subjects), f"{bodies[0]}\n\n----------\n\n{bodies[1]}\n"


class OutboxMail(db.Model):
    """A mail waiting for delivery, or delivered (its body is then blanked: links in it,
    such as a password reset, are not kept once they have left)."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(320))
    template: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)  # sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(300))

    def message(self) -> Message:
        """The queued row as a message to send."""
        return Message(to=self.recipient, subject=self.subject, text=self.body)


QUEUED = "idp.mail.queued"  # Session.info key: the rows this transaction queued, and their sender


def queue(to: str, template: str, **context) -> OutboxMail:
    """Render ``template`` in both languages and add it to the outbox in the current
    transaction: it goes out after the caller commits, and never if the caller rolls back."""
    subject, text = bilingual(template, **context)
    moment = now()
    row = OutboxMail(recipient=to, template=template, subject=subject, body=text, status="pending",
                     attempts=0, created_at=moment, next_attempt_at=moment)
    db.session.add(row)
    db.session().info.setdefault(QUEUED, []).append(row)
    return row
