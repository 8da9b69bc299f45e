"""Shared fixtures: an app on a real database (SQLite, or PostgreSQL when IDP_TEST_DATABASE_URL
names one), a frozen clock, and helpers that hide the clicks of a sign-in."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import sqlalchemy as sa

from idp import create_app
from idp.clock import FrozenClock
from idp.db import db

ISSUER = "http://localhost"
PASSWORD = "correct horse battery"
TESTS = Path(__file__).parent


def pytest_collection_modifyitems(config, items):
    """The folder sets the marker: tests/unit → unit, tests/integration → integration, …"""
    for item in items:
        folder = Path(item.fspath).relative_to(TESTS).parts[0]
        if folder in ("unit", "integration", "interop", "contract", "e2e"):
            item.add_marker(folder)


# --- database -----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A migrated database for this test session; PostgreSQL when IDP_TEST_DATABASE_URL is set."""
    import os

    base = os.environ.get("IDP_TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'idp.sqlite3'}"
        return
    name = f"idp_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield sa.engine.make_url(base).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="session")
def migrated(database_url, keys_dir):
    """Run the Alembic migrations once: the schema under test is the migrated one."""
    from flask_migrate import upgrade

    # Keys made a day early, so that they are active whatever each test's clock says.
    a_day_ago = FrozenClock()
    a_day_ago.advance(days=-1)
    app = create_app({"DATABASE_URL": database_url, "OIDC": {"KEYS_DIR": str(keys_dir)}},
                     adapters={"clock": a_day_ago})
    with app.app_context():
        upgrade(revision="heads")
        db.engine.dispose()
    return database_url


class RecordingHttp:
    """Stands where back-channel logout POSTs go in integration tests; records each call."""

    def __init__(self):
        self.posts: list[tuple[str, dict]] = []
        self.fail = False

    def post(self, url, data=None, **_kwargs):
        import requests

        self.posts.append((url, data))
        if self.fail:
            raise requests.ConnectionError("refused")
        return type("Response", (), {"status_code": 200})()


@pytest.fixture
def clock():
    return FrozenClock()


@pytest.fixture
def http():
    return RecordingHttp()


@pytest.fixture(scope="session")
def smtp_server():
    """A real SMTP server on loopback for the whole session."""
    from tests.support.smtp import start_smtp_server

    controller, outbox = start_smtp_server()
    yield controller, outbox
    controller.stop()


@pytest.fixture
def outbox(smtp_server):
    """What the loopback SMTP server received during this test."""
    _, box = smtp_server
    box.messages.clear()
    return box


@pytest.fixture
def adapters(clock, http, smtp_server):
    """Collaborators of the app under test; tests may replace entries before ``app`` is built."""
    from idp.mail import SmtpMailer

    controller, _ = smtp_server
    mailer = SmtpMailer(host="127.0.0.1", port=controller.port, sender="MOC Account <no-reply@moc.test>",
                        security="none", timeout=5)
    return {"clock": clock, "http": http, "mailer": mailer}


@pytest.fixture
def app(migrated, keys_dir, adapters):
    app = create_app(
        {"ISSUER": ISSUER, "DATABASE_URL": migrated, "OIDC": {"KEYS_DIR": str(keys_dir)},
         "SECRET_KEY": "test-secret-key-" + secrets.token_hex(16)},
        adapters=adapters,
    )
    app.config["TESTING"] = True
    with app.app_context():
        _empty_tables()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _empty_tables():
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def web(app):
    return app.test_client()


# --- makers -------------------------------------------------------------------------------

@pytest.fixture
def make_user(app):
    def make(email="somchai@example.com", password=PASSWORD, **fields):
        from idp.accounts.service import create_user

        fields.setdefault("given_name_th", "สมชาย")
        fields.setdefault("family_name_th", "ใจดี")
        with app.app_context():
            user = create_user(email, password, **fields)
            db.session.commit()
            return user.sub
    return make


@pytest.fixture
def make_client(app):
    def make(**settings):
        from idp.oidc.clients import create_client

        settings.setdefault("redirect_uris", ["https://rp.example/callback"])
        settings.setdefault("post_logout_redirect_uris", ["https://rp.example/"])
        with app.app_context():
            registered = create_client(settings.pop("name", "Test RP"),
                                       settings.pop("redirect_uris"), **settings)
            db.session.commit()
            return registered.client.client_id, registered.client_secret
    return make


# --- browser-like helpers -----------------------------------------------------------------

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


@pytest.fixture
def flow(web, make_user, make_client):
    """A person with an account, a confidential client, and the flow between them."""
    make_user()
    client_id, secret = make_client()
    the_flow = Flow(web, client_id)
    the_flow.secret = secret
    return the_flow


def decode_jwt(app, token: str) -> dict:
    """Verify ``token`` against the app's published JWKS, as a relying party would."""
    from joserfc import jwt
    from joserfc.jwk import KeySet

    with app.app_context():
        from idp.oidc.server import key_store

        jwks = key_store().jwks(app.extensions["idp.clock"].now())
    return jwt.decode(token, KeySet.import_key_set(jwks)).claims
