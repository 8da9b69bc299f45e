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
                "RATE_LIMITS": {"LOGIN_PER_ACCOUNT_IP": "3 per 15 minutes",
                                "LOGIN_PER_ACCOUNT": "4 per hour",
                                "LOGIN_PER_IP": "100000 per 15 minutes"}}
    return [create_app(settings, adapters={"clock": clock}) for _ in range(2)]


def fail_sign_in(app, email, ip="127.0.0.1"):
    web = app.test_client()
    web.environ_base["REMOTE_ADDR"] = ip
    page = web.get("/login")
    return web.post("/login", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                    "email": email, "password": "wrong password"}).status_code


def test_failures_counted_on_one_instance_throttle_the_other(two_instances):
    first, second = two_instances
    email = f"shared-{secrets.token_hex(4)}@example.com"  # a fresh key in the shared store
    assert [fail_sign_in(first, email) for _ in range(3)] == [401, 401, 401]
    assert fail_sign_in(second, email) == 429


def test_the_per_account_limit_spent_on_one_instance_leaves_a_new_place_one_try(two_instances):
    first, second = two_instances
    email = f"shared-{secrets.token_hex(4)}@example.com"
    places = [f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{n}" for n in range(3)]
    assert [fail_sign_in(first, email, places[0]) for _ in range(3)] == [401] * 3
    assert fail_sign_in(first, email, places[1]) == 401  # the fourth failure for the account
    assert [fail_sign_in(second, email, places[2]) for _ in range(2)] == [401, 429]
