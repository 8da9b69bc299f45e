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


def test_a_citizen_ids_budget_is_shared_by_instances_and_reset_for_all(migrated, keys_dir, clock):
    from idp.accounts.service import create_user
    from idp.db import db
    from tests.support.flows import PASSWORD, Flow, empty_tables

    settings = {"ISSUER": "http://localhost", "DATABASE_URL": migrated, "REDIS_URL": REDIS_URL,
                "OIDC": {"KEYS_DIR": str(keys_dir)}, "SECRET_KEY": secrets.token_hex(16),
                "RATE_LIMITS": {"IDENTITY_CHECK_PER_CITIZEN_ID": "1 per day"}}
    first, second = (create_app(settings, adapters={"clock": clock}) for _ in range(2))
    with first.app_context():
        empty_tables()
        for email in ("attacker@example.com", "somchai@example.com"):
            create_user(email, PASSWORD, given_name_th="สมชาย", family_name_th="ใจดี")
        db.session.commit()
    person = {"citizen_id": "1101700230708", "first_name_th": "สมชาย", "last_name_th": "ใจดี",
              "birthdate": "14/03/2528"}

    def check(app, email, **changes):
        web = app.test_client()
        Flow(web, "x").sign_in(email=email)
        page = web.get("/verify/identity").get_data(as_text=True)
        return web.post("/verify/identity", data={**person, **changes,
                                                  "csrf_token": csrf_token(page)}).status_code

    assert check(first, "attacker@example.com", first_name_th="สมศักดิ์") == 422
    assert check(second, "somchai@example.com") == 429
    result = first.test_cli_runner().invoke(args=["verification", "reset-attempts"],
                                            input="1101700230708\n")
    assert result.exit_code == 0, result.output
    assert check(second, "somchai@example.com") == 302


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
