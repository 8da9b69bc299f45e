"""argon2id by the [PASSWORDS] parameters: new hashes use them, an older hash is upgraded at
the next successful sign-in, and an unknown email still costs one hash."""

from __future__ import annotations

import secrets

import pytest
from argon2 import PasswordHasher

from idp import create_app
from idp.accounts.passwords import EXTENSION, Hashing
from idp.db import db
from tests.support.flows import ISSUER, PASSWORD, Flow

OWASP = "$argon2id$v=19$m=19456,t=2,p=1$"


def stored_hash(app, email="somchai@example.com"):
    from idp.accounts.service import find_by_email

    with app.app_context():
        return find_by_email(email).password_hash


def set_stored_hash(app, value, email="somchai@example.com"):
    from idp.accounts.service import find_by_email

    with app.app_context():
        find_by_email(email).password_hash = value
        db.session.commit()


def test_new_hashes_use_owasps_parameters_by_default(app, make_user):
    make_user()
    assert stored_hash(app).startswith(OWASP)


def test_the_parameters_come_from_each_apps_config(migrated, keys_dir, adapters, make_user, app):
    make_user()
    other = create_app({"ISSUER": ISSUER, "DATABASE_URL": migrated,
                        "OIDC": {"KEYS_DIR": str(keys_dir)}, "SECRET_KEY": secrets.token_hex(32),
                        "PASSWORDS": {"TIME_COST": 3, "MEMORY_COST_KIB": 8192}}, adapters=adapters)
    with other.app_context():
        from idp.accounts.passwords import hash_password

        assert hash_password("x" * 12).startswith("$argon2id$v=19$m=8192,t=3,p=1$")
    assert stored_hash(app).startswith(OWASP)


def test_an_older_hash_is_upgraded_at_the_next_successful_sign_in(app, web, make_user):
    make_user()
    set_stored_hash(app, PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4).hash(PASSWORD))
    assert Flow(web, "x").sign_in(password="wrong password!").status_code == 401
    assert stored_hash(app).startswith("$argon2id$v=19$m=65536,t=3,p=4$")  # not on a failure
    assert Flow(web, "x").sign_in().status_code == 302
    assert stored_hash(app).startswith(OWASP)
    assert Flow(app.test_client(), "x").sign_in().status_code == 302


class CountingHasher(PasswordHasher):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.verified: list[str] = []

    def verify(self, hash, password):  # noqa: A002 - the library's own argument name
        self.verified.append(hash)
        return super().verify(hash, password)


@pytest.mark.parametrize("email", ["nobody@example.com", "somchai@example.com"])
def test_a_failed_sign_in_costs_one_hash_at_the_configured_parameters(app, web, make_user, email):
    make_user()
    hasher = CountingHasher(time_cost=2, memory_cost=19456, parallelism=1)
    with app.app_context():
        from idp.accounts.passwords import _hashing

        app.extensions[EXTENSION] = Hashing(hasher, _hashing().dummy_hash)
    assert Flow(web, "x").sign_in(email=email, password="wrong password!").status_code == 401
    assert len(hasher.verified) == 1 and hasher.verified[0].startswith(OWASP)
