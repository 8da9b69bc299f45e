"""UserInfo answered before the app (idp/oidc/userinfo.py): the same answers as any endpoint
(headers, request id; its access line is checked in test_logs.py), and what it cannot answer
goes on to the app: HEAD, and a call whose database is down, which gets the app's 503."""

from __future__ import annotations

import re

from tests.support.faults import closed_port


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_the_answer_carries_the_headers_every_response_has(flow):
    access = flow.tokens(flow.secret)["access_token"]
    response = flow.web.get("/userinfo", headers=bearer(access))
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Pragma"] == "no-cache"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
    assert "Set-Cookie" not in response.headers  # no session for a server-to-server call
    assert int(response.headers["Content-Length"]) == len(response.get_data())


def test_a_token_in_both_the_header_and_the_body_is_refused(flow):
    """RFC 6750 2: a client "MUST NOT use more than one method to transmit the token"."""
    access = flow.tokens(flow.secret)["access_token"]
    response = flow.web.post("/userinfo", headers=bearer(access), data={"access_token": access})
    assert response.status_code == 401 and response.json["error"] == "invalid_request"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="userinfo"'


def test_a_bad_token_is_named_in_www_authenticate(web):
    response = web.get("/userinfo", headers=bearer("not-a-token"))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')


def test_head_goes_to_the_app_and_answers_like_get_without_a_body(flow):
    access = flow.tokens(flow.secret)["access_token"]
    response = flow.web.head("/userinfo", headers=bearer(access))
    assert response.status_code == 200 and response.get_data() == b""
    assert response.headers["Cache-Control"] == "no-store"


def test_a_database_that_is_down_gets_the_apps_503(build):
    app = build({"DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/idp"},
                empty=False)
    web = app.test_client()
    for send in (lambda: web.get("/userinfo", headers=bearer("some-token")),
                 lambda: web.post("/userinfo", data={"access_token": "some-token"})):
        response = send()
        assert response.status_code == 503 and response.headers["Retry-After"]
        assert response.json["error"] == "temporarily_unavailable"
