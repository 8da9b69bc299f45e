"""The mailer contract: the console stand-in and SMTP (against the real loopback SMTP server of
``tests/support/smtp.py``) deliver the same message the same way, so the stand-in cannot drift.

``Mailer.send`` delivers one message or raises ``MailUnavailable``; it never half-sends silently.
"""

from __future__ import annotations

import logging

import pytest

from idp.mail import ConsoleMailer, MailUnavailable, Message, SmtpMailer, mailer_from_config
from tests.support.smtp import body_of, free_port

SENDER = "MOC Account <no-reply@moc.test>"
THAI_SUBJECT = "ยืนยันอีเมลของท่าน"
THAI_TEXT = "สวัสดีครับ\nกรุณายืนยันอีเมลภายใน 24 ชั่วโมง\n"


class Delivered:
    """A mailer and a way to read back what it delivered, as (to, subject, text) tuples."""

    def __init__(self, mailer, read):
        self.mailer, self.read = mailer, read


@pytest.fixture(params=["console", "smtp"])
def delivered(request, smtp_server):
    if request.param == "console":
        mailer = ConsoleMailer(SENDER)
        yield Delivered(mailer, lambda: [(m.to, m.subject, m.text) for m in mailer.sent])
        return
    controller, outbox = smtp_server
    outbox.messages.clear()
    mailer = SmtpMailer(host="127.0.0.1", port=controller.port, sender=SENDER, security="none",
                        timeout=5)
    yield Delivered(mailer, lambda: [(m["To"], m["Subject"], body_of(m)) for m in outbox.messages])


def test_a_sent_message_arrives_once_with_its_thai_subject_and_text(delivered):
    delivered.mailer.send(Message("somchai@example.com", THAI_SUBJECT, THAI_TEXT))
    assert delivered.read() == [("somchai@example.com", THAI_SUBJECT, THAI_TEXT)]


def test_each_message_is_delivered_separately_in_order(delivered):
    for number in (1, 2, 3):
        delivered.mailer.send(Message(f"member{number}@example.com", f"Subject {number}", "Body\n"))
    assert [to for to, _, _ in delivered.read()] == [f"member{n}@example.com" for n in (1, 2, 3)]


def test_config_builds_each_backend(smtp_server):
    controller, _ = smtp_server
    assert isinstance(mailer_from_config({"BACKEND": "console", "FROM": SENDER}), ConsoleMailer)
    smtp = mailer_from_config({"BACKEND": "smtp", "FROM": SENDER, "SMTP_HOST": "127.0.0.1",
                               "SMTP_PORT": controller.port, "SMTP_SECURITY": "none",
                               "SMTP_TIMEOUT_SECONDS": 3})
    assert isinstance(smtp, SmtpMailer)
    assert (smtp.host, smtp.port, smtp.security, smtp.timeout) == ("127.0.0.1", controller.port, "none", 3.0)


def test_an_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="unknown mail backend"):
        mailer_from_config({"BACKEND": "carrier-pigeon", "FROM": SENDER})


# --- console only ------------------------------------------------------------------------------

def test_the_console_stand_in_warns_that_it_is_not_for_production(caplog):
    with caplog.at_level(logging.WARNING, logger="idp.mail"):
        ConsoleMailer(SENDER)
    assert "not for production" in caplog.text


# --- SMTP only ---------------------------------------------------------------------------------

def test_smtp_messages_carry_the_sender_a_date_and_a_message_id(smtp_server):
    controller, outbox = smtp_server
    outbox.messages.clear()
    SmtpMailer(host="127.0.0.1", port=controller.port, sender=SENDER, security="none",
               timeout=5).send(Message("somchai@example.com", THAI_SUBJECT, THAI_TEXT))
    [message] = outbox.messages
    assert message["From"] == SENDER and message["Date"] and message["Message-ID"]


def test_an_smtp_server_that_is_down_is_mail_unavailable_and_nothing_is_sent(smtp_server):
    _, outbox = smtp_server
    outbox.messages.clear()
    dead = SmtpMailer(host="127.0.0.1", port=free_port(), sender=SENDER, security="none", timeout=2)
    with pytest.raises(MailUnavailable, match="ConnectionRefusedError"):
        dead.send(Message("somchai@example.com", THAI_SUBJECT, THAI_TEXT))
    assert outbox.messages == []


def test_an_unknown_security_mode_is_refused():
    with pytest.raises(ValueError, match="security"):
        SmtpMailer(host="127.0.0.1", port=25, sender=SENDER, security="maybe")
