"""The query budget: how many SQL statements each hot endpoint sends. A change that adds one
fails here; lower a budget when a change saves one. (Statements, not timings: the figures for
time are in docs/performance.md and the benchmark.)"""

from __future__ import annotations

import pytest

from idp.db import db
from tests.support.flows import query_of
from tests.support.queries import counting_statements

# endpoint → statements per request (SELECT, INSERT, UPDATE, DELETE; no BEGIN/COMMIT counted:
# the driver sends those itself).
BUDGET = {
    # The client is read once and then held by the process (idp/oidc/client_cache.py): these
    # are the statements of a request whose client was used in the last few seconds.
    "discovery": 0,                       # prepared bytes, before the app
    "jwks": 0,
    "authorize with an SSO session": 4,   # session with its person, consent; event, code
    "code redemption": 3,                 # claim the code, read it with its person; token
    "token refresh": 4,                   # the family's lock (PostgreSQL only: parallel
                                          # refreshes queue instead of deadlocking); claim the
                                          # token, read it with its person; token
    "userinfo": 1,                        # the token with its client and person, joined
    "introspection": 1,                   # the token, joined as above (the caller is held)
}


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def signed_in(app, flow):
    """A person signed in once; the client has their consent (so /authorize shows no page)."""
    app.config["AUDIT"] = {**app.config["AUDIT"], "SEAL_IN_BACKGROUND": False}
    flow.tokens(flow.secret)
    return flow


def redeem(flow, code):
    return flow.exchange(code, flow.secret)


def requests_of(flow):
    """One request per endpoint of the budget, each after what it needs was prepared."""
    tokens = flow.tokens(flow.secret)
    yield "discovery", lambda: flow.web.get("/.well-known/openid-configuration")
    yield "jwks", lambda: flow.web.get("/jwks.json")
    yield "authorize with an SSO session", lambda: flow.authorize()
    code = query_of(flow.authorize().headers["Location"])["code"]
    yield "code redemption", lambda: redeem(flow, code)
    yield "token refresh", lambda: flow.web.post(
        "/token", data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(flow.client_id, flow.secret))
    yield "userinfo", lambda: flow.web.get("/userinfo", headers=bearer(tokens["access_token"]))
    yield "introspection", lambda: flow.web.post(
        "/introspect", data={"token": tokens["access_token"]}, auth=(flow.client_id, flow.secret))


def budget_on(app) -> dict:
    """The budget for the test database: SQLite takes no row locks, so a refresh sends no
    family lock there."""
    with app.app_context():
        sqlite = db.engine.dialect.name == "sqlite"
    return {**BUDGET, "token refresh": BUDGET["token refresh"] - 1} if sqlite else BUDGET


def test_each_hot_endpoint_stays_within_its_query_budget(app, signed_in):
    budget = budget_on(app)
    spent = {}
    for name, send in requests_of(signed_in):
        with counting_statements(app) as statements:
            response = send()
        assert response.status_code in (200, 302), (name, response.get_data(as_text=True))
        spent[name] = statements
    over = {name: (len(log), budget[name], log) for name, log in spent.items()
            if len(log) > budget[name]}
    assert not over, over
    assert {name: len(log) for name, log in spent.items()} == budget  # lower the table
