"""Signup (seed 3.3), the membership choice (3.4) and email verification."""

from __future__ import annotations

import re
import threading

import pytest

from tests.support.flows import PASSWORD, csrf_token, sign_in_after_signup
from tests.support.mail import settle
from tests.support.smtp import body_of

FORM = {
    "title_th": "นาย", "given_name_th": "สมชาย", "family_name_th": "ใจดี",
    "given_name_en": "Somchai", "family_name_en": "Jaidee", "gender": "male",
    "birthdate": "14/03/2528", "email": "somchai@example.com", "personnel_type": "public",
    "department": "", "position": "", "password": PASSWORD, "password_confirm": PASSWORD,
    "pdpa_consent": "y",
}


def sign_up(web, **changes):
    page = web.get("/signup")
    form = {**FORM, **changes, "csrf_token": csrf_token(page.get_data(as_text=True))}
    return web.post("/signup", data={k: v for k, v in form.items() if v is not None})


def account(app, email="somchai@example.com"):
    from idp.accounts.service import find_by_email

    with app.app_context():
        user = find_by_email(email)
        return None if user is None else {c.name: getattr(user, c.name) for c in user.__table__.columns}


def test_signup_creates_a_temporary_account_and_its_password_signs_in(app, web, clock):
    response = sign_up(web)
    assert response.status_code == 303 and response.headers["Location"] == "/signup/sent"
    assert sign_in_after_signup(web).headers["Location"] == "/signup/membership"
    created = account(app)
    assert created["account_type"] == "temporary"
    assert (created["expires_at"] - clock.now()).days == 60
    assert created["birthdate"].isoformat() == "1985-03-14"  # 2528 BE
    assert created["given_name_en"] == "Somchai" and created["email_verified"] is False
    assert created["pdpa_consent_at"] is not None
    assert web.get("/account").status_code == 200


def test_landing_and_sign_in_pages_link_to_signup(web):
    for page in ("/", "/login"):
        assert 'href="/signup' in web.get(page).get_data(as_text=True)


@pytest.mark.parametrize("field, value, message", [
    ("given_name_th", "", "first name"),
    ("given_name_th", "Somchai", "Thai letters"),
    ("family_name_en", "ใจดี", "English letters"),
    ("birthdate", "31/02/2530", "day/month/year"),
    ("birthdate", "14/03/2600", "check the date"),
    ("email", "not-an-email", "valid email"),
    ("password", "short", "at least 8"),
    ("password", "password123", "too common"),
    ("password_confirm", "something else entirely", "not the same"),
    ("pdpa_consent", None, "personal data"),
    ("personnel_type", None, "personnel type"),
])
def test_each_field_error_is_shown_and_keeps_what_was_typed(app, web, field, value, message):
    web.get("/lang/en")
    changes = {field: value}
    if field == "password":
        changes["password_confirm"] = value
    response = sign_up(web, **changes)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html
    assert f'href="#{field}"' in html  # the summary links to the field
    assert 'value="somchai@example.com"' in html or field == "email"
    assert 'value="Somchai"' in html or field in ("given_name_th",)
    assert PASSWORD not in html  # passwords are never echoed back
    assert account(app) is None


def test_moc_personnel_must_give_department_and_position(app, web):
    web.get("/lang/en")
    html = sign_up(web, personnel_type="moc").get_data(as_text=True)
    assert "must enter their agency" in html and "must enter their position" in html
    assert sign_up(web, personnel_type="moc", department="สำนักงานปลัดกระทรวงพาณิชย์",
                   position="นักวิชาการคอมพิวเตอร์").status_code == 303
    created = account(app)
    assert created["personnel_type"] == "moc" and created["position"] == "นักวิชาการคอมพิวเตอร์"


def test_thai_passwords_are_accepted(app, web):
    assert sign_up(web, password="รหัสผ่านภาษาไทย", password_confirm="รหัสผ่านภาษาไทย").status_code == 303
    assert account(app) is not None


def test_posted_privileged_fields_are_ignored(app, web):
    sign_up(web, moc_staff="true", is_admin="1", roles="admin", account_type="permanent",
            expires_at="", email_verified="1", identity_verified="1", staff_status="verified")
    created = account(app)
    assert created["account_type"] == "temporary" and created["expires_at"] is not None
    assert created["staff_status"] == "none" and created["roles"] == []
    assert created["email_verified"] is False and created["identity_verified"] is False


def test_email_is_unique_case_insensitively_and_after_normalisation(app, web, outbox):
    sign_up(web)
    web2 = app.test_client()
    response = sign_up(web2, email="ＳＯＭＣＨＡＩ@example.com", password="another long passphrase",
                       password_confirm="another long passphrase")  # full-width, NFKC-equal
    assert response.status_code == 303
    settle(app)
    assert account(app)["email"] == "somchai@example.com"
    from idp.accounts.models import User
    from idp.db import db

    with app.app_context():
        assert db.session.execute(db.select(db.func.count(User.id))).scalar() == 1
    subjects = [m["Subject"] for m in outbox.wait_for("somchai@example.com", 2)]
    assert any("Confirm your email" in s for s in subjects)
    assert any("tried to sign up" in s for s in subjects)


def test_two_parallel_signups_with_one_email_make_exactly_one_account(app):
    results, barrier = [], threading.Barrier(4)

    def attempt():
        web = app.test_client()
        page = web.get("/signup")
        form = {**FORM, "csrf_token": csrf_token(page.get_data(as_text=True))}
        barrier.wait()
        results.append(web.post("/signup", data=form).status_code)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [303, 303, 303, 303]
    from idp.accounts.models import User
    from idp.db import db

    with app.app_context():
        assert db.session.execute(db.select(db.func.count(User.id))).scalar() == 1


def test_signup_without_csrf_token_is_refused(app, web):
    assert web.post("/signup", data=FORM).status_code == 400
    assert account(app) is None


def test_blue_button_keeps_the_temporary_membership_and_continues(app, web):
    sign_up(web)
    sign_in_after_signup(web)
    page = web.get("/signup/membership").get_data(as_text=True)
    response = web.post("/signup/membership", data={"csrf_token": csrf_token(page), "choice": "temporary"})
    assert response.headers["Location"] == "/account"
    assert account(app)["membership_chosen_at"] is not None


def test_green_button_leads_to_the_identity_check(web):
    sign_up(web)
    sign_in_after_signup(web)
    page = web.get("/signup/membership").get_data(as_text=True)
    response = web.post("/signup/membership", data={"csrf_token": csrf_token(page), "choice": "permanent"})
    assert response.headers["Location"] == "/verify"


def test_signup_started_from_a_relying_party_returns_to_it(app, web, make_client):
    from tests.support.flows import Flow, query_of

    client_id, _ = make_client(trusted=True)
    flow = Flow(web, client_id)
    login = flow.authorize().headers["Location"]
    interaction = query_of(login)["interaction"]
    assert f"interaction={interaction}" in web.get(login).get_data(as_text=True)
    web.get(f"/signup?interaction={interaction}")
    sign_up(web)
    assert sign_in_after_signup(web).headers["Location"] == "/signup/membership"
    page = web.get("/signup/membership").get_data(as_text=True)
    response = web.post("/signup/membership", data={"csrf_token": csrf_token(page), "choice": "temporary"})
    final = web.get(response.headers["Location"])
    assert "code" in query_of(final.headers["Location"])


def verification_link(outbox, email="somchai@example.com"):
    [message] = outbox.wait_for(email)
    return re.search(r"http://localhost(/email/verify\?token=\S+)", body_of(message)).group(1)


def test_verification_mail_is_bilingual_and_its_link_verifies_once(app, web, outbox):
    sign_up(web)
    sign_in_after_signup(web)
    [message] = outbox.wait_for("somchai@example.com")
    assert "ยืนยันอีเมล" in message["Subject"] or "อีเมล" in message["Subject"]
    assert "Confirm your email" in message["Subject"]
    link = verification_link(outbox)
    assert "ยืนยัน" in web.get("/account").get_data(as_text=True)  # the banner before
    web.get(link)
    assert account(app)["email_verified"] is True
    web.get(link)  # second use: refused, nothing changes
    assert account(app)["email_verified"] is True
    tags = _tags(app, "account:email")
    assert tags == ["account:email:verified"]


def test_verification_link_expires(app, web, outbox, clock):
    sign_up(web)
    link = verification_link(outbox)
    clock.advance(days=4)
    web.get(link)
    assert account(app)["email_verified"] is False


def test_tampered_verification_link_is_refused(app, web, outbox):
    sign_up(web)
    web.get(verification_link(outbox)[:-3] + "abc")
    assert account(app)["email_verified"] is False


def test_signup_still_succeeds_when_mail_cannot_be_sent(migrated, keys_dir, clock):
    from idp import create_app
    from idp.mail import SmtpMailer
    from tests.support.smtp import free_port

    dead = SmtpMailer(host="127.0.0.1", port=free_port(), sender="x@moc.test", security="none", timeout=1)
    app = create_app({"ISSUER": "http://localhost", "DATABASE_URL": migrated,
                      "OIDC": {"KEYS_DIR": str(keys_dir)}}, adapters={"clock": clock, "mailer": dead})
    web = app.test_client()
    with app.app_context():
        from tests.support.flows import empty_tables as _empty_tables

        _empty_tables()
    assert sign_up(web).status_code == 303
    assert account(app) is not None
    settle(app)
    from idp.db import db
    from idp.mail import OutboxMail

    with app.app_context():  # kept for a later try, not lost
        [row] = db.session.execute(db.select(OutboxMail)).scalars()
        assert row.status == "pending" and row.attempts == 1 and row.template == "verify_email"


def _tags(app, prefix):
    from idp.audit import events

    with app.app_context():
        return [e.tag for e in events(prefix)]


def _page_after(web, response) -> str:
    """The page a signup answer leads to, without its per-session values (CSRF token)."""
    page = web.get(response.headers["Location"]).get_data(as_text=True)
    return re.sub(r'value="[^"]*"', "", page.replace("new@example.com", "EMAIL").replace(
        "somchai@example.com", "EMAIL"))


def test_signup_answers_the_same_for_a_registered_and_a_new_email(app, make_user, outbox):
    """No account enumeration: the owner of the registered email is mailed instead."""
    make_user()
    registered, new = app.test_client(), app.test_client()
    taken = sign_up(registered, password="another long passphrase",
                    password_confirm="another long passphrase")
    fresh = sign_up(new, email="new@example.com")
    assert taken.status_code == fresh.status_code == 303
    assert taken.headers["Location"] == fresh.headers["Location"]
    assert _page_after(registered, taken) == _page_after(new, fresh)
    [warning] = outbox.wait_for("somchai@example.com")
    assert "tried to sign up" in warning["Subject"]
    assert "http://localhost/password/forgot" in body_of(warning)
    assert "Confirm your email" in outbox.wait_for("new@example.com")[0]["Subject"]
    assert "account:signup:existing_email" in _tags(app, "account:signup")


def test_signup_with_a_registered_email_changes_nothing_and_does_not_sign_in(app, web, make_user):
    make_user(password="the owner's own passphrase")
    sign_up(web, given_name_th="มานี", password="another long passphrase",
            password_confirm="another long passphrase")
    assert account(app)["given_name_th"] == "สมชาย"
    assert sign_in_after_signup(web, "another long passphrase").status_code == 401
    assert web.get("/account").status_code == 302


def test_a_signup_that_committed_but_failed_to_answer_is_recognised_on_retry(app, web, outbox):
    from flask import request

    failed_once = []

    @app.after_request
    def lose_the_first_answer(response):  # the account is committed; the answer is lost
        if request.path == "/signup" and request.method == "POST" and not failed_once:
            failed_once.append(True)
            return app.response_class("connection lost", status=500)
        return response

    assert sign_up(web).status_code == 500 and account(app) is not None
    retry = sign_up(web)
    assert retry.status_code == 303
    page = web.get(retry.headers["Location"]).get_data(as_text=True)
    assert "ไว้แล้ว" in page or "already created" in page
    assert sign_in_after_signup(web).headers["Location"] == "/signup/membership"
    settle(app)
    assert len(outbox.to("somchai@example.com")) == 1  # the verification mail, once
    assert "account:signup:repeated" in _tags(app, "account:signup")


def test_a_retry_with_another_password_gets_the_answer_of_any_signup(app, outbox):
    sign_up(app.test_client())
    other, fresh_client = app.test_client(), app.test_client()
    retry = sign_up(other, password="another long passphrase",
                    password_confirm="another long passphrase")
    fresh = sign_up(fresh_client, email="new@example.com")
    assert _page_after(other, retry) == _page_after(fresh_client, fresh)


@pytest.mark.parametrize("password", ["Password123!", "iloveyou123", "Somchai-2528-xx",
                                      "รหัสสมชายของฉัน", "jaidee loves tea"])
def test_common_and_personal_passwords_are_refused_at_signup(app, web, password):
    web.get("/lang/en")
    response = sign_up(web, password=password, password_confirm=password)
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and account(app) is None
    assert "too common" in html or "your name or your email" in html


def test_signup_retries_are_password_guesses_counted_with_sign_in_failures(app):
    """The retry recognition checks a password: guessing through it is throttled like sign-in,
    and once the guesser's budget is spent even the right password is not recognised."""
    app.config["RATE_LIMITS"].update(LOGIN_PER_ACCOUNT_IP="2 per 15 minutes",
                                     SIGNUP_PER_IP="1000 per hour")
    sign_up(app.test_client())
    guesser = app.test_client()
    for guess in ("wrong guess number one", "wrong guess number two"):
        sign_up(guesser, password=guess, password_confirm=guess)
    retry = sign_up(guesser)  # the right password, after the budget is spent
    page = guesser.get(retry.headers["Location"]).get_data(as_text=True)
    assert "ไว้แล้ว" not in page and "already created" not in page
    assert "account:login:throttled" in _tags(app, "account:login")
    # The guesses count as failed sign-ins from that address: the form stops it there too.
    login = guesser.get("/login").get_data(as_text=True)
    answer = guesser.post("/login", data={"csrf_token": csrf_token(login),
                                          "email": "somchai@example.com", "password": PASSWORD})
    assert answer.status_code == 429
