"""The token endpoint: client authentication, single-use codes, PKCE, refresh rotation."""

from __future__ import annotations

import threading

import pytest

from tests.support.flows import Flow, decode_jwt


def test_client_using_another_auth_method_than_registered_is_refused(flow):
    code = flow.code()
    response = flow.exchange(code, None, client_id=flow.client_id, client_secret=flow.secret)
    assert response.status_code == 401  # this client is registered for client_secret_basic
    assert response.json["error"] == "invalid_client"


def test_client_registered_for_client_secret_post_uses_the_form(web, make_user, make_client):
    make_user()
    client_id, secret = make_client(auth_method="client_secret_post")
    the_flow = Flow(web, client_id)
    response = the_flow.exchange(the_flow.code(), None, client_id=client_id, client_secret=secret)
    assert response.status_code == 200 and response.json["id_token"]


def test_public_client_redeems_with_pkce_and_no_secret(web, make_user, make_client):
    make_user()
    client_id, secret = make_client(auth_method="none")
    assert secret is None
    the_flow = Flow(web, client_id)
    response = the_flow.exchange(the_flow.code(), None, client_id=client_id)
    assert response.status_code == 200


def test_wrong_client_secret_gets_401_with_www_authenticate(flow):
    response = flow.exchange(flow.code(), "wrong-secret")
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic")


def test_token_responses_are_not_cached(flow):
    ok = flow.exchange(flow.code(), flow.secret)
    bad = flow.exchange("nope", flow.secret)
    for response in (ok, bad):
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Pragma"] == "no-cache"


def test_code_is_single_use_and_reuse_revokes_the_tokens_it_issued(flow):
    code = flow.code()
    first = flow.exchange(code, flow.secret)
    assert first.status_code == 200
    second = flow.exchange(code, flow.secret)
    assert second.status_code == 400 and second.json["error"] == "invalid_grant"
    userinfo = flow.web.get("/userinfo", headers={"Authorization": f"Bearer {first.json['access_token']}"})
    assert userinfo.status_code == 401
    refresh = flow.web.post("/token", data={"grant_type": "refresh_token",
                                            "refresh_token": first.json["refresh_token"]},
                            auth=(flow.client_id, flow.secret))
    assert refresh.status_code == 400


def test_two_parallel_redemptions_of_one_code_have_exactly_one_winner(app, flow):
    code = flow.code()
    results, barrier = [], threading.Barrier(4)

    def redeem():
        client = app.test_client()
        barrier.wait()
        results.append(client.post("/token", data={
            "grant_type": "authorization_code", "code": code,
            "redirect_uri": flow.redirect_uri, "code_verifier": flow.verifier,
        }, auth=(flow.client_id, flow.secret)).status_code)

    threads = [threading.Thread(target=redeem) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 400, 400, 400]


def test_expired_code_is_refused(flow, clock):
    code = flow.code()
    clock.advance(seconds=61)
    response = flow.exchange(code, flow.secret)
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"


def test_code_issued_to_another_client_is_refused(flow, make_client):
    code = flow.code()
    other_id, other_secret = make_client(name="Other")
    response = flow.web.post("/token", data={"grant_type": "authorization_code", "code": code,
                                             "redirect_uri": flow.redirect_uri,
                                             "code_verifier": flow.verifier},
                             auth=(other_id, other_secret))
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"


def test_redirect_uri_must_match_the_authorization_request(flow):
    response = flow.exchange(flow.code(), flow.secret, redirect_uri="https://rp.example/other")
    assert response.json["error"] == "invalid_grant"


def test_missing_code_verifier_is_refused(flow):
    response = flow.exchange(flow.code(), flow.secret, code_verifier=None)
    assert response.status_code == 400 and response.json["error"] == "invalid_request"


def test_wrong_code_verifier_is_refused(flow):
    response = flow.exchange(flow.code(), flow.secret, code_verifier="x" * 50)
    assert response.json["error"] == "invalid_grant"


def test_code_verifier_without_a_challenge_is_refused(flow):
    """RFC 9700 2.1.1: the server must reject a code_verifier when no code_challenge was sent."""
    code = flow.code(code_challenge=None, code_challenge_method=None)
    assert flow.exchange(code, flow.secret).json["error"] == "invalid_grant"


def test_confidential_client_may_skip_pkce_unless_required(flow):
    code = flow.code(code_challenge=None, code_challenge_method=None)
    assert flow.exchange(code, flow.secret, code_verifier=None).status_code == 200


def test_unsupported_grant_type(flow):
    response = flow.web.post("/token", data={"grant_type": "password", "username": "a",
                                             "password": "b"}, auth=(flow.client_id, flow.secret))
    assert response.json["error"] == "unsupported_grant_type"


def refresh(flow, token, secret=None):
    return flow.web.post("/token", data={"grant_type": "refresh_token", "refresh_token": token},
                         auth=(flow.client_id, secret or flow.secret))


def test_refresh_rotates_and_keeps_the_original_authentication(app, flow, clock):
    tokens = flow.tokens(flow.secret)
    clock.advance(minutes=5)
    refreshed = refresh(flow, tokens["refresh_token"])
    assert refreshed.status_code == 200
    assert refreshed.json["refresh_token"] != tokens["refresh_token"]
    old, new = decode_jwt(app, tokens["id_token"]), decode_jwt(app, refreshed.json["id_token"])
    assert (new["sub"], new["auth_time"], new["sid"]) == (old["sub"], old["auth_time"], old["sid"])
    assert new["iat"] > old["iat"]


def test_reusing_an_old_refresh_token_revokes_the_whole_family(flow):
    tokens = flow.tokens(flow.secret)
    newer = refresh(flow, tokens["refresh_token"]).json
    reuse = refresh(flow, tokens["refresh_token"])
    assert reuse.status_code == 400 and reuse.json["error"] == "invalid_grant"
    assert refresh(flow, newer["refresh_token"]).status_code == 400
    assert flow.web.get("/userinfo", headers={
        "Authorization": f"Bearer {newer['access_token']}"}).status_code == 401


def test_refresh_cannot_widen_the_scope(flow):
    tokens = flow.tokens(flow.secret, scope="openid email offline_access")
    response = flow.web.post("/token", data={"grant_type": "refresh_token", "scope": "openid profile",
                                             "refresh_token": tokens["refresh_token"]},
                             auth=(flow.client_id, flow.secret))
    assert response.json["error"] == "invalid_scope"


def test_no_refresh_token_without_offline_access(flow):
    assert "refresh_token" not in flow.tokens(flow.secret, scope="openid email")


def test_refresh_token_of_another_client_is_refused(flow, make_client):
    tokens = flow.tokens(flow.secret)
    other_id, other_secret = make_client(name="Other")
    response = flow.web.post("/token", data={"grant_type": "refresh_token",
                                             "refresh_token": tokens["refresh_token"]},
                             auth=(other_id, other_secret))
    assert response.json["error"] == "invalid_grant"


def test_es256_client_gets_es256_id_tokens(app, web, make_user, make_client):
    from joserfc.jws import extract_compact

    from idp.db import db
    from idp.oidc.clients import find_client

    make_user()
    client_id, secret = make_client()
    with app.app_context():
        find_client(client_id).id_token_signed_response_alg = "ES256"
        db.session.commit()
    id_token = Flow(web, client_id).tokens(secret)["id_token"]
    header = extract_compact(id_token.encode()).protected
    assert header["alg"] == "ES256" and header["kid"].startswith("es256")
    assert decode_jwt(app, id_token)["aud"] == client_id


@pytest.mark.parametrize("verifier", ["a" * 42, "a" * 129, "a" * 42 + "+", "a" * 42 + " ",
                                      "ก" * 43])
def test_a_malformed_code_verifier_is_refused_even_if_it_matches(web, make_user, make_client, verifier):
    """RFC 7636 4.1: code-verifier = 43*128unreserved; a malformed parameter is invalid_request
    (RFC 6749 5.2)."""
    from idp.oidc.grants import s256

    make_user()
    client_id, secret = make_client()
    the_flow = Flow(web, client_id)
    the_flow.verifier, the_flow.challenge = verifier, s256(verifier)
    response = the_flow.exchange(the_flow.code(), secret)
    assert response.status_code == 400 and response.json["error"] == "invalid_request"


@pytest.mark.parametrize("length", [43, 128])
def test_code_verifiers_of_43_and_128_characters_are_accepted(web, make_user, make_client, length):
    from idp.oidc.grants import s256

    make_user()
    client_id, secret = make_client()
    the_flow = Flow(web, client_id)
    the_flow.verifier = ("Az09-._~" * 20)[:length]
    the_flow.challenge = s256(the_flow.verifier)
    assert the_flow.exchange(the_flow.code(), secret).status_code == 200
