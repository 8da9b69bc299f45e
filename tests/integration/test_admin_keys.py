"""Signing keys in the console: their states, and rotation through the same service as the CLI."""

from __future__ import annotations

import json

import admin_support
import pytest

console = admin_support.console  # the fixture, shared by the console tests


@pytest.fixture
def own_keys(app, tmp_path):
    """Keys of this test only (not the ones every other test signs with)."""
    from idp.oidc.keys import KeyStore
    from idp.oidc.signing import KEYS

    app.extensions[KEYS] = KeyStore(tmp_path)
    app.test_cli_runner().invoke(args=["keys", "rotate", "--now"])
    return app.extensions[KEYS]


def test_the_console_lists_keys_with_their_state(console, own_keys):
    admin = console()
    html = admin.text("/admin/keys")
    for key in own_keys.keys():
        assert key.kid in html
    assert html.count("active (signs now)") == 2


def test_rotating_publishes_next_keys_and_is_audited(app, console, own_keys):
    from idp.audit import events

    admin = console()
    response = admin.post("/admin/keys/rotate", csrf_from="/admin/keys", alg="RS256")
    assert response.status_code == 302
    listed = json.loads(app.test_cli_runner().invoke(args=["keys", "list", "--json"]).output)
    assert sorted(k["state"] for k in listed if k["alg"] == "RS256") == ["active", "next"]
    with app.app_context():
        rotations = events("admin:keys:rotated")
        assert rotations[-1].actor_id is not None and len(rotations[-1].details["kids"]) == 1


def test_rotating_needs_a_fresh_second_factor(app, console, own_keys):
    admin = console()
    admin.clock.advance(minutes=10)
    response = admin.post("/admin/keys/rotate", csrf_from="/admin/keys", alg="all")
    assert response.headers["Location"].startswith("/admin/mfa/verify")
    assert len(own_keys.keys()) == 2
