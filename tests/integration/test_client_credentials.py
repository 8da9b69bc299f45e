"""The client_credentials grant (RFC 6749 4.4): machine-to-machine tokens with no user."""

from __future__ import annotations

import pytest

from idp.db import db


@pytest.fixture
def service(make_client):
    return make_client(name="Batch", redirect_uris=[], grant_types=["client_credentials"],
                       scope="openid profile moc", post_logout_redirect_uris=[])


def token(web, client, **form):
    return web.post("/token", data={"grant_type": "client_credentials", **form}, auth=client)


def test_a_service_client_gets_an_access_token_and_nothing_else(web, service):
    """RFC 6749 4.4.3: "A refresh token SHOULD NOT be included"; no person, so no ID token."""
    response = token(web, service)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.json
    assert body["token_type"] == "Bearer" and body["access_token"]
    assert "refresh_token" not in body and "id_token" not in body
    assert body["scope"] == "profile moc"  # openid means a person: never in a service token


def test_the_token_is_active_at_introspection_and_has_no_subject(web, service):
    access = token(web, service).json["access_token"]
    answer = web.post("/introspect", data={"token": access}, auth=service).json
    assert answer["active"] is True and answer["client_id"] == service[0]
    assert "sub" not in answer


def test_the_stored_token_has_no_user(app, web, service):
    from idp.oidc.models import Token

    token(web, service)
    with app.app_context():
        [row] = db.session.execute(db.select(Token)).scalars().all()
        assert row.user_id is None and row.refresh_token_hash is None and row.sid is None


def test_scope_is_limited_to_what_the_admin_allowed(web, service):
    assert token(web, service, scope="moc").json["scope"] == "moc"
    refused = token(web, service, scope="moc email")
    assert refused.status_code == 400 and refused.json["error"] == "invalid_scope"


def test_a_client_without_the_grant_is_refused(web, make_client):
    client = make_client()
    response = token(web, client)
    assert response.status_code == 400 and response.json["error"] == "unauthorized_client"


def test_wrong_secret_is_refused(web, service):
    assert token(web, (service[0], "wrong")).status_code == 401


def test_the_token_is_no_good_at_userinfo(web, service):
    access = token(web, service).json["access_token"]
    assert web.get("/userinfo", headers={"Authorization": f"Bearer {access}"}).status_code == 401


def test_the_token_expires_and_stops_when_the_client_is_disabled(app, web, service, clock):
    access = token(web, service).json["access_token"]
    clock.advance(seconds=901)
    assert web.post("/introspect", data={"token": access}, auth=service).json == {"active": False}
    fresh = token(web, service).json["access_token"]
    from idp.oidc.clients import disable_client, find_client

    with app.app_context():
        disable_client(find_client(service[0]))
        db.session.commit()
    from idp.oidc.presented import find

    with app.app_context():
        assert not find(fresh).is_active()


def test_a_public_client_cannot_have_the_grant(app):
    from idp.oidc.clients import InvalidClientSettings, create_client

    with app.app_context(), pytest.raises(InvalidClientSettings) as refused:
        create_client("SPA", [], grant_types=["client_credentials"], auth_method="none")
    assert "confidential" in str(refused.value)


def test_discovery_lists_the_grant(web):
    assert "client_credentials" in web.get("/.well-known/openid-configuration").json["grant_types_supported"]
