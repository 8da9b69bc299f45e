"""RP-Initiated Logout 1.0 and Back-Channel Logout 1.0."""

from __future__ import annotations

from urllib.parse import urlencode

from tests.support.flows import ISSUER, csrf_token, decode_jwt, hidden_fields, query_of


def signed_in(flow) -> dict:
    return flow.tokens(flow.secret)


def is_signed_in(flow) -> bool:
    return "code" in query_of(flow.authorize(prompt="none").headers["Location"])


def test_logout_with_id_token_hint_ends_the_session_and_redirects_with_state(flow):
    tokens = signed_in(flow)
    response = flow.web.get("/logout?" + urlencode({
        "id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "https://rp.example/",
        "state": "bye"}))
    assert response.status_code == 302
    assert response.headers["Location"] == "https://rp.example/?state=bye"
    assert not is_signed_in(flow)
    assert flow.web.get("/userinfo", headers={
        "Authorization": f"Bearer {tokens['access_token']}"}).status_code == 401


def test_logout_without_a_hint_asks_for_confirmation_first(flow):
    signed_in(flow)
    page = flow.web.get("/logout")
    assert page.status_code == 200 and is_signed_in(flow)
    html = page.get_data(as_text=True)
    response = flow.web.post("/logout/confirm", data={"csrf_token": csrf_token(html), "confirm": "yes"})
    assert response.status_code == 200 and not is_signed_in(flow)


def test_logout_confirmation_without_csrf_token_is_refused(flow):
    signed_in(flow)
    assert flow.web.post("/logout/confirm", data={"confirm": "yes"}).status_code == 400
    assert is_signed_in(flow)


def test_unregistered_post_logout_redirect_uri_is_an_error_page(flow):
    tokens = signed_in(flow)
    response = flow.web.get("/logout?" + urlencode({
        "id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "https://evil.example/"}))
    assert response.status_code == 400 and "Location" not in response.headers
    assert is_signed_in(flow)


def test_confirmation_keeps_the_post_logout_redirect(flow):
    signed_in(flow)
    page = flow.web.get("/logout?" + urlencode({
        "client_id": flow.client_id, "post_logout_redirect_uri": "https://rp.example/", "state": "s"}))
    html = page.get_data(as_text=True)
    fields = hidden_fields(html)
    fields["confirm"] = "yes"
    response = flow.web.post("/logout/confirm", data=fields)
    assert response.headers["Location"] == "https://rp.example/?state=s"


def test_back_channel_logout_token_is_sent_to_each_client_of_the_session(app, flow, make_client, http):
    from tests.support.flows import Flow

    bc_id, bc_secret = make_client(name="BC", backchannel_logout_uri="https://rp.example/bc")
    Flow(flow.web, bc_id).code()
    tokens = signed_in(flow)
    sid = decode_jwt(app, tokens["id_token"])["sid"]
    flow.web.get("/logout?" + urlencode({"id_token_hint": tokens["id_token"]}))
    assert [url for url, _ in http.posts] == ["https://rp.example/bc"]
    claims = decode_jwt(app, http.posts[0][1]["logout_token"])
    assert claims["iss"] == ISSUER and claims["aud"] == bc_id and claims["sid"] == sid
    assert "http://schemas.openid.net/event/backchannel-logout" in claims["events"]
    assert "nonce" not in claims and claims["jti"]


def test_logout_completes_when_the_back_channel_receiver_is_down(app, flow, make_client, http):
    from tests.support.flows import Flow

    bc_id, _ = make_client(name="BC", backchannel_logout_uri="https://rp.example/bc")
    Flow(flow.web, bc_id).code()
    http.fail = True
    tokens = signed_in(flow)
    flow.web.get("/logout?" + urlencode({"id_token_hint": tokens["id_token"]}))
    assert not is_signed_in(flow)
    with app.app_context():
        from idp.audit import events

        assert [e.tag for e in events("oidc:backchannel")] == ["oidc:backchannel:failed"]
