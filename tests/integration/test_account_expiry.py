"""No token outlives its account: expiry and disabling, with an injectable clock."""

from __future__ import annotations

from datetime import timedelta

from tests.support.flows import decode_jwt, query_of


def set_expiry(app, at):
    from idp.accounts.service import find_by_email
    from idp.db import db

    with app.app_context():
        find_by_email("somchai@example.com").expires_at = at
        db.session.commit()


def test_temporary_account_expires_sixty_days_after_signup(app, flow, clock):
    claims = decode_jwt(app, flow.tokens(flow.secret)["id_token"])
    assert claims["moc_account_expires_at"] == int((clock.now() + timedelta(days=60)).timestamp())


def test_token_lifetimes_are_capped_at_the_account_expiry(app, flow, clock):
    set_expiry(app, clock.now() + timedelta(seconds=90))
    tokens = flow.tokens(flow.secret)
    claims = decode_jwt(app, tokens["id_token"])
    assert claims["exp"] == claims["moc_account_expires_at"]
    assert tokens["expires_in"] == 90


def test_expired_account_gets_no_code(app, flow, clock):
    flow.code()
    set_expiry(app, clock.now() + timedelta(seconds=10))
    clock.advance(seconds=10)
    response = flow.authorize()
    assert response.status_code == 403
    assert "Location" not in response.headers


def test_expired_account_with_prompt_none_gets_login_required(app, flow, clock):
    flow.code()
    set_expiry(app, clock.now())
    assert query_of(flow.authorize(prompt="none").headers["Location"])["error"] == "login_required"


def test_code_issued_before_expiry_cannot_be_redeemed_after_it(app, flow, clock):
    set_expiry(app, clock.now() + timedelta(seconds=30))
    code = flow.code()
    clock.advance(seconds=30)
    response = flow.exchange(code, flow.secret)
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"


def test_refresh_fails_after_the_temporary_account_expires(app, flow, clock):
    set_expiry(app, clock.now() + timedelta(hours=1))
    tokens = flow.tokens(flow.secret)
    clock.advance(minutes=59, seconds=59)
    again = flow.web.post("/token", data={"grant_type": "refresh_token",
                                          "refresh_token": tokens["refresh_token"]},
                          auth=(flow.client_id, flow.secret))
    assert again.status_code == 200
    clock.advance(seconds=1)
    late = flow.web.post("/token", data={"grant_type": "refresh_token",
                                         "refresh_token": again.json["refresh_token"]},
                         auth=(flow.client_id, flow.secret))
    assert late.status_code == 400 and late.json["error"] == "invalid_grant"


def test_introspection_says_inactive_once_the_account_expired(app, flow, clock):
    tokens = flow.tokens(flow.secret)
    set_expiry(app, clock.now() + timedelta(seconds=1))
    clock.advance(seconds=1)
    body = flow.web.post("/introspect", data={"token": tokens["refresh_token"]},
                         auth=(flow.client_id, flow.secret)).json
    assert body == {"active": False}


def test_disabled_account_tokens_stop_working(app, flow, clock):
    from idp.accounts.service import find_by_email
    from idp.db import db

    tokens = flow.tokens(flow.secret)
    with app.app_context():
        find_by_email("somchai@example.com").disabled_at = clock.now()
        db.session.commit()
    assert flow.web.get("/userinfo", headers={
        "Authorization": f"Bearer {tokens['access_token']}"}).status_code == 401
    refresh = flow.web.post("/token", data={"grant_type": "refresh_token",
                                            "refresh_token": tokens["refresh_token"]},
                            auth=(flow.client_id, flow.secret))
    assert refresh.status_code == 400


def test_permanent_account_says_it_never_expires(app, web, make_user, make_client):
    from tests.support.flows import Flow

    make_user(email="p@example.com", permanent=True)
    client_id, secret = make_client()
    the_flow = Flow(web, client_id)
    response = the_flow.follow(the_flow.authorize(), email="p@example.com")
    tokens = the_flow.exchange(query_of(response.headers["Location"])["code"], secret).json
    claims = decode_jwt(app, tokens["id_token"])
    assert claims["moc_account_type"] == "permanent" and claims["moc_account_expires_at"] is None
