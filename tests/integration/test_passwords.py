"""Forgotten password by email, password change, and the expiry reminder job."""

from __future__ import annotations

import re

from tests.support.flows import PASSWORD, Flow, csrf_token
from tests.support.smtp import body_of

NEW = "a brand new passphrase"


def ask_reset(web, email):
    page = web.get("/password/forgot").get_data(as_text=True)
    return web.post("/password/forgot", data={"csrf_token": csrf_token(page), "email": email})


def reset_link(outbox, email="somchai@example.com"):
    [message] = outbox.wait_for(email)
    return re.search(r"http://localhost(/password/reset\?token=\S+)", body_of(message)).group(1)


def choose(web, link, password=NEW):
    """Open the mailed link (it moves the token out of the address), then post the form."""
    web.get(link, follow_redirects=True)
    page = web.get("/password/forgot").get_data(as_text=True)  # this session's CSRF token
    return web.post("/password/reset", data={"csrf_token": csrf_token(page),
                                             "password": password, "password_confirm": password})


def can_sign_in(app, password, email="somchai@example.com"):
    response = Flow(app.test_client(), "x").sign_in(email=email, password=password)
    return response.status_code == 302


def test_forgot_password_answers_the_same_whether_or_not_the_email_exists(web, make_user, outbox):
    make_user()
    known = ask_reset(web, "somchai@example.com")
    unknown = ask_reset(web, "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    strip = lambda r: re.sub(r'value="[^"]*"', "", r.get_data(as_text=True))  # noqa: E731
    assert strip(known) == strip(unknown)
    assert len(outbox.wait_for("somchai@example.com")) == 1 and outbox.to("nobody@example.com") == []


def test_reset_link_sets_a_new_password_once_and_ends_sessions(app, web, make_user, outbox):
    make_user()
    signed_in = app.test_client()
    Flow(signed_in, "x").sign_in()
    ask_reset(web, "somchai@example.com")
    link = reset_link(outbox)
    assert choose(web, link).headers["Location"] == "/login"
    assert can_sign_in(app, NEW) and not can_sign_in(app, PASSWORD)
    assert signed_in.get("/account").status_code == 302  # its session ended
    assert web.get(link, follow_redirects=True).status_code == 400  # died with the old password
    replay = choose(web, link, "yet another passphrase")
    assert replay.status_code == 400 and can_sign_in(app, NEW)


def test_reset_link_expires_after_an_hour(app, web, make_user, outbox, clock):
    make_user()
    ask_reset(web, "somchai@example.com")
    link = reset_link(outbox)
    clock.advance(hours=1, seconds=1)
    response = web.get(link, follow_redirects=True)
    assert response.status_code == 400 and 'href="/password/forgot"' in response.get_data(as_text=True)
    assert can_sign_in(app, PASSWORD)


def test_reset_refuses_a_common_password_and_keeps_the_link_usable(app, web, make_user, outbox):
    make_user()
    ask_reset(web, "somchai@example.com")
    link = reset_link(outbox)
    assert choose(web, link, "12345678").status_code == 400
    assert choose(web, link).status_code == 302


def test_the_password_change_is_limited_per_account(app, web, make_user):
    """Five wrong current passwords in 15 minutes pause changes: a borrowed session cannot
    be used to guess the password (RATE_LIMITS.PASSWORD_CHANGE_PER_ACCOUNT)."""
    make_user()
    Flow(web, "x").sign_in()
    web.get("/lang/en")
    for attempt in range(5):
        assert change_password(web, f"wrong guess {attempt}").status_code == 400
    refused = change_password(web, PASSWORD)
    assert refused.status_code == 429 and "paused for 15 minutes" in refused.get_data(as_text=True)
    assert can_sign_in(app, PASSWORD) and not can_sign_in(app, NEW)
    assert "account:password:change_throttled" in tags(app, "account:password")


def test_the_owner_is_mailed_when_the_password_changes(app, web, make_user, outbox):
    make_user()
    Flow(web, "x").sign_in()
    assert change_password(web, PASSWORD).status_code == 302
    [message] = outbox.wait_for("somchai@example.com")
    assert "password was changed" in message["Subject"]
    assert "from your account page" in body_of(message)
    assert "http://localhost/password/forgot" in body_of(message)


def test_the_owner_is_mailed_when_the_password_is_reset(app, web, make_user, outbox):
    make_user()
    ask_reset(web, "somchai@example.com")
    assert choose(web, reset_link(outbox)).status_code == 302
    messages = outbox.wait_for("somchai@example.com", 2)
    assert "through a password-reset link" in body_of(messages[1])


def test_a_newer_reset_link_invalidates_the_older_one(app, web, make_user, outbox):
    make_user()
    ask_reset(web, "somchai@example.com")
    older = reset_link(outbox)
    ask_reset(web, "somchai@example.com")
    newer = re.search(r"http://localhost(/password/reset\?token=\S+)",
                      body_of(outbox.wait_for("somchai@example.com", 2)[1])).group(1)
    assert choose(app.test_client(), older).status_code == 400 and can_sign_in(app, PASSWORD)
    assert choose(app.test_client(), newer).status_code == 302 and can_sign_in(app, NEW)


def test_the_reset_token_is_not_sent_back_after_the_mailed_link(app, web, make_user, outbox):
    """The token is in the first request only (the mailed link): it is not in the address of
    any later request, nor in the page, and no page of the flow names a referrer."""
    make_user()
    ask_reset(web, "somchai@example.com")
    link = reset_link(outbox)
    token = link.split("token=")[1]
    landing = web.get(link)
    assert landing.status_code == 303 and token not in landing.headers["Location"]
    assert landing.headers["Referrer-Policy"] == "no-referrer"
    page = web.get(landing.headers["Location"])
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert token not in page.get_data(as_text=True)  # not in the form, nor the language links
    done = web.post("/password/reset", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                             "password": NEW, "password_confirm": NEW})
    assert done.status_code == 302 and can_sign_in(app, NEW)


def test_forgot_password_sends_no_mail_during_the_request(migrated, keys_dir, clock, make_user):
    """The request only writes an outbox row: with a mail server that holds every message,
    the answer comes back at once and the mail arrives once the server lets it through, sent
    by the background sender, never by the request's thread."""
    from idp import create_app
    from idp.mail import SmtpMailer
    from tests.support.mail import ThreadNotingMailer, settle, start_held_smtp_server

    controller, held = start_held_smtp_server()
    mailer = ThreadNotingMailer(SmtpMailer(host="127.0.0.1", port=controller.port, security="none",
                                           sender="x@moc.test", timeout=30))
    app = create_app({"ISSUER": "http://localhost", "DATABASE_URL": migrated,
                      "OIDC": {"KEYS_DIR": str(keys_dir)}}, adapters={"clock": clock, "mailer": mailer})
    try:
        with app.app_context():
            from idp.accounts.service import create_user
            from idp.db import db

            create_user("somchai@example.com", PASSWORD)
            db.session.commit()
        web = app.test_client()
        known, unknown = ask_reset(web, "somchai@example.com"), ask_reset(web, "nobody@example.com")
        assert known.status_code == unknown.status_code == 200
        assert held.to("somchai@example.com") == []  # answered while the server holds the mail
        held.release()
        assert len(held.wait_for("somchai@example.com")) == 1
        settle(app)
        assert mailer.threads == ["mail-sender"]
    finally:
        held.release()
        controller.stop()


def change_password(web, current, new=NEW):
    page = web.get("/account/password").get_data(as_text=True)
    return web.post("/account/password", data={"csrf_token": csrf_token(page),
                                               "current_password": current,
                                               "password": new, "password_confirm": new})


def tags(app, prefix):
    from idp.audit import events

    with app.app_context():
        return [e.tag for e in events(prefix)]


def test_change_password_asks_for_the_current_one_and_ends_other_sessions(app, web, make_user):
    make_user()
    Flow(web, "x").sign_in()
    other = app.test_client()
    Flow(other, "x").sign_in()

    def change(current):
        page = web.get("/account/password").get_data(as_text=True)
        return web.post("/account/password", data={"csrf_token": csrf_token(page),
                                                   "current_password": current,
                                                   "password": NEW, "password_confirm": NEW})

    assert change("wrong password").status_code == 400 and can_sign_in(app, PASSWORD)
    assert change(PASSWORD).status_code == 302
    assert web.get("/account").status_code == 200  # this session goes on
    assert other.get("/account").status_code == 302  # the other one ended
    assert can_sign_in(app, NEW)


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_reminders_are_sent_once_per_window_however_often_the_job_runs(app, make_user, outbox, clock):
    make_user()
    clock.advance(days=53, hours=1)  # 6 days 23 hours left
    assert "sent 1" in run(app, "accounts", "remind-expiring").output
    assert "sent 0" in run(app, "accounts", "remind-expiring").output
    [message] = outbox.wait_for("somchai@example.com")
    assert "expires soon" in message["Subject"]
    clock.advance(days=6)  # 23 hours left
    assert "sent 1" in run(app, "accounts", "remind-expiring").output
    assert "sent 0" in run(app, "accounts", "remind-expiring").output
    assert len(outbox.wait_for("somchai@example.com", 2)) == 2


def test_a_member_first_seen_a_day_before_expiry_gets_one_mail_not_two(app, make_user, outbox, clock):
    make_user()
    clock.advance(days=59, hours=12)
    run(app, "accounts", "remind-expiring")
    run(app, "accounts", "remind-expiring")
    assert len(outbox.wait_for("somchai@example.com")) == 1


def test_permanent_and_expired_accounts_get_no_reminder(app, make_user, outbox, clock):
    make_user(email="p@example.com", permanent=True)
    make_user(email="t@example.com")
    clock.advance(days=61)
    assert "sent 0" in run(app, "accounts", "remind-expiring").output
    assert outbox.messages == []


def test_a_reminder_the_mail_server_refused_is_sent_by_a_later_run(app, make_user, outbox, clock):
    from idp.mail import EXTENSION, SmtpMailer
    from tests.support.mail import settle
    from tests.support.smtp import free_port

    make_user()
    clock.advance(days=55)
    working = app.extensions[EXTENSION]
    app.extensions[EXTENSION] = SmtpMailer(host="127.0.0.1", port=free_port(), sender="x@moc.test",
                                           security="none", timeout=1)
    assert "sent 1" in run(app, "accounts", "remind-expiring").output  # queued once
    settle(app)
    app.extensions[EXTENSION] = working
    assert "sent 0" in run(app, "mail", "send-pending").output  # not due yet: backoff
    clock.advance(minutes=6)
    assert "sent 1" in run(app, "mail", "send-pending").output
    assert "sent 0" in run(app, "accounts", "remind-expiring").output
    assert len(outbox.wait_for("somchai@example.com")) == 1


def test_a_link_made_for_one_purpose_is_refused_for_another(app):
    """Each purpose signs with its own salt, so a token cannot be replayed elsewhere."""
    import pytest

    from idp.accounts.links import LinkInvalid, make_link_token, read_link_token

    with app.test_request_context("/"):
        token = make_link_token("verify-email", {"sub": "x"})
        assert read_link_token("verify-email", token, 60)["sub"] == "x"
        with pytest.raises(LinkInvalid):
            read_link_token("password-reset", token, 60)
