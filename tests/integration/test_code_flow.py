"""The authorization code flow end to end through the Flask test client."""

from __future__ import annotations

from tests.support.flows import ISSUER, decode_jwt, query_of


def test_code_flow_issues_tokens_and_an_id_token_with_the_claims_contract(app, flow):
    tokens = flow.tokens(flow.secret)
    claims = decode_jwt(app, tokens["id_token"])
    assert claims["iss"] == ISSUER
    assert claims["aud"] == flow.client_id and claims["azp"] == flow.client_id
    assert claims["moc_staff"] is False
    assert claims["moc_account_type"] == "temporary"
    assert isinstance(claims["moc_account_expires_at"], int)
    assert claims["exp"] <= claims["moc_account_expires_at"]
    assert {"sub", "iat", "exp", "auth_time", "nonce", "at_hash", "sid"} <= set(claims)
    assert claims["given_name"] == "สมชาย" and claims["email"] == "somchai@example.com"
    assert tokens["token_type"] == "Bearer" and tokens["refresh_token"]


def test_authorization_response_carries_state_and_iss(flow):
    response = flow.follow(flow.authorize(state="xyz"))
    query = query_of(response.headers["Location"])
    assert query["state"] == "xyz"
    assert query["iss"] == ISSUER
