"""The mail outbox: written with what it announces, sent after the response, never lost,
never sent twice."""

from __future__ import annotations

import pytest

from tests.support.flows import ISSUER, PASSWORD, csrf_token
from tests.support.mail import settle


def ask_reset(web, email="somchai@example.com"):
    page = web.get("/password/forgot").get_data(as_text=True)
    return web.post("/password/forgot", data={"csrf_token": csrf_token(page), "email": email})


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def rows(app):
    from idp.db import db
    from idp.mail import OutboxMail

    with app.app_context():
        return [(r.template, r.status, r.attempts, r.body) for r in
                db.session.execute(db.select(OutboxMail).order_by(OutboxMail.id)).scalars()]


@pytest.fixture
def make_app(migrated, keys_dir, adapters):
    """An app like ``app``, with some MAIL settings changed."""
    from idp import create_app
    from idp.db import db
    from tests.support.flows import empty_tables

    made = []

    def make(mail: dict, **replaced):
        app = create_app({"ISSUER": ISSUER, "DATABASE_URL": migrated, "MAIL": mail,
                          "OIDC": {"KEYS_DIR": str(keys_dir)}}, adapters={**adapters, **replaced})
        with app.app_context():
            empty_tables()
            from idp.accounts.service import create_user

            create_user("somchai@example.com", PASSWORD)
            db.session.commit()
        made.append(app)
        return app

    yield make
    for app in made:
        settle(app)
        with app.app_context():
            db.engine.dispose()


def test_a_mail_left_by_a_crash_is_sent_once_by_send_pending(make_app, outbox):
    """The row is committed with the reset request, the process dies before its sender runs
    (here: no background sender), and the cron command delivers it, once."""
    app = make_app({"SEND_IN_BACKGROUND": False})
    assert ask_reset(app.test_client()).status_code == 200
    assert rows(app)[0][:2] == ("password_reset", "pending") and outbox.messages == []
    assert "sent 1" in run(app, "mail", "send-pending").output
    assert "sent 0" in run(app, "mail", "send-pending").output
    assert len(outbox.to("somchai@example.com")) == 1
    [(template, status, attempts, body)] = rows(app)
    assert (status, attempts, body) == ("sent", 1, "")  # the link is not kept once sent


def test_a_row_claimed_by_one_sender_is_not_sent_by_another(make_app, outbox, clock):
    from idp.outbox import claim, due_ids

    app = make_app({"SEND_IN_BACKGROUND": False})
    ask_reset(app.test_client())
    with app.app_context():
        [row_id] = due_ids()
        assert claim(row_id) is True  # another sender took it, and is sending
        assert claim(row_id) is False
    assert "sent 0" in run(app, "mail", "send-pending").output and outbox.messages == []
    clock.advance(minutes=10)  # that sender died: its claim lapses, the mail is not lost
    assert "sent 1" in run(app, "mail", "send-pending").output
    assert len(outbox.to("somchai@example.com")) == 1


def test_the_console_stand_in_goes_through_the_outbox(make_app):
    app = make_app({"BACKEND": "console"}, mailer=None)
    ask_reset(app.test_client())
    settle(app)
    from idp.mail import EXTENSION

    [message] = app.extensions[EXTENSION].sent
    assert message.to == "somchai@example.com" and "/password/reset?token=" in message.text
    assert rows(app)[0][1] == "sent"


def test_a_mail_the_server_refuses_is_retried_with_backoff_then_given_up(make_app, clock):
    from idp.mail import SmtpMailer
    from tests.support.smtp import free_port

    dead = SmtpMailer(host="127.0.0.1", port=free_port(), sender="x@moc.test", security="none",
                      timeout=1)
    app = make_app({"SEND_TRIES": 2, "RETRY_WAIT_SECONDS": 0, "MAX_ATTEMPTS": 3,
                    "RETRY_AFTER_SECONDS": 60}, mailer=dead)
    ask_reset(app.test_client())
    settle(app)
    assert rows(app)[0][1:3] == ("pending", 1)
    assert "sent 0" in run(app, "mail", "send-pending").output and rows(app)[0][2] == 1  # not due
    clock.advance(seconds=61)
    run(app, "mail", "send-pending")
    assert rows(app)[0][1:3] == ("pending", 2)
    clock.advance(seconds=121)  # the wait doubles
    run(app, "mail", "send-pending")
    assert rows(app)[0][1:3] == ("failed", 3)


def test_mail_queued_in_a_transaction_that_rolls_back_is_never_sent(app, outbox):
    from idp import mail
    from idp.db import db

    with app.test_request_context("/"):
        mail.queue("somchai@example.com", "staff_lost",
                   user=type("U", (), {"display_name": "สมชาย"})(), link="http://localhost/verify")
        db.session.rollback()
        db.session.commit()
    settle(app)
    assert rows(app) == [] and outbox.messages == []
