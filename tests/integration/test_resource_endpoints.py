"""Userinfo (OIDC Core 5.3), revocation (RFC 7009) and introspection (RFC 7662)."""

from __future__ import annotations


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_userinfo_by_get_with_bearer_header(flow):
    tokens = flow.tokens(flow.secret)
    response = flow.web.get("/userinfo", headers=bearer(tokens["access_token"]))
    assert response.status_code == 200
    info = response.json
    assert info["moc_account_type"] == "temporary" and info["moc_staff"] is False
    assert info["email"] == "somchai@example.com" and info["given_name"] == "สมชาย"


def test_userinfo_by_post_with_the_token_in_the_form_body(flow):
    tokens = flow.tokens(flow.secret)
    response = flow.web.post("/userinfo", data={"access_token": tokens["access_token"]})
    assert response.status_code == 200 and response.json["sub"]


def test_userinfo_releases_claims_by_scope_only(flow):
    tokens = flow.tokens(flow.secret, scope="openid")
    info = flow.web.get("/userinfo", headers=bearer(tokens["access_token"])).json
    assert "email" not in info and "given_name" not in info and "moc_department" not in info
    assert {"sub", "moc_staff", "moc_account_type", "moc_account_expires_at"} <= set(info)


def test_userinfo_without_a_token_asks_for_bearer(web):
    response = web.get("/userinfo")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_userinfo_with_a_bad_token_says_invalid_token(web):
    response = web.get("/userinfo", headers=bearer("not-a-token"))
    assert response.status_code == 401 and 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_userinfo_refuses_an_expired_access_token(flow, clock):
    tokens = flow.tokens(flow.secret)
    clock.advance(seconds=tokens["expires_in"] + 1)
    assert flow.web.get("/userinfo", headers=bearer(tokens["access_token"])).status_code == 401


def test_revoking_the_refresh_token_revokes_the_grant(flow):
    tokens = flow.tokens(flow.secret)
    response = flow.web.post("/revoke", data={"token": tokens["refresh_token"],
                                              "token_type_hint": "refresh_token"},
                             auth=(flow.client_id, flow.secret))
    assert response.status_code == 200
    assert flow.web.get("/userinfo", headers=bearer(tokens["access_token"])).status_code == 401


def test_revoking_an_unknown_token_still_answers_200(flow):
    """RFC 7009 2.2: "invalid tokens do not cause an error response"."""
    response = flow.web.post("/revoke", data={"token": "unknown"}, auth=(flow.client_id, flow.secret))
    assert response.status_code == 200


def test_revocation_requires_client_authentication(flow):
    tokens = flow.tokens(flow.secret)
    response = flow.web.post("/revoke", data={"token": tokens["access_token"]},
                             auth=(flow.client_id, "wrong"))
    assert response.status_code == 401
    assert flow.web.get("/userinfo", headers=bearer(tokens["access_token"])).status_code == 200


def test_a_client_cannot_revoke_another_clients_token(flow, make_client):
    tokens = flow.tokens(flow.secret)
    other_id, other_secret = make_client(name="Other")
    flow.web.post("/revoke", data={"token": tokens["access_token"]}, auth=(other_id, other_secret))
    assert flow.web.get("/userinfo", headers=bearer(tokens["access_token"])).status_code == 200


def introspect(flow, token, client=None):
    return flow.web.post("/introspect", data={"token": token},
                         auth=client or (flow.client_id, flow.secret))


def test_introspection_describes_an_active_token(flow):
    tokens = flow.tokens(flow.secret)
    body = introspect(flow, tokens["access_token"]).json
    assert body["active"] is True and body["client_id"] == flow.client_id
    assert body["scope"] == "openid profile email moc offline_access" and body["sub"]


def test_introspection_of_a_revoked_or_unknown_token_is_inactive(flow):
    tokens = flow.tokens(flow.secret)
    flow.web.post("/revoke", data={"token": tokens["access_token"]}, auth=(flow.client_id, flow.secret))
    assert introspect(flow, tokens["access_token"]).json == {"active": False}
    assert introspect(flow, "unknown").json == {"active": False}


def test_introspection_by_another_client_says_inactive(flow, make_client):
    tokens = flow.tokens(flow.secret)
    other = make_client(name="Other")
    assert introspect(flow, tokens["access_token"], other).json == {"active": False}


def test_introspection_requires_an_authenticated_client(flow):
    tokens = flow.tokens(flow.secret)
    response = flow.web.post("/introspect", data={"token": tokens["access_token"]})
    assert response.status_code in (400, 401) and response.json["error"] == "invalid_client"
