"""Sign-in answers the same, on the same code path, whether or not the email has an account:
every password check spends exactly one argon2 verification."""

from __future__ import annotations

import argon2
import pytest

from tests.support.flows import PASSWORD, csrf_token


@pytest.fixture
def verifications(monkeypatch):
    """Counts argon2 verifications, whichever PasswordHasher instance makes them."""
    calls = []
    real = argon2.PasswordHasher.verify

    def counting(self, hash, password):
        calls.append(hash)
        return real(self, hash, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting)
    return calls


def sign_in(web, email, password):
    page = web.get("/login")
    return web.post("/login", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                    "email": email, "password": password})


def without_csrf(response):
    import re

    html = response.get_data(as_text=True)
    return re.sub(r'value="[^"]*" id="csrf_token"|name="csrf_token"[^>]*>', "", html)


def disable(app, email):
    from idp.accounts.service import find_by_email
    from idp.clock import now
    from idp.db import db

    with app.app_context():
        find_by_email(email).disabled_at = now()
        db.session.commit()


@pytest.mark.parametrize("case", ["unknown email", "wrong password", "disabled account",
                                  "account without a password", "right password"])
def test_every_sign_in_spends_exactly_one_argon2_verification(app, web, make_user, verifications, case):
    make_user(email="somchai@example.com")
    make_user(email="nopass@example.com", password=None)
    make_user(email="off@example.com")
    disable(app, "off@example.com")
    email, password = {
        "unknown email": ("nobody@example.com", "wrong password"),
        "wrong password": ("somchai@example.com", "wrong password"),
        "disabled account": ("off@example.com", "wrong password"),
        "account without a password": ("nopass@example.com", "wrong password"),
        "right password": ("somchai@example.com", PASSWORD),
    }[case]
    verifications.clear()
    sign_in(web, email, password)
    assert len(verifications) == 1


def test_unknown_email_wrong_password_and_no_password_answer_alike(app, make_user):
    make_user(email="somchai@example.com")
    make_user(email="nopass@example.com", password=None)
    answers = [sign_in(app.test_client(), email, "wrong password")
               for email in ("somchai@example.com", "nobody@example.com", "nopass@example.com")]
    assert {a.status_code for a in answers} == {401}
    pages = {without_csrf(a).replace(email, "") for a, email in zip(
        answers, ("somchai@example.com", "nobody@example.com", "nopass@example.com"), strict=True)}
    assert len(pages) == 1
