"""Helpers the tests share: the clicks of a sign-in, token checks, and table cleanup.

A module of its own (not conftest.py), so that ``from tests.support.flows import ...`` names
one module however many conftest.py files the run collects.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit

from idp.db import db

ISSUER = "http://localhost"
PASSWORD = "correct horse battery"


def empty_tables():
    from idp.audit_sealer import stop_all_sealers

    stop_all_sealers()  # a sealer still linking an earlier test's events would hold the chain head
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def hidden_fields(html: str) -> dict:
    fields = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html)
    return {name: unescape(value) for name, value in fields}


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    return verifier, challenge.decode()


def query_of(location: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


class Flow:
    """The clicks of a sign-in through /authorize, as a person with a browser would make them."""

    def __init__(self, web, client_id, redirect_uri="https://rp.example/callback"):
        self.web, self.client_id, self.redirect_uri = web, client_id, redirect_uri
        self.verifier, self.challenge = pkce_pair()

    def params(self, **extra) -> dict:
        params = {
            "client_id": self.client_id, "redirect_uri": self.redirect_uri,
            "response_type": "code", "scope": "openid profile email moc offline_access",
            "state": "state-" + secrets.token_hex(4), "nonce": "nonce-" + secrets.token_hex(4),
            "code_challenge": self.challenge, "code_challenge_method": "S256",
        }
        params.update(extra)
        return {k: v for k, v in params.items() if v is not None}

    def authorize(self, **extra):
        return self.web.get("/authorize?" + urlencode(self.params(**extra)))

    def sign_in(self, email="somchai@example.com", password=PASSWORD, interaction=None):
        page = self.web.get("/login" + (f"?interaction={interaction}" if interaction else ""))
        form = {"csrf_token": csrf_token(page.get_data(as_text=True)), "email": email,
                "password": password}
        if interaction:
            form["interaction"] = interaction
        return self.web.post("/login", data=form)

    def follow(self, response, email="somchai@example.com", password=PASSWORD, consent=True):
        """Follow IdP-internal redirects (login, consent) until the response leaves the IdP."""
        for _ in range(10):
            location = response.headers.get("Location", "")
            if response.status_code != 302 or location.startswith("https://rp.example"):
                return response
            path = urlsplit(location)
            query = query_of(location)
            if path.path == "/consent" and not consent:
                return response
            if path.path == "/login":
                response = self.sign_in(email, password, query.get("interaction"))
            elif path.path == "/consent" and consent:
                page = self.web.get(location)
                response = self.web.post("/consent", data={
                    "csrf_token": csrf_token(page.get_data(as_text=True)),
                    "interaction": query["interaction"], "decision": "allow"})
            else:
                response = self.web.get(location)
        raise AssertionError("too many redirects")

    def code(self, **extra) -> str:
        response = self.follow(self.authorize(**extra))
        assert response.status_code == 302, response.get_data(as_text=True)
        query = query_of(response.headers["Location"])
        assert "code" in query, query
        return query["code"]

    def exchange(self, code, secret, **extra):
        data = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": self.redirect_uri, "code_verifier": self.verifier}
        data.update(extra)
        data = {k: v for k, v in data.items() if v is not None}
        return self.web.post("/token", data=data, auth=(self.client_id, secret) if secret else None)

    def tokens(self, secret, **extra) -> dict:
        response = self.exchange(self.code(**extra), secret)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.json


def decode_jwt(app, token: str) -> dict:
    """Verify ``token`` against the app's published JWKS, as a relying party would."""
    from joserfc import jwt
    from joserfc.jwk import KeySet

    with app.app_context():
        from idp.oidc.signing import key_store

        jwks = key_store().jwks(app.extensions["idp.clock"].now())
    return jwt.decode(token, KeySet.import_key_set(jwks)).claims


def sign_in_after_signup(web, password=PASSWORD):
    """The sign-in form of the "check your mail" page that follows a signup (email filled in,
    on to the membership choice): what a person who just signed up presses next."""
    page = web.get("/signup/sent").get_data(as_text=True)
    value = lambda name: unescape(re.search(rf'id="{name}"[^>]*value="([^"]*)"', page).group(1))  # noqa: E731
    return web.post("/login", data={"csrf_token": csrf_token(page), "next": value("next"),
                                    "email": value("email"), "password": password})
