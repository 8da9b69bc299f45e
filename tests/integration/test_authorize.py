"""The authorization endpoint: validation, error delivery, prompt, max_age, hints, modes."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from tests.support.flows import ISSUER, hidden_fields, query_of


def rp_error(response) -> dict:
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].startswith("https://rp.example/callback")
    return query_of(response.headers["Location"])


@pytest.mark.parametrize("redirect_uri", [
    "https://evil.example/callback",
    "https://rp.example/callback/",          # not the exact string
    "https://rp.example/callback?x=1",
    "https://RP.example/callback",
    None,
])
def test_unregistered_redirect_uri_gets_an_error_page_and_never_a_redirect(flow, redirect_uri):
    """RFC 6749 4.1.2.1: "the authorization server ... MUST NOT automatically redirect the
    user-agent to the invalid redirection URI"."""
    params = flow.params(redirect_uri=redirect_uri)
    params.pop("redirect_uri", None) if redirect_uri is None else None
    response = flow.web.get("/authorize?" + urlencode(params))
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "redirect_uri" in response.get_data(as_text=True)


def test_unknown_client_gets_an_error_page(flow):
    response = flow.web.get("/authorize?" + urlencode(flow.params(client_id="nobody")))
    assert response.status_code == 400 and "Location" not in response.headers


def test_post_to_the_authorization_endpoint_works_like_get(flow):
    response = flow.web.post("/authorize", data=flow.params())
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?interaction=")


@pytest.mark.parametrize("change, error", [
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"response_type": None}, "invalid_request"),
    ({"scope": "profile email"}, "invalid_scope"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge": "too-short", "code_challenge_method": "S256"}, "invalid_request"),
    ({"prompt": "none login"}, "invalid_request"),
    ({"prompt": "bogus"}, "invalid_request"),
    ({"max_age": "-1"}, "invalid_request"),
    ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
    ({"request_uri": "https://rp.example/request.jwt"}, "request_uri_not_supported"),
    ({"response_mode": "fragment"}, "invalid_request"),
])
def test_invalid_requests_are_sent_back_to_the_client_with_state_and_iss(flow, change, error):
    query = rp_error(flow.authorize(state="keep-me", **change))
    assert query["error"] == error
    assert query["state"] == "keep-me" and query["iss"] == ISSUER


def test_public_client_without_pkce_is_refused(web, make_user, make_client):
    from tests.support.flows import Flow

    make_user()
    client_id, _ = make_client(auth_method="none")
    query = rp_error(Flow(web, client_id).authorize(code_challenge=None, code_challenge_method=None))
    assert query["error"] == "invalid_request" and "PKCE" in query["error_description"]


def test_client_set_to_require_pkce_refuses_a_request_without_it(web, make_user, make_client):
    from tests.support.flows import Flow

    client_id, _ = make_client(require_pkce=True)
    query = rp_error(Flow(web, client_id).authorize(code_challenge=None, code_challenge_method=None))
    assert query["error"] == "invalid_request"


def test_unknown_parameters_are_ignored(flow):
    assert flow.code(foo="bar", claims='{"id_token":{"moc_staff":{"value":true}}}')


def test_prompt_none_without_a_session_returns_login_required(flow):
    query = rp_error(flow.authorize(prompt="none"))
    assert query["error"] == "login_required"


def test_prompt_none_with_a_session_and_consent_returns_a_code(flow):
    flow.code()
    query = rp_error(flow.authorize(prompt="none"))
    assert "code" in query


def test_prompt_none_without_consent_returns_consent_required(flow):
    flow.sign_in()
    query = rp_error(flow.authorize(prompt="none"))
    assert query["error"] == "consent_required"


def test_prompt_login_forces_a_fresh_sign_in(app, flow, clock):
    from tests.support.flows import decode_jwt

    first = decode_jwt(app, flow.tokens(flow.secret)["id_token"])
    clock.advance(minutes=5)
    response = flow.authorize(prompt="login")
    assert response.headers["Location"].startswith("/login")
    second = decode_jwt(app, flow.exchange(query_of(flow.follow(response).headers["Location"])["code"],
                                           flow.secret).json["id_token"])
    assert second["auth_time"] >= first["auth_time"] + 300


def test_max_age_forces_a_fresh_sign_in_when_the_session_is_older(flow, clock):
    flow.code()
    clock.advance(minutes=10)
    assert flow.authorize(max_age="60").headers["Location"].startswith("/login")
    assert "code" in query_of(flow.authorize(max_age="3600").headers["Location"])


def test_max_age_zero_always_asks_to_sign_in_again(flow, clock):
    flow.code()
    clock.advance(seconds=1)
    assert flow.authorize(max_age="0").headers["Location"].startswith("/login")


def test_prompt_consent_shows_the_consent_page_even_after_consent(flow):
    flow.code()
    response = flow.authorize(prompt="consent")
    assert response.headers["Location"].startswith("/consent")


def test_denying_consent_returns_access_denied(flow):
    from tests.support.flows import csrf_token

    response = flow.follow(flow.authorize(), consent=False)
    location = response.headers["Location"]
    page = flow.web.get(location)
    response = flow.web.post("/consent", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                               "interaction": query_of(location)["interaction"],
                                               "decision": "deny"})
    assert rp_error(response)["error"] == "access_denied"


def test_trusted_client_skips_consent(web, make_user, make_client):
    from tests.support.flows import Flow

    make_user()
    client_id, _ = make_client(trusted=True)
    the_flow = Flow(web, client_id)
    the_flow.sign_in()
    assert "code" in query_of(the_flow.authorize().headers["Location"])


def test_consent_is_remembered_for_the_same_scopes_but_asked_again_for_more(flow):
    flow.code(scope="openid email")
    assert "code" in query_of(flow.authorize(scope="openid email").headers["Location"])
    assert flow.authorize(scope="openid email profile").headers["Location"].startswith("/consent")


def test_consent_post_without_csrf_token_is_refused(flow):
    location = flow.follow(flow.authorize(), consent=False).headers["Location"]
    response = flow.web.post("/consent", data={"interaction": query_of(location)["interaction"],
                                               "decision": "allow"})
    assert response.status_code == 400


def test_id_token_hint_of_the_signed_in_person_allows_prompt_none(app, flow):
    id_token = flow.tokens(flow.secret)["id_token"]
    assert "code" in rp_error(flow.authorize(prompt="none", id_token_hint=id_token))


def test_id_token_hint_of_someone_else_returns_login_required_with_prompt_none(flow, make_user):
    id_token = flow.tokens(flow.secret)["id_token"]
    make_user(email="other@example.com")
    flow.sign_in(email="other@example.com")
    assert rp_error(flow.authorize(prompt="none", id_token_hint=id_token))["error"] == "login_required"


def test_id_token_hint_of_someone_else_asks_to_sign_in_again(flow, make_user):
    id_token = flow.tokens(flow.secret)["id_token"]
    make_user(email="other@example.com")
    flow.sign_in(email="other@example.com")
    assert flow.authorize(id_token_hint=id_token).headers["Location"].startswith("/login")


def test_forged_id_token_hint_is_refused(flow):
    query = rp_error(flow.authorize(id_token_hint="eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"))
    assert query["error"] == "invalid_request"


def test_login_hint_prefills_the_email(flow):
    location = flow.authorize(login_hint="hint@example.com").headers["Location"]
    assert 'value="hint@example.com"' in flow.web.get(location).get_data(as_text=True)


def test_ui_locales_chooses_the_language_of_the_login_page(flow):
    location = flow.authorize(ui_locales="en-US th").headers["Location"]
    assert '<html lang="en">' in flow.web.get(location).get_data(as_text=True)


def test_form_post_response_mode_posts_code_state_and_iss(flow):
    flow.code()
    response = flow.authorize(response_mode="form_post", state="st")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'action="https://rp.example/callback"' in html
    fields = hidden_fields(html)
    assert fields["state"] == "st" and fields["iss"] == ISSUER and fields["code"]
    assert response.headers["Cache-Control"] == "no-store"


def test_select_account_lets_the_person_continue_or_switch(flow):
    from tests.support.flows import csrf_token

    flow.code()
    location = flow.authorize(prompt="select_account").headers["Location"]
    assert location.startswith("/select-account")
    page = flow.web.get(location)
    response = flow.web.post("/select-account", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)),
        "interaction": query_of(location)["interaction"], "choice": "continue"})
    assert "code" in query_of(flow.follow(response).headers["Location"])


def test_repeated_parameters_are_refused(flow):
    url = "/authorize?" + urlencode(flow.params()) + "&scope=openid"
    assert rp_error(flow.web.get(url))["error"] == "invalid_request"


def test_scopes_the_client_may_not_have_are_dropped(app, web, make_user, make_client):
    from tests.support.flows import Flow

    make_user()
    client_id, secret = make_client(scope="openid email")
    tokens = Flow(web, client_id).tokens(secret, scope="openid email profile moc")
    assert tokens["scope"] == "openid email"


def test_removing_an_application_on_the_account_page_revokes_consent_and_tokens(flow):
    from tests.support.flows import csrf_token

    tokens = flow.tokens(flow.secret)
    page = flow.web.get("/account").get_data(as_text=True)
    assert "Test RP" in page
    response = flow.web.post(f"/account/applications/{flow.client_id}/revoke",
                             data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert flow.web.get("/userinfo", headers={
        "Authorization": f"Bearer {tokens['access_token']}"}).status_code == 401
    assert flow.authorize().headers["Location"].startswith("/consent")


def test_consent_stored_by_a_parallel_request_is_extended_not_a_server_error(app, flow, monkeypatch):
    """Two consent pages of one person and client sent at once: the second finds no row when
    it looks, the first then stores one, and the second's insert meets the unique row."""
    from tests.support.flows import csrf_token

    flow.code()  # the first consent: a row now exists
    location = flow.authorize(prompt="consent").headers["Location"]
    page = flow.web.get(location).get_data(as_text=True)
    from idp.oidc import consent

    real_find, looked = consent._find, []

    def find_late(user, client_id):  # as if the parallel request had not committed yet
        looked.append(client_id)
        return None if len(looked) == 1 else real_find(user, client_id)

    monkeypatch.setattr(consent, "_find", find_late)
    response = flow.web.post("/consent", data={"csrf_token": csrf_token(page), "decision": "allow",
                                               "interaction": query_of(location)["interaction"]})
    assert response.status_code == 302 and "/authorize/resume" in response.headers["Location"]
    assert len(looked) == 2
