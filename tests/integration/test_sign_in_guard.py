"""Sign-in throttles that stop a guesser without locking the owner out: per (account, IP), a
slower per-account limit a new place still passes, cleared by a password reset or an admin."""

from __future__ import annotations

import admin_support
import pytest
from test_passwords import ask_reset, choose, reset_link

from tests.support.flows import PASSWORD, csrf_token

console = admin_support.console  # the fixture, shared by the console tests

OWNER = "somchai@example.com"
ATTACKER_IP, OWNER_IP = "203.0.113.9", "198.51.100.7"


def browser(app, ip):
    web = app.test_client()
    web.environ_base.update(REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE="en")
    return web


def sign_in(web, email=OWNER, password=PASSWORD):
    page = web.get("/login")
    return web.post("/login", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                    "email": email, "password": password})


def guess(web, times, email=OWNER):
    return [sign_in(web, email, f"guess number {n}").status_code for n in range(times)]


def throttled_events(app):
    from idp.audit import events

    with app.app_context():
        return [(e.subject_id, e.ip, e.details) for e in events("account:login:throttled")]


def user_id(app, email=OWNER):
    from idp.accounts.service import find_by_email

    with app.app_context():
        return find_by_email(email).id


def test_attacker_guessing_from_one_place_does_not_lock_the_owner_out(app, make_user):
    make_user()
    assert guess(browser(app, ATTACKER_IP), 8) == [401] * 5 + [429] * 3
    assert sign_in(browser(app, OWNER_IP)).status_code == 302


def test_a_guesser_is_stopped_per_account_and_ip_even_with_the_right_password(app, make_user):
    make_user()
    attacker = browser(app, ATTACKER_IP)
    guess(attacker, 5)
    response = sign_in(attacker)
    assert response.status_code == 429
    assert "Too many failed attempts" in response.get_data(as_text=True)


def test_the_owner_limit_resets_after_a_right_password_from_the_same_place(app, make_user):
    make_user()
    owner = browser(app, OWNER_IP)
    guess(owner, 4)
    assert sign_in(owner).status_code == 302
    assert guess(browser(app, OWNER_IP), 5) == [401] * 5


def test_when_the_account_limit_is_spent_each_new_place_gets_one_try(app, make_user):
    """A distributed guesser gets one guess per place; the owner from a new place gets in."""
    app.config["RATE_LIMITS"]["LOGIN_PER_ACCOUNT"] = "3 per hour"
    make_user()
    for n in range(3):
        guess(browser(app, f"203.0.113.{n + 10}"), 1)
    late = browser(app, "203.0.113.50")
    assert guess(late, 2) == [401, 429]
    assert sign_in(late).status_code == 429
    assert sign_in(browser(app, OWNER_IP)).status_code == 302


def test_wrong_password_answers_the_same_whether_or_not_the_account_limit_is_spent(app, make_user):
    app.config["RATE_LIMITS"]["LOGIN_PER_ACCOUNT"] = "2 per hour"
    make_user()
    before = sign_in(browser(app, "203.0.113.1"), password="wrong password")
    guess(browser(app, "203.0.113.2"), 2)
    after = sign_in(browser(app, "203.0.113.3"), password="wrong password")
    assert before.status_code == after.status_code == 401
    assert _page(before) == _page(after)


def _page(response):
    import re

    html = response.get_data(as_text=True)
    return re.sub(r'value="[^"]*" id="csrf_token"|name="csrf_token"[^>]*>', "", html)


def test_unknown_emails_are_throttled_exactly_like_known_ones(app, make_user):
    make_user()
    known = guess(browser(app, ATTACKER_IP), 7)
    unknown = guess(browser(app, ATTACKER_IP), 7, email="nobody@example.com")
    assert known == unknown == [401] * 5 + [429] * 2


def test_throttle_audit_row_names_the_account_and_the_ip(app, make_user):
    make_user()
    guess(browser(app, ATTACKER_IP), 6)
    [(subject, ip, details)] = throttled_events(app)
    assert subject == user_id(app) and ip == ATTACKER_IP
    assert details == {"ip": ATTACKER_IP, "limit": "LOGIN_PER_ACCOUNT_IP"}


def test_a_password_reset_clears_the_throttles(app, make_user, outbox):
    make_user()
    shared = browser(app, OWNER_IP)  # the attacker behind the owner's own office NAT
    guess(shared, 5)
    assert sign_in(shared).status_code == 429
    ask_reset(shared, OWNER)
    assert choose(shared, reset_link(outbox)).status_code == 302
    assert sign_in(shared, password="a brand new passphrase").status_code == 302


def test_admin_unlock_clears_the_throttles_and_is_audited(app, make_user, console):
    from idp.audit import events

    sub = make_user()
    owner = browser(app, OWNER_IP)
    guess(owner, 5)
    admin = console()
    response = admin.post(f"/admin/accounts/{sub}/unlock-sign-in",
                          **{"unlock-sign-in-reason": "Owner called the help desk"})
    assert response.status_code == 302
    assert "the owner can sign in again at once" in admin.text(f"/admin/accounts/{sub}")
    assert sign_in(owner).status_code == 302
    with app.app_context():
        [event] = events("admin:account:sign_in_unlocked")
        assert event.subject_id == user_id(app) and event.actor_id == user_id(app, admin.email)
        assert event.details == {"reason": "Owner called the help desk"}


@pytest.mark.parametrize("role", ["reviewer", "client_manager"])
def test_admin_unlock_needs_the_admin_role(app, make_user, console, role):
    sub = make_user()
    owner = browser(app, OWNER_IP)
    guess(owner, 5)
    other = console((role,))
    response = other.post(f"/admin/accounts/{sub}/unlock-sign-in", csrf_from="/account",
                          **{"unlock-sign-in-reason": "Owner called the help desk"})
    assert response.status_code == 403
    assert sign_in(owner).status_code == 429


def test_admin_unlock_without_csrf_token_is_refused(app, make_user, console):
    sub = make_user()
    owner = browser(app, OWNER_IP)
    guess(owner, 5)
    admin = console()
    response = admin.web.post(f"/admin/accounts/{sub}/unlock-sign-in",
                              data={"unlock-sign-in-reason": "Owner called the help desk"})
    assert response.status_code == 400
    assert sign_in(owner).status_code == 429


def test_cli_unlock_clears_the_throttles_and_is_audited(app, make_user):
    from idp.audit import events

    make_user()
    owner = browser(app, OWNER_IP)
    guess(owner, 5)
    result = app.test_cli_runner().invoke(args=["accounts", "unlock", "SOMCHAI@example.com",
                                                "--reason", "Owner called the help desk"])
    assert result.exit_code == 0, result.output
    assert sign_in(owner).status_code == 302
    with app.app_context():
        [event] = events("admin:account:sign_in_unlocked")
        assert event.subject_id == user_id(app) and event.details["via"] == "cli"


def test_cli_unlock_of_an_unknown_email_fails(app):
    result = app.test_cli_runner().invoke(args=["accounts", "unlock", "nobody@example.com"])
    assert result.exit_code != 0 and "no account" in result.output
