"""Registered clients held per process (idp/oidc/client_cache.py): a change in the same process
is seen by the very next request; one made by another process within CLIENTS_RECHECK_SECONDS,
on the cache's own clock (moved here by hand: no waiting)."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from idp.db import db
from idp.oidc.client_cache import EXTENSION
from idp.oidc.clients import disable_client, find_client, rotate_secret, update_client


@pytest.fixture
def service(make_client):
    return make_client(name="Batch", redirect_uris=[], grant_types=["client_credentials"],
                       scope="profile", post_logout_redirect_uris=[])


def token(web, client):
    return web.post("/token", data={"grant_type": "client_credentials"}, auth=client)


def change(app, client_id, edit):
    with app.app_context():
        edit(find_client(client_id))
        db.session.commit()


class Ticking:
    """A monotonic clock moved by the test."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_a_client_disabled_in_this_process_is_refused_at_the_next_request(app, web, service):
    assert token(web, service).status_code == 200  # the client is now held
    change(app, service[0], disable_client)
    assert token(web, service).status_code == 401


def test_a_rotated_secret_is_required_at_the_next_request(app, web, service):
    assert token(web, service).status_code == 200
    new_secrets = []
    change(app, service[0], lambda client: new_secrets.append(rotate_secret(client)))
    assert token(web, service).status_code == 401
    assert token(web, (service[0], new_secrets[0])).status_code == 200


def test_a_scope_narrowed_in_this_process_applies_at_the_next_request(app, web, service):
    assert token(web, service).json["scope"] == "profile"
    change(app, service[0], lambda client: update_client(client, scope="email"))
    assert token(web, service).json["scope"] == "email"


def test_another_process_sees_a_change_within_the_recheck_time(app, build, web, service):
    """App B shares A's database but not its memory, as a second worker or instance would."""
    other = build({}, empty=False)
    other.extensions[EXTENSION].clock = clock = Ticking()
    other_web = other.test_client()
    assert token(other_web, service).status_code == 200
    change(app, service[0], disable_client)
    assert token(web, service).status_code == 401           # A: at once
    clock.now += other.config["SERVER"]["CLIENTS_RECHECK_SECONDS"] - 0.5
    assert token(other_web, service).status_code == 200     # B: still its copy
    clock.now += 1
    assert token(other_web, service).status_code == 401     # B: read again, and refused


def test_with_no_recheck_time_every_request_reads_the_client(app, build, web, service):
    other = build({"SERVER": {"CLIENTS_RECHECK_SECONDS": 0}}, empty=False)
    other_web = other.test_client()
    assert token(other_web, service).status_code == 200
    change(app, service[0], disable_client)
    assert token(other_web, service).status_code == 401


def test_a_held_client_costs_no_statement_and_survives_commits(app, web, service):
    assert token(web, service).status_code == 200
    with app.app_context():
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            from idp.oidc.clients import active_client

            held = active_client(service[0])
            db.session.commit()  # expires what the session holds: the copy is in no session
            assert held.name == "Batch" and held.client_id == service[0]
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    assert not any("oauth_clients" in statement for statement in statements), statements


def test_unknown_client_ids_are_not_held(app, web):
    for number in range(5):
        assert token(web, (f"made-up-{number}", "secret")).status_code == 401
    assert app.extensions[EXTENSION]._held == {}


@pytest.mark.parametrize("value", ["5", -1, True, None])
def test_a_recheck_time_that_is_no_number_of_seconds_is_refused_at_start(build, value):
    with pytest.raises(ValueError, match="CLIENTS_RECHECK_SECONDS"):
        build({"SERVER": {"CLIENTS_RECHECK_SECONDS": value}}, empty=False)
