"""Helpers for the admin console tests: a person with a console role and a browser, who signs
in, enrols an authenticator app and types its codes at the app's (frozen) time."""

from __future__ import annotations

import re
from html import unescape

import pyotp
import pytest

from tests.support.flows import PASSWORD, csrf_token


def set_roles(app, sub: str, roles) -> None:
    from idp.accounts.service import find_by_sub
    from idp.db import db

    with app.app_context():
        find_by_sub(sub).roles = list(roles)
        db.session.commit()


def page_secret(html: str) -> str:
    match = re.search(r'<code id="totp-secret"[^>]*>([^<]+)</code>', html)
    assert match, "enrolment page shows no secret"
    return match.group(1).replace(" ", "")


def page_codes(html: str) -> list[str]:
    block = re.search(r'<ul class="codes" id="recovery-codes">(.*?)</ul>', html, re.S)
    assert block, "page shows no recovery codes"
    return re.findall(r"<code>([^<]+)</code>", block.group(1))


class Console:
    """One person's browser on the console."""

    def __init__(self, app, clock, email: str, sub: str):
        self.app, self.clock, self.email, self.sub = app, clock, email, sub
        self.web = app.test_client()
        # English pages, so that assertions on text hold whatever the Thai catalog says.
        self.web.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        self.secret: str | None = None
        self.recovery_codes: list[str] = []

    def sign_in(self):
        page = self.web.get("/login")
        response = self.web.post("/login", data={
            "csrf_token": csrf_token(page.get_data(as_text=True)), "email": self.email,
            "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return self

    def code(self, seconds: int = 0) -> str:
        return pyotp.TOTP(self.secret).at(self.clock.now().timestamp() + seconds)

    def enrol(self):
        page = self.web.get("/admin/mfa/enrol")
        assert page.status_code == 200, page.status_code
        html = page.get_data(as_text=True)
        self.secret = page_secret(html)
        response = self.web.post("/admin/mfa/enrol", data={"csrf_token": csrf_token(html),
                                                           "code": self.code()})
        assert response.status_code == 200, response.get_data(as_text=True)
        self.recovery_codes = page_codes(response.get_data(as_text=True))
        return self

    def verify(self, code: str | None = None, next_path: str = ""):
        """Type a code on the verify page; by default a fresh one (a new 30 s step, since a
        code already used is refused)."""
        if code is None:
            self.clock.advance(seconds=30)
            code = self.code()
        page = self.web.get("/admin/mfa/verify")
        return self.web.post("/admin/mfa/verify", data={
            "csrf_token": csrf_token(page.get_data(as_text=True)), "code": code, "next": next_path})

    def token(self, path: str = "/account") -> str:
        return csrf_token(self.web.get(path).get_data(as_text=True))

    def post(self, path: str, csrf_from: str = "/account", **data):
        return self.web.post(path, data={"csrf_token": self.token(csrf_from), **data})

    def text(self, path: str) -> str:
        response = self.web.get(path)
        assert response.status_code == 200, (path, response.status_code, response.headers.get("Location"))
        return unescape(response.get_data(as_text=True))


@pytest.fixture
def console(app, clock, make_user):
    """``console(roles, email=...)``: a signed-in person with those roles, enrolled in MFA
    unless ``enrol=False``."""
    def make(roles=("admin",), email="admin@moc.go.th", enrol=True, **fields) -> Console:
        sub = make_user(email=email, permanent=True, **fields)
        set_roles(app, sub, roles)
        person = Console(app, clock, email, sub).sign_in()
        return person.enrol() if enrol else person
    return make
