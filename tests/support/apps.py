"""An app built from test settings, for tests that need configuration the ``app`` fixture
does not have (a proxy, an external system, production mode)."""

from __future__ import annotations

import secrets

import pytest

from idp import create_app
from idp.config import merge
from idp.db import db
from tests.support.flows import ISSUER, empty_tables


@pytest.fixture
def build(migrated, keys_dir, adapters):
    """``build(settings)``: an app from ``settings`` merged over the test defaults, on the
    migrated test database (emptied); ``adapters`` may be given to replace the fixture's."""
    built = []

    def make(settings: dict, *, extra_adapters: dict | None = None, empty: bool = True):
        app = create_app(merge({"ISSUER": ISSUER, "DATABASE_URL": migrated,
                                "OIDC": {"KEYS_DIR": str(keys_dir)},
                                "SECRET_KEY": "test-secret-key-" + secrets.token_hex(16)}, settings),
                         adapters={**adapters, **(extra_adapters or {})})
        app.config["TESTING"] = True
        if empty:
            with app.app_context():
                empty_tables()
        built.append(app)
        return app

    yield make
    for app in built:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
