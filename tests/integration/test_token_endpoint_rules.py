"""The token endpoint's own rules around Authlib: the per-client request limit
(RATE_LIMITS.TOKEN_PER_CLIENT), repeated parameters, and database conflicts."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from idp.audit import AuditEvent
from idp.db import db


@pytest.fixture
def limited(app):
    app.config["RATE_LIMITS"]["TOKEN_PER_CLIENT"] = "3 per minute"
    return app


def service(make_client, name):
    return make_client(name=name, redirect_uris=[], grant_types=["client_credentials"],
                       scope="profile", post_logout_redirect_uris=[])


def token(web, auth, **form):
    return web.post("/token", data={"grant_type": "client_credentials", **form}, auth=auth)


def test_the_limit_hits_one_client_and_not_another_from_the_same_address(limited, web, make_client):
    first, second = service(make_client, "A"), service(make_client, "B")
    assert [token(web, first).status_code for _ in range(3)] == [200, 200, 200]
    refused = token(web, first)
    assert refused.status_code == 429
    assert refused.json["error"] == "slow_down"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["Cache-Control"] == "no-store"
    assert token(web, second).status_code == 200


def test_the_limit_counts_the_client_id_sent_in_the_form_too(limited, web, make_client):
    client_id, secret = make_client(name="Form", redirect_uris=[], post_logout_redirect_uris=[],
                                    grant_types=["client_credentials"], scope="profile",
                                    auth_method="client_secret_post")
    answers = [token(web, None, client_id=client_id, client_secret=secret).status_code
               for _ in range(4)]
    assert answers == [200, 200, 200, 429]


def test_requests_without_the_secret_do_not_use_up_a_clients_budget(limited, web, make_client):
    client_id, secret = service(make_client, "Victim")
    assert {token(web, (client_id, "guess")).status_code for _ in range(5)} == {401}
    assert token(web, (client_id, secret)).status_code == 200


def test_running_out_is_audited_once(limited, app, web, make_client):
    client = service(make_client, "Busy")
    for _ in range(5):
        token(web, client)
    with app.app_context():
        events = db.session.execute(db.select(AuditEvent).filter_by(
            tag="oidc:token:rate_limited")).scalars().all()
    assert [event.client_id for event in events] == [client[0]]


@pytest.mark.parametrize("repeated", ["grant_type", "scope", "code", "client_id"])
def test_repeated_parameters_at_the_token_endpoint_are_refused(flow, repeated):
    """RFC 6749 3.2: "Request and response parameters MUST NOT be included more than once"."""
    code = flow.code()
    data = [("grant_type", "authorization_code"), ("code", code),
            ("redirect_uri", flow.redirect_uri), ("code_verifier", flow.verifier),
            ("scope", "openid"), ("client_id", flow.client_id)]
    data += [(name, value) for name, value in data if name == repeated]
    response = flow.web.post("/token", data=MultiDict(data), auth=(flow.client_id, flow.secret))
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"
    assert repeated in response.json["error_description"]


# --- deadlocks and serialization failures -------------------------------------------------

class DatabaseConflicts:
    """Makes the database answer the next ``count`` token claims with a PostgreSQL deadlock
    (SQLSTATE 40P01), as the server does when it picks the request as the victim."""

    def __init__(self, engine, count: int):
        self.engine, self.count, self.raised = engine, count, 0

    def __enter__(self):
        sa.event.listen(self.engine, "before_cursor_execute", self.conflict)
        return self

    def __exit__(self, *exc):
        sa.event.remove(self.engine, "before_cursor_execute", self.conflict)

    def conflict(self, _conn, _cursor, statement, parameters, _context, _many):
        if self.raised < self.count and statement.startswith("UPDATE oauth_tokens SET refresh_used_at"):
            self.raised += 1
            raise sa.exc.OperationalError(statement, parameters, psycopg.errors.DeadlockDetected())


def refresh(flow, refresh_token):
    return flow.web.post("/token", data={"grant_type": "refresh_token",
                                         "refresh_token": refresh_token},
                         auth=(flow.client_id, flow.secret))


def test_a_deadlocked_refresh_is_run_again_and_succeeds(app, flow):
    tokens = flow.tokens(flow.secret)
    with app.app_context(), DatabaseConflicts(db.engine, 1) as conflicts:
        response = refresh(flow, tokens["refresh_token"])
    assert conflicts.raised == 1
    assert response.status_code == 200 and response.json["refresh_token"]


def test_a_refresh_that_keeps_deadlocking_gets_invalid_grant_not_a_500(app, flow):
    tokens = flow.tokens(flow.secret)
    with app.app_context(), DatabaseConflicts(db.engine, 100) as conflicts:
        response = refresh(flow, tokens["refresh_token"])
    assert conflicts.raised == 3
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"
