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
    page = web.get(link).get_data(as_text=True)
    token = link.split("token=")[1]
    return web.post("/password/reset", data={"csrf_token": csrf_token(page), "token": token,
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
    assert web.get(link).status_code == 400  # single use: the link died with the old password
    token = link.split("token=")[1]
    page = web.get("/password/forgot").get_data(as_text=True)
    replay = web.post("/password/reset", data={"csrf_token": csrf_token(page), "token": token,
                                               "password": "yet another passphrase",
                                               "password_confirm": "yet another passphrase"})
    assert replay.status_code == 400 and can_sign_in(app, NEW)


def test_reset_link_expires_after_an_hour(app, web, make_user, outbox, clock):
    make_user()
    ask_reset(web, "somchai@example.com")
    link = reset_link(outbox)
    clock.advance(hours=1, seconds=1)
    response = web.get(link)
    assert response.status_code == 400 and 'href="/password/forgot"' in response.get_data(as_text=True)
    assert can_sign_in(app, PASSWORD)


def test_reset_refuses_a_common_password_and_keeps_the_link_usable(app, web, make_user, outbox):
    make_user()
    ask_reset(web, "somchai@example.com")
    link = reset_link(outbox)
    assert choose(web, link, "12345678").status_code == 400
    assert choose(web, link).status_code == 302


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


def test_a_failed_mail_is_retried_on_the_next_run(app, make_user, outbox, clock, smtp_server):
    from idp.mail import EXTENSION, SmtpMailer
    from tests.support.smtp import free_port

    make_user()
    clock.advance(days=55)
    working = app.extensions[EXTENSION]
    app.extensions[EXTENSION] = SmtpMailer(host="127.0.0.1", port=free_port(), sender="x@moc.test",
                                           security="none", timeout=1)
    assert "sent 0" in run(app, "accounts", "remind-expiring").output
    app.extensions[EXTENSION] = working
    assert "sent 1" in run(app, "accounts", "remind-expiring").output


def test_a_link_made_for_one_purpose_is_refused_for_another(app):
    """Each purpose signs with its own salt, so a token cannot be replayed elsewhere."""
    import pytest

    from idp.accounts.links import LinkInvalid, make_link_token, read_link_token

    with app.test_request_context("/"):
        token = make_link_token("verify-email", {"sub": "x"})
        assert read_link_token("verify-email", token, 60)["sub"] == "x"
        with pytest.raises(LinkInvalid):
            read_link_token("password-reset", token, 60)
