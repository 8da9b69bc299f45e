"""Rate limits kept in Redis are shared by every IdP instance (the scale-out path)."""

from __future__ import annotations

import os
import secrets

import pytest

from idp import create_app
from tests.support.flows import csrf_token

REDIS_URL = os.environ.get("IDP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def two_instances(migrated, keys_dir, clock):
    settings = {"ISSUER": "http://localhost", "DATABASE_URL": migrated, "REDIS_URL": REDIS_URL,
                "OIDC": {"KEYS_DIR": str(keys_dir)},
                "RATE_LIMITS": {"LOGIN_PER_ACCOUNT": "3 per 15 minutes",
                                "LOGIN_PER_IP": "100000 per 15 minutes"}}
    return [create_app(settings, adapters={"clock": clock}) for _ in range(2)]


def fail_sign_in(app, email):
    web = app.test_client()
    page = web.get("/login")
    return web.post("/login", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                    "email": email, "password": "wrong password"}).status_code


def test_failures_counted_on_one_instance_throttle_the_other(two_instances):
    first, second = two_instances
    email = f"shared-{secrets.token_hex(4)}@example.com"  # a fresh key in the shared store
    assert [fail_sign_in(first, email) for _ in range(3)] == [401, 401, 401]
    assert fail_sign_in(second, email) == 429


def test_a_clients_token_requests_are_counted_across_instances(two_instances):
    from idp.db import db
    from idp.oidc.clients import create_client

    first, second = two_instances
    for app in two_instances:
        app.config["RATE_LIMITS"]["TOKEN_PER_CLIENT"] = "2 per minute"
    with first.app_context():
        registered = create_client(f"Batch {secrets.token_hex(4)}", [], post_logout_redirect_uris=[],
                                   grant_types=["client_credentials"], scope="profile")
        db.session.commit()
        auth = (registered.client.client_id, registered.client_secret)
    form = {"grant_type": "client_credentials"}
    assert [first.test_client().post("/token", data=form, auth=auth).status_code
            for _ in range(2)] == [200, 200]
    refused = second.test_client().post("/token", data=form, auth=auth)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
