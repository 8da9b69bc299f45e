"""Shared fixtures: an app on a real database (SQLite, or PostgreSQL when IDP_TEST_DATABASE_URL
names one), a frozen clock, and helpers that hide the clicks of a sign-in."""

from __future__ import annotations

import secrets
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from idp import create_app
from idp.clock import FrozenClock
from idp.db import db
from tests.support.apps import build  # noqa: F401 (a fixture: an app from given settings)
from tests.support.flows import ISSUER, PASSWORD, Flow, empty_tables  # noqa: F401

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
        empty_tables()
    yield app
    from idp.audit_sealer import stop_all_sealers

    stop_all_sealers()  # before the engine goes: the sealer thread holds a connection of it
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


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


@pytest.fixture
def flow(web, make_user, make_client):
    """A person with an account, a confidential client, and the flow between them."""
    make_user()
    client_id, secret = make_client()
    the_flow = Flow(web, client_id)
    the_flow.secret = secret
    return the_flow


@pytest.fixture
def app_requests(app):
    """The paths the Flask app dispatched (``request_started`` is sent for each): an answer
    given before the app (userinfo, the token endpoint, a signed-in browser's code) adds none."""
    from flask import request, request_started

    seen = []

    def started(sender, **_):
        seen.append(request.path)

    request_started.connect(started, app)
    yield seen
    request_started.disconnect(started, app)
